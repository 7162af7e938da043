"""Kedro hooks the handler registers for one invocation: the run store and retry-safe saves.

* ``crossing_datasets``: which datasets of a task cross to another task (pure).
* ``RunHooks.after_catalog_created``: with a data location, every crossing dataset
  the catalog keeps in memory (a ``MemoryDataset``, or no entry at all) is replaced
  by a ``RunScopedDataset`` (see kedro_sfn.runstore).
* ``RunHooks.before_dataset_saved``: a versioned dataset whose save path for this
  run's version already exists was saved by an earlier attempt of this same task
  (a Step Functions retry or a redrive): that folder is removed first, so the
  retry saves instead of failing with Kedro's "must not exist if versioning is
  enabled". Only the run's own version is touched.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, Iterable

from kedro_sfn.datasets import is_parameter

logger = logging.getLogger("kedro_sfn.handler")


@dataclass(frozen=True)
class Crossing:
    """A dataset that a task either writes for another task or reads from one."""

    name: str
    producer: str | None
    consumers: tuple[str, ...]


def _base(name: str) -> str:
    return name.split("@", 1)[0]


def crossing_datasets(nodes: Iterable[Any], task: Iterable[str]) -> list[Crossing]:
    """Datasets that nodes of ``task`` exchange with nodes outside it, by the name the task uses.

    Transcoded spellings (``x@a`` written, ``x@b`` read) are one dataset.
    ``consumers`` are the readers outside the producer's task.
    """
    nodes = list(nodes)
    inside = set(task)
    producer: dict[str, str] = {}
    readers: dict[str, list[str]] = {}
    for node in nodes:
        for out in node.outputs:
            producer[_base(out)] = node.name
        for inp in node.inputs:
            if not is_parameter(inp):
                readers.setdefault(_base(inp), []).append(node.name)
    found: dict[str, Crossing] = {}
    for node in nodes:
        if node.name not in inside:
            continue
        for out in node.outputs:
            outside = tuple(r for r in readers.get(_base(out), []) if r not in inside)
            if outside:
                found[out] = Crossing(out, node.name, outside)
        for inp in node.inputs:
            if is_parameter(inp):
                continue
            made_by = producer.get(_base(inp))
            if made_by is not None and made_by not in inside:
                mine = tuple(r for r in readers.get(_base(inp), []) if r in inside)
                found[inp] = Crossing(inp, made_by, mine)
    return [found[name] for name in sorted(found)]


def data_location() -> str | None:
    """``KEDRO_SFN_DATA_LOCATION`` without a trailing slash, or None when unset."""
    value = (os.environ.get("KEDRO_SFN_DATA_LOCATION") or "").strip().rstrip("/")
    return value or None


def lookup(catalog: Any, name: str) -> Any | None:
    """The catalog's dataset for ``name`` (factory patterns resolved), None when it has none."""
    if hasattr(catalog, "_get_dataset") and not hasattr(catalog, "__setitem__"):  # Kedro 0.19 DataCatalog
        from kedro.io import DatasetNotFoundError

        try:
            return catalog._get_dataset(name, suggest=False)
        except DatasetNotFoundError:
            return None
    return catalog.get(name)  # Kedro 1.x (and 0.19's KedroDataCatalog): None when absent


def put(catalog: Any, name: str, dataset: Any) -> None:
    if hasattr(catalog, "__setitem__"):
        catalog[name] = dataset
    else:
        catalog.add(name, dataset, replace=True)


def is_in_memory(dataset: Any | None) -> bool:
    """Kedro core's own test: absent, or a class that sets ``_EPHEMERAL``."""
    if dataset is None:
        return True
    from kedro.io import MemoryDataset

    return bool(getattr(dataset, "_EPHEMERAL", False)) or isinstance(dataset, MemoryDataset)


class RunHooks:
    """Hooks for one invocation; ``stored`` lists the datasets moved to the run store."""

    def __init__(self, crossings: list[Crossing], location: str | None, run_id: str, env: str):
        self._crossings = crossings
        self._location = location
        self._run_id = run_id
        self._env = env
        self._catalog: Any = None
        self.stored: dict[str, str] = {}
        self.replaced: list[str] = []

    def kedro_hooks(self) -> Any:
        from kedro.framework.hooks import hook_impl

        owner = self

        class KedroSfnRunHooks:
            @hook_impl
            def after_catalog_created(self, catalog: Any) -> None:
                owner.catalog_created(catalog)

            @hook_impl
            def before_dataset_saved(self, dataset_name: str) -> None:
                owner.before_save(dataset_name)

        return KedroSfnRunHooks()

    def catalog_created(self, catalog: Any) -> None:
        from kedro_sfn.runstore import RunScopedDataset

        self._catalog = catalog
        if self._location is None:
            return
        for crossing in self._crossings:
            if not is_in_memory(lookup(catalog, crossing.name)):
                continue
            dataset = RunScopedDataset(
                crossing.name,
                self._location,
                self._run_id,
                producer=crossing.producer,
                consumers=crossing.consumers,
                env=self._env,
            )
            put(catalog, crossing.name, dataset)
            self.stored[crossing.name] = dataset.folder
        if self.stored:
            logger.info("kedro-sfn: run store for %s", ", ".join(f"{k} -> {v}/" for k, v in self.stored.items()))

    def before_save(self, name: str) -> None:
        if self._catalog is None:
            return
        dataset = lookup(self._catalog, name)
        folder = _earlier_attempt(dataset)
        if folder is None:
            return
        fs = dataset._fs
        logger.warning(
            "kedro-sfn: replacing %s, saved for this run's version by an earlier attempt of this task", folder
        )
        fs.rm(folder, recursive=True)
        fs.invalidate_cache()
        self.replaced.append(name)


def _earlier_attempt(dataset: Any) -> str | None:
    """The ``<filepath>/<version>`` folder this run's versioned save would refuse, if it exists."""
    from kedro.io import AbstractVersionedDataset

    if not isinstance(dataset, AbstractVersionedDataset) or not getattr(dataset, "_version", None):
        return None
    if getattr(dataset, "_fs", None) is None:
        return None
    version = dataset.resolve_save_version()
    if not version:
        return None
    path = dataset._get_versioned_path(version)
    dataset._fs.invalidate_cache()
    if not dataset._exists_function(str(path)):
        return None
    return str(path.parent)
