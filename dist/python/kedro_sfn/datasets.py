"""Dataset types and the ephemeral rule, from catalog configuration only.

Nothing here instantiates a dataset or reads credentials: CI needs no data access.
"""

from __future__ import annotations

import copy
from typing import Any

MEMORY_TYPE = "MemoryDataset"
_PREFIXES = ("kedro_datasets.", "kedro.io.")


def is_parameter(name: str) -> bool:
    """True for Kedro's parameter inputs (`parameters`, `params:...`), which are no datasets."""
    return name == "parameters" or name.startswith("params:")


def display_type(type_name: str) -> str:
    """Return a catalog ``type`` as Kedro writes it: ``kedro_datasets.`` and ``kedro.io.`` stripped."""
    for prefix in _PREFIXES:
        if type_name.startswith(prefix):
            return type_name[len(prefix) :]
    return type_name


def ephemeral_type(type_name: str) -> tuple[bool, str | None]:
    """Return (ephemeral, warning) for a catalog ``type``, importing but not instantiating it.

    Ephemeral means Kedro's own rule: the class sets ``_EPHEMERAL`` (MemoryDataset,
    SharedMemoryDataset and CachedDataset set it in ``__init__``, so those are
    recognised by class). A class that cannot be imported is taken as persistent,
    with a warning.
    """
    from kedro.io import CachedDataset, MemoryDataset, SharedMemoryDataset
    from kedro.io.core import parse_dataset_definition

    try:
        cls, _ = parse_dataset_definition({"type": type_name})
    except Exception as exc:  # noqa: BLE001 - any import failure of a plugin class
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return False, f"Cannot import dataset type '{type_name}' ({first_line}); taken as persistent."
    ephemeral = bool(getattr(cls, "_EPHEMERAL", False)) or issubclass(
        cls, (MemoryDataset, SharedMemoryDataset, CachedDataset)
    )
    return ephemeral, None


def storage_of(config: dict[str, Any]) -> str | None:
    """Where a dataset's data lives: the URL protocol of its ``filepath`` (or ``path``),
    ``"local"`` for a plain path, None when it has no path (tables, APIs, ...).

    A local path in a Lambda is that one Lambda's own disk: no other task sees it.
    """
    path = config.get("filepath") or config.get("path")
    if not isinstance(path, str) or not path:
        return None
    scheme, sep, _ = path.partition("://")
    if not sep or scheme == "file" or len(scheme) == 1:  # C://... is a Windows drive
        return "local"
    return scheme.split("+")[0].lower()


def describe(names: list[str], configs: dict[str, dict[str, Any] | None]) -> tuple[dict[str, Any], list[str]]:
    """Return ({name: {type, ephemeral, storage}}, warnings) for dataset ``names``.

    ``configs`` maps a name to its resolved catalog entry, or None when no entry
    or pattern matches it (then it is a MemoryDataset at run time: ephemeral).
    """
    out: dict[str, Any] = {}
    warnings: list[str] = []
    cache: dict[str, tuple[bool, str | None]] = {}
    for name in sorted(names):
        config = configs.get(name)
        if config is None:
            out[name] = {"type": MEMORY_TYPE, "ephemeral": True}
            continue
        type_name = str(config.get("type") or "")
        if type_name not in cache:
            cache[type_name] = ephemeral_type(type_name) if type_name else (False, None)
        ephemeral, warning = cache[type_name]
        if warning and warning not in warnings:
            warnings.append(warning)
        out[name] = {"type": display_type(type_name), "ephemeral": ephemeral}
        storage = storage_of(config)
        if storage is not None:
            out[name]["storage"] = storage
    return out, warnings


def without_credentials(config: Any) -> Any:
    """Return a deep copy of catalog config with every ``credentials`` key removed."""
    if isinstance(config, dict):
        return {k: without_credentials(v) for k, v in config.items() if k != "credentials"}
    if isinstance(config, list):
        return [without_credentials(v) for v in config]
    return copy.deepcopy(config)


class CatalogIndex:
    """Resolve dataset names against raw catalog configuration, as Kedro's catalog would.

    Uses Kedro's own ``CatalogConfigResolver`` for pattern order and placeholder
    filling; credentials are dropped first, so none are needed.
    """

    def __init__(self, catalog_config: dict[str, Any]):
        from kedro.io import CatalogConfigResolver

        entries = {
            name: without_credentials(entry)
            for name, entry in (catalog_config or {}).items()
            if not name.startswith("_") and isinstance(entry, dict)
        }
        self._entries = entries
        self._explicit = {n for n in entries if not CatalogConfigResolver.is_pattern(n)}
        self._resolver = CatalogConfigResolver(entries, None, **_runtime_pattern_kwargs())

    def config_for(self, name: str) -> dict[str, Any] | None:
        """Return the resolved entry for ``name``, or None if no entry or user pattern matches."""
        if name in self._explicit:
            return dict(self._resolver.config[name])
        if not self._matches_user_pattern(name):
            return None
        return dict(self._resolver.resolve_pattern(name))

    def pattern_for(self, name: str) -> str | None:
        """The user's factory pattern that makes ``name``, None for an explicit or unknown name."""
        if name in self._explicit:
            return None
        resolver = self._resolver
        if hasattr(resolver, "match_dataset_pattern"):  # Kedro 1.x
            found = resolver.match_dataset_pattern(name) or resolver.match_user_catch_all_pattern(name)
        else:
            found = resolver.match_pattern(name)
        return found if found in self._entries else None

    def raw(self, key: str) -> dict[str, Any] | None:
        """The entry or pattern ``key`` as written (globals resolved, credentials dropped)."""
        entry = self._entries.get(key)
        return copy.deepcopy(entry) if entry is not None else None

    def paths(self) -> list[str]:
        """Every filepath/path the catalog names, patterns included, as written."""
        found = []
        for entry in self._entries.values():
            path = entry.get("filepath") or entry.get("path")
            if isinstance(path, str) and path:
                found.append(path)
        return found

    def _matches_user_pattern(self, name: str) -> bool:
        resolver = self._resolver
        if hasattr(resolver, "match_dataset_pattern"):  # Kedro 1.x
            return bool(
                resolver.match_dataset_pattern(name) or resolver.match_user_catch_all_pattern(name)
            )
        return bool(resolver.match_pattern(name))  # Kedro 0.19: user patterns only


def _runtime_pattern_kwargs() -> dict[str, Any]:
    """Kedro 1.x warns unless it is told the runtime patterns; 0.19 has no such argument."""
    import inspect

    from kedro.io import CatalogConfigResolver

    params = inspect.signature(CatalogConfigResolver.__init__).parameters
    if "default_runtime_patterns" not in params:
        return {}
    from kedro.io import DataCatalog

    return {"default_runtime_patterns": getattr(DataCatalog, "default_runtime_patterns", None)}
