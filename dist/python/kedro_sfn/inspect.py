"""Print a Kedro project's pipeline graph as ``kedro-sfn/graph@1`` JSON.

    python -m kedro_sfn.inspect --project DIR [--pipeline P] [--env E]
    python -m kedro_sfn.inspect --project DIR --pipelines a,b|all [--env E]   (kedro-sfn/graphs@1)
    ... [--node-index FILE]   also writes the node index (kedro_sfn.node_index) from the same registry

Stdout carries only the JSON. A user error prints one JSON line on stderr,
``{"error": {"kind", "message", "hint", "file"}}``, and exits 2; an internal
error exits 1 with a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import warnings
from pathlib import Path
from typing import Any

from kedro_sfn import GRAPH_SCHEMA
from kedro_sfn.catalog_fixes import add_catalog_details
from kedro_sfn.datasets import CatalogIndex, describe, is_parameter
from kedro_sfn.errors import UserError
from kedro_sfn.lambda_env import silence_known_warnings
from kedro_sfn.runtime_deps import runtime_profile
from kedro_sfn.project import (
    BootstrappedProject,
    bootstrap,
    conf_source_of,
    config_error,
    import_kedro,
    project_code_error,
    quiet_kedro_environment,
    require_env,
    require_project_folder,
)
from kedro_sfn.stdio import stdout_reserved

EXIT_USER_ERROR = 2


def build_graph(
    project: str | Path,
    pipeline: str = "__default__",
    env: str = "aws",
    resolver: str = "auto",
    node_index: Path | None = None,
) -> dict[str, Any]:
    """Return the graph of ``pipeline`` in the project at ``project`` with Kedro env ``env``.

    Nodes come in Kedro's topological order. ``resolver`` picks how dataset types
    are found: ``snapshot`` (``kedro.inspection``, Kedro >= 1.4), ``config``
    (catalog config + factory patterns), or ``auto`` (snapshot when available).
    Raises UserError for anything the user must fix.
    """
    return build_graphs(project, [pipeline], env, resolver, node_index)["graphs"][0]


ALL_PIPELINES = "all"


def build_graphs(
    project: str | Path,
    pipelines: list[str] | None,
    env: str = "aws",
    resolver: str = "auto",
    node_index: Path | None = None,
) -> dict[str, Any]:
    """The graphs of several pipelines from one bootstrap of the project (one Python start-up).

    ``pipelines`` None means every registered pipeline but ``__default__`` (the
    action's ``pipeline: all``). Returns ``{"schema", "registered", "graphs"}``,
    the graphs in the order asked. Every name is checked before any graph is built.
    ``node_index``: also write the node index of every registered pipeline there (see
    kedro_sfn.node_index), from the registry loaded here; each graph then names the file.
    """
    project_path = require_project_folder(project)
    kedro = import_kedro()
    proj = bootstrap(project_path)
    try:
        conf_source = conf_source_of(proj)
    except Exception as exc:
        raise project_code_error(exc, proj.path, "Loading the project's settings") from exc
    require_env(conf_source, env)
    registry, load_warnings, import_errors = _load_pipelines(proj)
    registered = sorted(registry)
    wanted = [name for name in registered if name != "__default__"] if pipelines is None else pipelines
    unknown = [name for name in wanted if name not in registry]
    if unknown or not wanted:
        known = ", ".join(registered) or "none"
        listed = ", ".join(f"'{name}'" for name in unknown)
        what = (
            f"The project has no pipeline named {listed}. Pipelines: {known}."
            if unknown
            else f"The project registers no pipeline but '__default__'. Pipelines: {known}."
        )
        raise UserError(
            "unknown_pipeline",
            what,
            "Set the action input 'pipeline' (CLI: --pipeline) to one of these (several: "
            "'a,b'; every one but __default__: 'all'), or register the pipeline in "
            "register_pipelines() of pipeline_registry.py.",
            None,
        )
    if node_index is not None:
        _write_node_index(registry, proj, kedro.__version__, node_index)
    snapshots: dict[str, Any] = {}
    graphs = [
        _graph_of(kedro, proj, conf_source, env, resolver, name, registry[name], load_warnings, import_errors, snapshots)
        for name in wanted
    ]
    if node_index is not None and node_index.is_file():
        for graph in graphs:
            graph["node_index_file"] = str(node_index)
    return {"schema": GRAPHS_SCHEMA, "registered": registered, "graphs": graphs}


def _write_node_index(registry: dict[str, Any], proj: BootstrappedProject, kedro_version: str, out: Path) -> None:
    """The node index from the registry already loaded (the image build's second import, saved).

    Without an index the Lambdas load the full registry (slower cold starts, same results), so
    a failure here is a warning on stderr, never a failed inspection; the file is then absent.
    """
    from kedro_sfn.node_index import build_index, save_index

    package_dir = Path(proj.metadata.source_dir) / proj.package_name
    try:
        out.unlink(missing_ok=True)
        save_index(build_index(registry, proj.package_name, package_dir, kedro_version), out)
    except Exception as exc:  # noqa: BLE001 - any failure only costs cold-start time
        with contextlib.suppress(OSError):
            out.unlink(missing_ok=True)
        print(f"kedro-sfn: no node index ({type(exc).__name__}: {exc})", file=sys.stderr)


GRAPHS_SCHEMA = "kedro-sfn/graphs@1"


def _graph_of(
    kedro: Any,
    proj: BootstrappedProject,
    conf_source: str,
    env: str,
    resolver: str,
    pipeline: str,
    registered: Any,
    load_warnings: list[str],
    import_errors: list[dict[str, str]],
    snapshots: dict[str, Any],
) -> dict[str, Any]:
    nodes = [_node_json(node) for node in registered.nodes]
    names = sorted(
        {ds for n in nodes for ds in (*n["inputs"], *n["outputs"]) if not is_parameter(ds)}
    )
    use_snapshot = resolver == "snapshot" or (resolver == "auto" and _has_snapshot())
    try:
        if use_snapshot:
            configs, parameters = _configs_from_snapshot(proj, env, names, snapshots)
        else:
            configs, parameters = _configs_from_config(conf_source, env, names)
    except UserError:
        raise
    except Exception as exc:
        raise config_error(exc, conf_source, env) from exc
    datasets, type_warnings = describe(names, configs)
    extras: dict[str, Any] = {"datasets": datasets}
    try:
        add_catalog_details(extras, conf_source, env)
    except Exception as exc:
        raise config_error(exc, conf_source, env) from exc
    package_dir = Path(proj.metadata.source_dir) / proj.package_name
    return {
        "schema": GRAPH_SCHEMA,
        "project": {
            "name": proj.project_name,
            "package": proj.package_name,
            "kedro_version": kedro.__version__,
        },
        "pipeline": pipeline,
        "env": env,
        "nodes": nodes,
        "datasets": datasets,
        "parameters": parameters,
        "warnings": load_warnings + type_warnings,
        "pipeline_import_errors": import_errors,
        "runtime": runtime_profile(proj.path, package_dir, datasets, kedro.__version__),
        "catalog_entries": extras["catalog_entries"],
        "catalog_root": extras["catalog_root"],
    }


def _load_pipelines(proj: BootstrappedProject) -> tuple[dict[str, Any], list[str], list[dict[str, str]]]:
    """Import the project's pipeline registry.

    Returns the registry, find_pipelines() warnings as one-line messages, and the
    pipeline modules find_pipelines() skipped because they raised on import
    (``{"module", "error"}``): those shrink the pipeline without failing, so the
    caller decides.
    """
    from kedro.framework.project import pipelines

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            registry = dict(pipelines)
        except Exception as exc:
            raise project_code_error(exc, proj.path, "Importing the project's pipelines") from exc
    messages: list[str] = []
    import_errors: list[dict[str, str]] = []
    for w in caught:
        text = str(w.message)
        if "find_pipelines" not in text and "create_pipeline" not in text:
            continue
        skipped = _import_error_of(text)
        if skipped is not None:
            import_errors.append(skipped)
        else:
            messages.append(" ".join(text.split()))
    return {k: v for k, v in registry.items() if v is not None}, messages, import_errors


_IMPORT_ERROR = re.compile(r"An error occurred while importing the '([^']+)' module")


def _import_error_of(message: str) -> dict[str, str] | None:
    """``{"module", "error"}`` from find_pipelines()'s import warning; the error is the traceback's last line."""
    match = _IMPORT_ERROR.search(message)
    if match is None:
        return None
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    last = lines[-1] if len(lines) > 1 else ""
    # Without a traceback (a requested pipeline that does not exist) there is no error line.
    error = "" if last.startswith("An error occurred") else last
    return {"module": match.group(1), "error": error}


def _node_json(node: Any) -> dict[str, Any]:
    return {
        "name": node.name,
        "namespace": node.namespace or None,
        "tags": sorted(node.tags),
        "inputs": list(node.inputs),
        "outputs": list(node.outputs),
    }


def _has_snapshot() -> bool:
    try:
        from kedro.inspection import get_project_snapshot  # noqa: F401
    except ImportError:
        return False
    return True


def _configs_from_snapshot(
    proj: BootstrappedProject, env: str, names: list[str], snapshots: dict[str, Any] | None = None
) -> tuple[dict[str, dict[str, Any] | None], list[str]]:
    """Dataset types and parameter keys from ``kedro.inspection.get_project_snapshot`` (one per env)."""
    from kedro.inspection import get_project_snapshot

    cache = {} if snapshots is None else snapshots
    if env not in cache:
        cache[env] = get_project_snapshot(metadata=proj.metadata, env=env)
    snapshot = cache[env]
    configs: dict[str, dict[str, Any] | None] = {
        name: {"type": snapshot.datasets[name].type, "filepath": snapshot.datasets[name].filepath}
        if name in snapshot.datasets
        else None
        for name in names
    }
    return configs, sorted(snapshot.parameters)


def _configs_from_config(
    conf_source: str, env: str, names: list[str]
) -> tuple[dict[str, dict[str, Any] | None], list[str]]:
    """Dataset types and parameter keys from the project's config loader (any Kedro line)."""
    from kedro.config import MissingConfigException
    from kedro.framework.project import settings

    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=conf_source, env=env, runtime_params=None, **settings.CONFIG_LOADER_ARGS
    )
    try:
        catalog_config = loader["catalog"]
    except (KeyError, MissingConfigException):
        catalog_config = {}
    try:
        parameters = sorted(loader["parameters"].keys())
    except (KeyError, MissingConfigException):
        parameters = []
    index = CatalogIndex(catalog_config)
    return {name: index.config_for(name) for name in names}, parameters


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 2 user error)."""
    parser = argparse.ArgumentParser(prog="python -m kedro_sfn.inspect", description=__doc__.splitlines()[0])
    parser.add_argument("--project", required=True, help="folder with the project's pyproject.toml")
    parser.add_argument("--pipeline", default="__default__", help="registered pipeline name")
    parser.add_argument(
        "--pipelines",
        default=None,
        help="several pipelines, comma-separated, or 'all' (every one but __default__): prints "
        "kedro-sfn/graphs@1 with one graph each",
    )
    parser.add_argument("--env", default="aws", help="Kedro configuration environment")
    parser.add_argument(
        "--node-index",
        default=None,
        help="also write the node index (kedro_sfn.node_index) of every registered pipeline to this file",
    )
    parser.add_argument(
        "--resolver", choices=["auto", "snapshot", "config"], default="auto", help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    quiet_kedro_environment(str(Path(__file__).with_name("logging_quiet.yml")))
    silence_known_warnings()
    with stdout_reserved() as out:
        try:
            index = Path(args.node_index) if args.node_index else None
            if args.pipelines is None:
                result = build_graph(args.project, args.pipeline, args.env, args.resolver, index)
            else:
                names = None if args.pipelines == ALL_PIPELINES else args.pipelines.split(",")
                result = build_graphs(args.project, names, args.env, args.resolver, index)
        except UserError as error:
            error.print(sys.stderr)
            return EXIT_USER_ERROR
        out.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
