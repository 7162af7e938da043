"""What pre-flight needs to write fixes that paste: each dataset's entry as written, the
factory pattern that made it, and the project's storage root.

The storage root is where the env's catalog already keeps data on shared storage: the
deepest folder common to the entries on the most used bucket (``s3://bucket/prefix``;
from the env's globals when no entry is on shared storage),
trailing Kedro layer folders (``01_raw``, ``06_models``, ...) left out; None when the env
has no entry on s3://, gs://, abfs:// or similar. Pre-flight moves a
local path under it (``data/01_raw/x.csv`` -> ``<root>/01_raw/x.csv``: the leading
``data/`` dropped, folders and file name kept).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from kedro_sfn.datasets import CatalogIndex, storage_of

SHARED = {"s3", "s3a", "gs", "gcs", "abfs", "abfss", "az", "hdfs", "dbfs"}


def storage_root(paths: list[str]) -> str | None:
    """The deepest folder common to ``paths`` on their most used shared bucket."""
    shared = [p for p in paths if storage_of({"filepath": p}) in SHARED]
    if not shared:
        return None
    buckets = Counter(p.split("://", 1)[0] + "://" + p.split("://", 1)[1].split("/", 1)[0] for p in shared)
    bucket = buckets.most_common(1)[0][0]
    folders = []
    for path in shared:
        if not path.startswith(bucket + "/") and path != bucket:
            continue
        rest = path[len(bucket) :].strip("/").split("/")[:-1]  # the file name is no folder
        # A folder holding a placeholder ({name}) is no common folder.
        folders.append(rest)
    common: list[str] = []
    for parts in zip(*folders):
        if len(set(parts)) != 1 or "{" in parts[0]:
            break
        common.append(parts[0])
    # Kedro's data layer folders (01_raw, 02_intermediate, ...) sit under the root, not above it.
    while common and re.fullmatch(r"\d\d_[A-Za-z0-9_]+", common[-1]):
        common.pop()
    return "/".join([bucket, *common])


def catalog_details(catalog_config: dict[str, Any], names: list[str]) -> tuple[dict[str, dict[str, Any]], str | None]:
    """({name: {entry, pattern?, filepath?}}, storage root) for the datasets in ``names``.

    ``entry`` is the explicit entry or, for a factory-made dataset, the pattern's entry as
    written (placeholders kept); ``filepath`` is the resolved path. Datasets on shared
    storage or without a path (tables, APIs) are left out.
    """
    index = CatalogIndex(catalog_config)
    details: dict[str, dict[str, Any]] = {}
    for name in names:
        resolved = index.config_for(name)
        if resolved is None:
            continue
        # Only what a fix is made from: entries on a local path, and in-memory ones (by type
        # alone). Others may hold secrets outside `credentials` (a SQL `con` string) and the
        # graph is an output of the action.
        local = storage_of(resolved) == "local"
        if not local and "MemoryDataset" not in str(resolved.get("type", "")):
            continue
        pattern = index.pattern_for(name)
        entry = index.raw(pattern if pattern is not None else name) or resolved
        if not local:
            entry = {"type": entry.get("type")}
        item: dict[str, Any] = {"entry": entry}
        if pattern is not None:
            item["pattern"] = pattern
        path = resolved.get("filepath") or resolved.get("path")
        if isinstance(path, str):
            item["filepath"] = path
        details[name] = item
    return details, storage_root(index.paths())


def load_config(conf_source: str, env: str, key: str) -> dict[str, Any]:
    """The env's ``catalog`` (or ``globals``) as the project's config loader merges it ({} when none)."""
    from kedro.config import MissingConfigException
    from kedro.framework.project import settings

    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=conf_source, env=env, runtime_params=None, **settings.CONFIG_LOADER_ARGS
    )
    try:
        return dict(loader[key] or {})
    except (KeyError, MissingConfigException, ValueError):
        return {}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def add_catalog_details(graph: dict[str, Any], conf_source: str, env: str) -> None:
    """Add ``catalog_entries`` (each dataset's entry, pattern, resolved path) and ``catalog_root``.

    When no catalog entry is on shared storage, URLs in the env's globals give the root.
    """
    details, root = catalog_details(load_config(conf_source, env, "catalog"), sorted(graph["datasets"]))
    if root is None:
        urls = [s for s in _strings(load_config(conf_source, env, "globals")) if "://" in s]
        # A global is a folder, not a file: give storage_root a file name to drop.
        root = storage_root([f"{url.rstrip('/')}/file" for url in urls])
    graph["catalog_entries"] = details
    graph["catalog_root"] = root
