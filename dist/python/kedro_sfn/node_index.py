"""An index from node name to the function that runs it, so a cold Lambda imports only that.

Kedro's pipeline registry imports every pipeline module of the project: a
node that only needs pandas also pays for scikit-learn, scipy and whatever
the other pipelines import at their top. With one Lambda function per node
each function starts cold once per execution, so those imports are most of
its CPU time. When the project is inspected (the full registry is loaded there
anyway) every node is written down: its function as module and
qualified name, and the arguments that rebuild the very same ``Node``. In the
Lambda, ``pipeline_for`` rebuilds only the requested nodes, importing only
their functions' modules (and so the packages around them), and hands Kedro a
registry holding just them.

Never a wrong node: a node goes into the index only if it rebuilds equal to
the registry's node from what is written (same function object, inputs,
outputs, name, namespace, tags, confirms). At run time the index is used only
when it was made for this package, this Kedro version and these source files
(a hash of the package's ``.py`` files). Anything else (no index, stale
index, a pipeline or node not in it, a node whose function is a lambda or a
``partial``) loads the full registry as before, with a warning in the log.

Side effects of ``pipeline_registry.py`` or of pipeline packages other than
the node's own do not happen with the index: code that a node relies on
belongs in the node's module or the package's ``__init__``.

Index file (JSON)::

    {"schema": "kedro-sfn/node-index@1", "package": "spaceflights",
     "kedro_version": "1.7.0", "source_hash": "<sha256>",
     "nodes": {"<node name>": {"func": {"module", "qualname"} | null, "why": "...",
                               "inputs": [...], "outputs": [...],
                               "args": {"inputs", "outputs", "name", "namespace",
                                        "tags", "confirms"}}},
     "pipelines": {"<pipeline name>": ["<node name>", ...]}}

The inspector writes it from the registry it has loaded anyway (``python -m kedro_sfn.inspect
--node-index FILE``, what the image build uses: no second import of the registry). Command
line, for an index without an inspection::

    python -m kedro_sfn.node_index --project DIR --out FILE

writes the index and prints ``{"nodes", "indexed", "pipelines", "unindexed"}``
(unindexed: ``[{"node", "why"}]``); a user error prints the inspector's error
JSON on stderr and exits 2.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import importlib
import importlib.util
import json
import logging
import os
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = "kedro-sfn/node-index@1"
ENV_VAR = "KEDRO_SFN_NODE_INDEX"
#: In the image the index sits in /var/task/.kedro-sfn beside the wheel, kedro_sfn in /var/task.
DEFAULT_PATH = Path(__file__).resolve().parent.parent / ".kedro-sfn" / "node-index.json"
#: The registry module Kedro is pointed at when the index serves a request.
REGISTRY_MODULE = "kedro_sfn._indexed_registry"

logger = logging.getLogger("kedro_sfn.node_index")


# ---------------------------------------------------------------------------------------------
# Package time


def source_hash(package_dir: Path) -> str:
    """SHA-256 over the ``.py`` files of the package (path and bytes), as the wheel holds them.

    Only folders reachable through ``__init__.py`` files count: setuptools packages those, so
    the source tree and the installed wheel give the same hash.
    """
    digest = hashlib.sha256()
    for path in _package_files(package_dir):
        digest.update(path.relative_to(package_dir).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _package_files(package_dir: Path) -> list[Path]:
    files: list[Path] = []
    folders = [package_dir]
    while folders:
        folder = folders.pop()
        for entry in sorted(folder.iterdir()):
            if entry.is_dir() and entry.name != "__pycache__" and (entry / "__init__.py").is_file():
                folders.append(entry)
            elif entry.is_file() and entry.suffix == ".py":
                files.append(entry)
    return sorted(files, key=lambda p: p.relative_to(package_dir).as_posix())


def node_args(node: Any) -> dict[str, Any]:
    """What ``Node(func, **args)`` needs to rebuild ``node`` (Kedro keeps them as attributes)."""
    tags = getattr(node, "_tags", None) or set()
    return {
        "inputs": getattr(node, "_inputs", None),
        "outputs": getattr(node, "_outputs", None),
        "name": getattr(node, "_name", None),
        "namespace": getattr(node, "_namespace", None),
        "tags": sorted(tags),
        "confirms": getattr(node, "_confirms", None),
    }


def _same_node(a: Any, b: Any) -> bool:
    return (
        a.func is b.func
        and a.name == b.name
        and list(a.inputs) == list(b.inputs)
        and list(a.outputs) == list(b.outputs)
        and a.namespace == b.namespace
        and set(a.tags) == set(b.tags)
        and a.confirms == b.confirms
        and node_args(a) == node_args(b)
        and a == b
    )


def resolve(module: str, qualname: str) -> Any:
    """The object at ``module``'s ``qualname`` (imports the module); AttributeError if absent."""
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def node_record(node: Any) -> dict[str, Any]:
    """One node of the index; ``func`` is null (with ``why``) when the node cannot be rebuilt."""
    from kedro.pipeline.node import Node

    record: dict[str, Any] = {"func": None, "inputs": list(node.inputs), "outputs": list(node.outputs)}
    func = node.func
    module, qualname = getattr(func, "__module__", None), getattr(func, "__qualname__", None)
    why = None
    if type(node) is not Node:
        why = f"the node is a {type(node).__name__}, not a kedro Node"
    elif getattr(node, "_preview_fn", None) is not None:
        why = "the node has a preview_fn"
    elif not isinstance(module, str) or not isinstance(qualname, str):
        why = f"its function is a {type(func).__name__} without a module and name (a partial?)"
    elif "<" in qualname:
        why = f"its function {qualname} is a lambda or defined inside another function"
    else:
        try:
            found = resolve(module, qualname)
        except Exception as exc:  # noqa: BLE001 - any failure means "not rebuildable"
            found, why = None, f"{module}.{qualname} cannot be imported ({type(exc).__name__})"
        if why is None and found is not func:
            why = f"{module}.{qualname} is another object than the node's function"
    if why is None:
        args = node_args(node)
        try:
            json.dumps(args)
            rebuilt = rebuild(func, args)
        except Exception as exc:  # noqa: BLE001
            why = f"the node cannot be rebuilt from its arguments ({type(exc).__name__}: {exc})"
        else:
            if not _same_node(rebuilt, node):
                why = "the node rebuilt from its arguments differs from the registry's"
    if why is None:
        record["func"] = {"module": module, "qualname": qualname}
        record["args"] = node_args(node)
    else:
        record["why"] = why
    return record


def rebuild(func: Any, args: dict[str, Any]) -> Any:
    from kedro.pipeline.node import Node

    return Node(
        func,
        args["inputs"],
        args["outputs"],
        name=args["name"],
        tags=args["tags"] or None,
        confirms=args["confirms"],
        namespace=args["namespace"],
    )


def build_index(registry: dict[str, Any], package: str, package_dir: Path, kedro_version: str) -> dict[str, Any]:
    """The index of every pipeline in ``registry`` (name -> Pipeline)."""
    nodes: dict[str, dict[str, Any]] = {}
    seen: dict[str, Any] = {}
    pipelines: dict[str, list[str]] = {}
    for pipeline_name in sorted(registry):
        pipeline = registry[pipeline_name]
        if pipeline is None:
            continue
        pipelines[pipeline_name] = [node.name for node in pipeline.nodes]
        for node in pipeline.nodes:
            if node.name not in seen:
                seen[node.name] = node
                nodes[node.name] = node_record(node)
            elif seen[node.name] is not node and not _same_node(seen[node.name], node):
                nodes[node.name] = {
                    **nodes[node.name],
                    "func": None,
                    "why": "two pipelines hold different nodes of this name",
                }
                nodes[node.name].pop("args", None)
    return {
        "schema": SCHEMA,
        "package": package,
        "kedro_version": kedro_version,
        "source_hash": source_hash(package_dir),
        "nodes": nodes,
        "pipelines": pipelines,
    }


# ---------------------------------------------------------------------------------------------
# Run time


@dataclass(frozen=True)
class NodeView:
    """A node of the whole pipeline as the handler reads it: name and dataset names only."""

    name: str
    inputs: list[str]
    outputs: list[str]


@dataclass(frozen=True)
class IndexedPipeline:
    """The pipeline the handler sees: every node as a NodeView; Kedro's registry holds the real ones."""

    nodes: list[NodeView]


class _Unusable(Exception):
    """The index cannot serve this request; the message says why (for the log)."""


_LOADED: dict[str, Any] = {}


@contextlib.contextmanager
def cold_start_imports() -> Iterator[None]:
    """No cyclic garbage collection while modules load, then freeze what they made.

    Imports allocate many objects and few cycles: the collector's passes over them are about
    a tenth of a cold start's CPU for nothing. Afterwards ``gc.freeze()`` moves the loaded
    modules out of later collections (warm invocations scan less). The node's own run is
    outside this block and collects as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()


def index_path() -> Path | None:
    """Where the index is read from; None when ``KEDRO_SFN_NODE_INDEX=off``."""
    value = os.environ.get(ENV_VAR, "").strip()
    if value.lower() == "off":
        return None
    return Path(value) if value else DEFAULT_PATH


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise _Unusable(f"the package {package} is not importable as a folder")
    return Path(locations[0])


def load_index(path: Path, package: str) -> dict[str, Any]:
    """The index at ``path`` if it was made for this package, Kedro and source; raises _Unusable."""
    key = str(path)
    if key in _LOADED:
        return _LOADED[key]
    if not path.is_file():
        raise _Unusable(f"there is no node index at {path}")
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _Unusable(f"the node index {path} cannot be read ({exc})") from None
    if not isinstance(index, dict) or index.get("schema") != SCHEMA:
        raise _Unusable(f"{path} is not a {SCHEMA} file")
    from kedro import __version__ as kedro_version

    if index.get("package") != package:
        raise _Unusable(f"the node index was made for package {index.get('package')!r}, not {package!r}")
    if index.get("kedro_version") != kedro_version:
        raise _Unusable(
            f"the node index was made with Kedro {index.get('kedro_version')}, this is Kedro {kedro_version}"
        )
    if index.get("source_hash") != source_hash(_package_dir(package)):
        raise _Unusable(f"the node index is stale: the {package} source files changed since it was made")
    _LOADED[key] = index
    return index


def _select(index: dict[str, Any], pipeline_name: str, wanted: list[str]) -> tuple[list[Any], IndexedPipeline]:
    names = index["pipelines"].get(pipeline_name)
    if names is None:
        raise _Unusable(f"the node index has no pipeline {pipeline_name!r}")
    records = index["nodes"]
    members = set(names)
    nodes = []
    for name in wanted:
        record = records.get(name)
        if name not in members or record is None:
            # Unknown here: the full registry gives Kedro's own error for a node that does not exist.
            raise _Unusable(f"node {name!r} is not in the node index of pipeline {pipeline_name!r}")
        func_ref = record.get("func")
        if not func_ref:
            raise _Unusable(f"node {name!r} is not indexed: {record.get('why', 'no function recorded')}")
        try:
            func = resolve(func_ref["module"], func_ref["qualname"])
        except AttributeError:
            raise _Unusable(
                f"node {name!r}: {func_ref['module']}.{func_ref['qualname']} no longer exists (stale index)"
            ) from None
        node = rebuild(func, record["args"])
        if node.name != name:
            raise _Unusable(f"node {name!r} rebuilt as {node.name!r} (stale index)")
        nodes.append(node)
    view = IndexedPipeline([NodeView(n, records[n]["inputs"], records[n]["outputs"]) for n in names])
    return nodes, view


def pipeline_for(package: str, pipeline_name: str, node_names: list[str]) -> Any:
    """The pipeline to read ``node_names``' structure from, with Kedro's registry set to run them.

    With a usable index: an IndexedPipeline of the whole pipeline, and Kedro's ``pipelines``
    holding ``pipeline_name`` with just the requested nodes, rebuilt from their functions'
    modules. Otherwise (logged as a warning): the project's own registry, loaded in full.
    Raises KeyError when the registry has no ``pipeline_name``.
    """
    from kedro.framework.project import pipelines

    path = index_path()
    if path is not None:
        try:
            with cold_start_imports():
                index = load_index(path, package)
                nodes, view = _select(index, pipeline_name, node_names)
        except _Unusable as exc:
            logger.warning("kedro-sfn: %s; loading the full pipeline registry.", exc)
        else:
            _use_registry(pipelines, REGISTRY_MODULE, {pipeline_name: _pipeline_of(nodes)})
            logger.info(
                "kedro-sfn: node index: imported only %s",
                ", ".join(sorted({index["nodes"][n]["func"]["module"] for n in node_names})),
            )
            return view
    _use_registry(pipelines, f"{package}.pipeline_registry", None)
    with cold_start_imports():
        return pipelines[pipeline_name]


def _pipeline_of(nodes: list[Any]) -> Any:
    from kedro.pipeline import Pipeline

    return Pipeline(nodes)


def _use_registry(pipelines: Any, module_name: str, content: dict[str, Any] | None) -> None:
    """Point Kedro's lazy ``pipelines`` at ``module_name`` (a synthetic module when ``content``)."""
    if content is not None:
        module = types.ModuleType(module_name, "Pipelines rebuilt from kedro-sfn's node index.")
        module.register_pipelines = lambda: dict(content)  # type: ignore[attr-defined]
        sys.modules[module_name] = module
        pipelines.configure(module_name)
    elif getattr(pipelines, "_pipelines_module", module_name) != module_name:
        # Back from an indexed request in a warm container: the project's registry again.
        pipelines.configure(module_name)


def check_against(pipeline: Any, package: str, pipeline_name: str) -> tuple[str, list[str]]:
    """Compare the index with the loaded registry's ``pipeline`` (the image's smoke test).

    Returns a one-line summary and the names of nodes the index would rebuild differently
    (never expected: the hash check rejects a stale index; any name here is a bug).
    """
    path = index_path()
    if path is None:
        return "off (KEDRO_SFN_NODE_INDEX)", []
    try:
        index = load_index(path, package)
    except _Unusable as exc:
        return f"not used: {exc}", []
    records = index["nodes"]
    if pipeline_name not in index["pipelines"]:
        return f"not used: no pipeline {pipeline_name!r} in it", []
    indexed, wrong = 0, []
    for node in pipeline.nodes:
        record = records.get(node.name) or {}
        if not record.get("func"):
            continue
        try:
            rebuilt = rebuild(resolve(record["func"]["module"], record["func"]["qualname"]), record["args"])
        except Exception:  # noqa: BLE001 - cannot rebuild: as wrong as a different node
            wrong.append(node.name)
            continue
        if _same_node(rebuilt, node):
            indexed += 1
        else:
            wrong.append(node.name)
    return f"{indexed} of {len(pipeline.nodes)} nodes start from their own module", wrong


# ---------------------------------------------------------------------------------------------
# Command line


def write_index(project: str | Path, out: Path) -> dict[str, Any]:
    """Bootstrap the project, load its full registry, write the index to ``out``; return a summary."""
    from kedro_sfn.lambda_env import silence_known_warnings
    from kedro_sfn.project import (
        bootstrap,
        import_kedro,
        project_code_error,
        quiet_kedro_environment,
        require_project_folder,
    )

    quiet_kedro_environment(str(Path(__file__).with_name("logging_quiet.yml")))
    silence_known_warnings()
    project_path = require_project_folder(project)
    kedro = import_kedro()
    proj = bootstrap(project_path)
    from kedro.framework.project import pipelines

    try:
        registry = {name: pipelines[name] for name in pipelines}
    except Exception as exc:
        raise project_code_error(exc, proj.path, "Importing the project's pipelines") from exc
    package_dir = Path(proj.metadata.source_dir) / proj.package_name
    return save_index(build_index(registry, proj.package_name, package_dir, kedro.__version__), out)


def save_index(index: dict[str, Any], out: Path) -> dict[str, Any]:
    """Write ``index`` to ``out`` and return its summary (what the command line prints)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(index, sort_keys=True, separators=(",", ":")), encoding="utf-8")
    return summary_of(index)


def summary_of(index: dict[str, Any]) -> dict[str, Any]:
    """``{"nodes", "indexed", "pipelines", "unindexed"}`` of an index."""
    unindexed = [{"node": n, "why": r["why"]} for n, r in sorted(index["nodes"].items()) if not r["func"]]
    return {
        "nodes": len(index["nodes"]),
        "indexed": len(index["nodes"]) - len(unindexed),
        "pipelines": sorted(index["pipelines"]),
        "unindexed": unindexed,
    }


def main(argv: list[str] | None = None) -> int:
    from kedro_sfn.errors import UserError
    from kedro_sfn.stdio import stdout_reserved

    parser = argparse.ArgumentParser(prog="python -m kedro_sfn.node_index", description=__doc__.splitlines()[0])
    parser.add_argument("--project", required=True, help="the Kedro project folder")
    parser.add_argument("--out", required=True, help="where to write the index (JSON)")
    args = parser.parse_args(argv)
    with stdout_reserved() as out:
        try:
            summary = write_index(args.project, Path(args.out))
        except UserError as exc:
            exc.print(sys.stderr)
            return 2
        out.write(json.dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
