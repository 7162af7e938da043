"""Run-scoped storage for datasets that cross Lambdas but live in memory in the catalog.

With ``KEDRO_SFN_DATA_LOCATION`` set (``s3://bucket/prefix/<state machine>``), every
dataset that one task writes and another task reads, and that the catalog of the
Kedro env keeps in memory (a ``MemoryDataset``, or a name absent from the catalog),
is saved by the producing task and loaded by the consuming tasks at::

    <KEDRO_SFN_DATA_LOCATION>/<run id>/<dataset key>/data.<ext>      the data
    <KEDRO_SFN_DATA_LOCATION>/<run id>/<dataset key>/kedro-sfn.json  how it was written

The same run id always gives the same keys, so a retried or redriven task
overwrites its own objects. Nodes of one task (one grouped Lambda) still pass
data in memory: the task reads back what it saved from memory, not from S3.

Dataset key (``dataset_key``): the dataset name without its transcoding suffix
(``x@pandas`` -> ``x``), every character outside ``A-Z a-z 0-9 . _ -`` written as
``~`` and two upper-case hex digits per UTF-8 byte (``a/b#c`` -> ``a~2Fb~23c``),
and a name made only of dots fully encoded (``..`` -> ``~2E~2E``). The run id is
encoded the same way. ``src/graph/runStore.ts`` implements the same rule for the plan.

Serialisation rule (``choose_format``), first match wins:

1. pandas ``DataFrame`` with string column names: parquet when pyarrow imports and the
   frame converts, else pickle (other DataFrames go to rule 3);
2. numpy ``ndarray`` without object dtype: ``.npy`` (``allow_pickle=False``);
3. anything else: cloudpickle when it imports (functions and lambdas by value), else pickle.

Lazy query objects (polars ``LazyFrame``, ibis expressions, Spark DataFrames) are
refused even when they pickle: the consumer would re-run the query against
sources that are not there. What cannot be serialised fails the producing node
with ``DatasetNotSerialisable`` naming the dataset, its type and both ways out.
"""

from __future__ import annotations

import io
import json
import pickle
import re
from typing import Any

from kedro.io.core import AbstractDataset, DatasetError

MANIFEST = "kedro-sfn.json"
_SAFE = re.compile(r"[A-Za-z0-9._-]")


def encode_key(text: str) -> str:
    """Encode one path component by the rule in the module doc."""
    if text and set(text) == {"."}:
        return "".join("~2E" for _ in text)
    out = []
    for char in text:
        if _SAFE.fullmatch(char):
            out.append(char)
        else:
            out.extend(f"~{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out)


def dataset_key(name: str) -> str:
    """The key of dataset ``name`` under a run: transcoding suffix dropped, then encoded."""
    return encode_key(name.split("@", 1)[0])


def run_folder(location: str, run_id: str) -> str:
    """``<location>/<encoded run id>``, no trailing slash."""
    return f"{location.rstrip('/')}/{encode_key(run_id)}"


class DatasetNotSerialisable(DatasetError):
    """A node's output crosses Lambdas but cannot be written to the run store."""


# Objects that are queries, not data: pickling them (when it works) moves the query, not its result.
_LAZY_TYPES = {
    ("polars", "LazyFrame"): "a lazy polars query (LazyFrame); call .collect() in the node",
    ("ibis", None): "a lazy ibis expression; call .to_pandas() or .execute() in the node",
    ("pyspark", "DataFrame"): "a Spark DataFrame (a query plan bound to one Spark session)",
}


def _qualified(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _lazy_reason(obj: Any) -> str | None:
    module = type(obj).__module__.split(".")[0]
    name = type(obj).__name__
    for (mod, cls), reason in _LAZY_TYPES.items():
        if module == mod and (cls is None or name == cls):
            return reason
    return None


def _pickler() -> tuple[str, Any]:
    try:
        import cloudpickle
    except ImportError:
        return "pickle", pickle
    return "cloudpickle", cloudpickle


def choose_format(data: Any) -> tuple[str, bytes]:
    """Return (format, bytes) for ``data`` by the rule in the module doc; raise on failure."""
    try:
        import pandas as pd
    except ImportError:
        pd = None
    # Parquet keeps column names only as strings: other names would come back changed.
    if pd is not None and isinstance(data, pd.DataFrame) and all(isinstance(c, str) for c in data.columns):
        try:
            import pyarrow  # noqa: F401

            buffer = io.BytesIO()
            data.to_parquet(buffer)
            return "parquet", buffer.getvalue()
        except Exception:  # noqa: BLE001 - no pyarrow, or a frame parquet cannot hold: pickle it
            return "pickle", pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        import numpy as np
    except ImportError:
        np = None
    if np is not None and isinstance(data, np.ndarray) and data.dtype != object:
        buffer = io.BytesIO()
        np.save(buffer, data, allow_pickle=False)
        return "npy", buffer.getvalue()
    name, module = _pickler()
    return name, module.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)


EXTENSIONS = {"parquet": "parquet", "npy": "npy", "pickle": "pkl", "cloudpickle": "pkl"}


def decode(fmt: str, payload: bytes) -> Any:
    """Inverse of choose_format."""
    if fmt == "parquet":
        import pandas as pd

        return pd.read_parquet(io.BytesIO(payload))
    if fmt == "npy":
        import numpy as np

        return np.load(io.BytesIO(payload), allow_pickle=False)
    if fmt in ("pickle", "cloudpickle"):
        # cloudpickle writes ordinary pickle streams; loading needs it only for its own helpers.
        if fmt == "cloudpickle":
            import cloudpickle  # noqa: F401
        return pickle.loads(payload)
    raise DatasetError(f"kedro-sfn run store: unknown format '{fmt}' in {MANIFEST}.")


class RunScopedDataset(AbstractDataset):
    """One dataset of one run in the run store (see the module doc).

    What this task saved is also kept in memory, so the task's own later nodes
    read it without a round trip.
    """

    def __init__(
        self,
        name: str,
        location: str,
        run_id: str,
        producer: str | None = None,
        consumers: tuple[str, ...] = (),
        env: str = "aws",
    ):
        self._name = name
        self._folder = f"{run_folder(location, run_id)}/{dataset_key(name)}"
        self._producer = producer
        self._consumers = consumers
        self._env = env
        self._cached: list[Any] = []

    @property
    def folder(self) -> str:
        return self._folder

    def _describe(self) -> dict[str, Any]:
        return {"name": self._name, "folder": self._folder}

    def load(self) -> Any:
        if self._cached:
            return self._cached[0]
        import fsspec

        try:
            with fsspec.open(f"{self._folder}/{MANIFEST}", "rb") as handle:
                manifest = json.loads(handle.read())
        except FileNotFoundError:
            raise DatasetError(
                f"kedro-sfn run store: dataset '{self._name}' has not been saved for this run: "
                f"{self._folder}/{MANIFEST} does not exist. The task of '{self._producer or 'its producer'}' "
                "must have succeeded in the same execution (a new execution has a new run id)."
            ) from None
        with fsspec.open(f"{self._folder}/{manifest['file']}", "rb") as handle:
            return decode(manifest["format"], handle.read())

    def save(self, data: Any) -> None:
        if self._cached:
            raise DatasetNotSerialisable(
                f"Dataset '{self._name}' was saved twice by node '{self._producer}' (a generator node "
                "yields chunks): kedro-sfn keeps one object per crossing dataset and run. Return one "
                f"object, or persist '{self._name}' in the catalog with a dataset that appends chunks "
                "(e.g. pandas.CSVDataset with save_args: {mode: a})."
            )
        fmt, payload = self._serialise(data)
        import fsspec

        file = f"data.{EXTENSIONS[fmt]}"
        # Data first, manifest last: a manifest is only there when its data is complete.
        with fsspec.open(f"{self._folder}/{file}", "wb") as handle:
            handle.write(payload)
        manifest = {"format": fmt, "file": file, "type": _qualified(data), "bytes": len(payload)}
        with fsspec.open(f"{self._folder}/{MANIFEST}", "wb") as handle:
            handle.write(json.dumps(manifest).encode())
        self._cached.append(data)

    def _exists(self) -> bool:
        if self._cached:
            return True
        import fsspec

        fs, path = fsspec.core.url_to_fs(f"{self._folder}/{MANIFEST}")
        return bool(fs.exists(path))

    def _serialise(self, data: Any) -> tuple[str, bytes]:
        lazy = _lazy_reason(data)
        if lazy is not None:
            raise self._not_serialisable(data, lazy)
        try:
            return choose_format(data)
        except Exception as exc:  # noqa: BLE001 - pickling errors are TypeError, PicklingError, ...
            raise self._not_serialisable(data, f"{type(exc).__name__}: {exc}") from exc

    def _not_serialisable(self, data: Any, why: str) -> DatasetNotSerialisable:
        return DatasetNotSerialisable(
            not_serialisable_message(
                self._name, _qualified(data), why, self._producer, self._consumers, self._folder, self._env
            )
        )


def not_serialisable_message(
    name: str,
    type_name: str,
    why: str,
    producer: str | None,
    consumers: tuple[str, ...],
    folder: str,
    env: str,
) -> str:
    """The error of a crossing output that cannot be written: what, why, and both ways out."""
    readers = ", ".join(f"'{c}'" for c in consumers) or "another task"
    bucket = folder.split("://", 1)[-1].split("/", 1)[0]
    file = dataset_key(name)
    example = (
        f"       {_yaml_key(name)}:\n"
        "         type: polars.LazyPolarsDataset\n"
        "         file_format: parquet\n"
        f"         filepath: s3://{bucket}/data/{file}.parquet"
        if type_name.startswith("polars.")
        else f"       {_yaml_key(name)}:\n"
        "         type: pickle.PickleDataset\n"
        f"         filepath: s3://{bucket}/data/{file}.pkl"
    )
    nodes = " and ".join(f"'{n}'" for n in [producer, *consumers] if n)
    return (
        f"Dataset '{name}' (written by node '{producer}', read by {readers} in another Lambda) "
        f"holds {type_name}, which kedro-sfn cannot write to the run store {folder}/ ({why}).\n"
        "Two ways out:\n"
        f"  1. Persist it in the catalog of env '{env}' (conf/{env}/catalog.yml), after making the "
        "node return data (a list rather than a generator, a collected frame rather than a lazy "
        "query, values rather than an open connection), e.g.:\n"
        f"{example}\n"
        f"  2. Run {nodes} in one Lambda, where data passes in memory: set the action input "
        f"`group-by: memory` (CLI: --group-by memory); '{name}' stays in memory, so these nodes merge."
    )


def _yaml_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_.@-]+", name) else json.dumps(name)
