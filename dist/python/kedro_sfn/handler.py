"""AWS Lambda entry point that runs Kedro nodes: ``kedro_sfn.handler.handler``.

Event (what the state machine's Task sends)::

    {"nodes": ["data_science.train_model_node"],   # Kedro node names, in order
     "kedro_sfn": {"run_id": "<execution name>", "skip": []},  # see kedro_sfn.resume
     "run_id": "<execution name>" (older definitions; wins over kedro_sfn.run_id),
     "params": {...} | null,                      # Kedro runtime parameters
     "version": "<timestamp>" (optional),         # see kedro_sfn.version
     "pipeline": "__default__" (optional)}

Environment:
    KEDRO_ENV                 Kedro configuration environment (default ``aws``).
    KEDRO_SFN_PROJECT_PATH    a project folder with pyproject.toml (tests, local runs);
    KEDRO_SFN_PACKAGE         or, in the image, the installed package name.
    KEDRO_SFN_CONF_SOURCE     configuration: folder, .tar.gz/.zip, or s3:// URL
                              (default: the project's conf, or ./conf in the image).
    KEDRO_SFN_PIPELINE        pipeline holding the nodes (default ``__default__``).
    KEDRO_SFN_DATA_LOCATION   s3://bucket/prefix/<state machine>: in-memory datasets that
                              cross tasks go to the run store there (kedro_sfn.runstore).
    KEDRO_SFN_NODE_INDEX      the node index (kedro_sfn.node_index; default: .kedro-sfn/
                              node-index.json beside kedro_sfn, where the image has it),
                              or ``off`` to load the full pipeline registry.

Returns ``{"nodes": [{"name", "seconds"}], "outputs": [...], "version", "run_id",
"run_store": {dataset: folder}}`` (run_store: the crossing datasets this task saved or
loaded through the run store).
A failure raises an exception named like the user's exception class, whose
message names the node.

Command line (the local Lambda emulator and tests)::

    python -m kedro_sfn.handler --event JSON [--project DIR]

prints the result JSON and exits 0, or prints Lambda's error JSON
``{"errorType", "errorMessage", "stackTrace"}`` and exits 1.
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kedro_sfn.lambda_env import prepare_process
from kedro_sfn.runhooks import RunHooks, crossing_datasets, data_location
from kedro_sfn.version import version_for

logger = logging.getLogger("kedro_sfn.handler")


class InvalidEventError(ValueError):
    """The Lambda event does not have the shape the state machine sends."""


class KedroNodeError(Exception):
    """Base of the errors raised for a failed node; subclasses carry the user's class name."""


@dataclass(frozen=True)
class RunRequest:
    """One invocation: which nodes, for which run, with which parameters."""

    nodes: list[str]
    run_id: str
    params: dict[str, Any]
    version: str
    pipeline: str


def parse_event(event: Any) -> RunRequest:
    """Validate the event and return a RunRequest, or raise InvalidEventError."""
    if not isinstance(event, dict):
        raise InvalidEventError(f"The event must be a JSON object, got {type(event).__name__}.")
    nodes = event.get("nodes")
    if not isinstance(nodes, list) or not nodes or not all(isinstance(n, str) and n for n in nodes):
        raise InvalidEventError("The event's 'nodes' must be a non-empty list of Kedro node names.")
    run_id = event.get("run_id") or _context_run_id(event)
    if not isinstance(run_id, str) or not run_id:
        raise InvalidEventError("The event's 'run_id' must be a non-empty string (the execution name).")
    params = event.get("params")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise InvalidEventError("The event's 'params' must be a JSON object or null.")
    pipeline = event.get("pipeline") or os.environ.get("KEDRO_SFN_PIPELINE") or "__default__"
    try:
        version = version_for(run_id, event.get("version"))
    except ValueError as exc:
        raise InvalidEventError(str(exc)) from exc
    return RunRequest(list(nodes), run_id, params, version, str(pipeline))


def _context_run_id(event: dict[str, Any]) -> str | None:
    from kedro_sfn.resume import InvalidRunContextError, run_context

    try:
        return run_context(event).run_id
    except InvalidRunContextError as exc:
        raise InvalidEventError(str(exc)) from exc


@dataclass
class _NodeTimer:
    """Kedro hooks that time each node, loads and saves included, and note the one that failed."""

    first: dict[str, float] = field(default_factory=dict)
    last: dict[str, float] = field(default_factory=dict)
    failed: str | None = None
    current: str | None = None

    def seconds(self, name: str) -> float:
        return round(self.last.get(name, 0.0) - self.first.get(name, 0.0), 3)

    def _touch(self, node: Any) -> None:
        now = time.perf_counter()
        self.first.setdefault(node.name, now)
        self.last[node.name] = now
        self.current = node.name

    def hooks(self) -> Any:
        from kedro.framework.hooks import hook_impl

        timer = self

        class NodeTimerHooks:
            @hook_impl
            def before_dataset_loaded(self, node: Any) -> None:
                timer._touch(node)

            @hook_impl
            def before_node_run(self, node: Any) -> None:
                timer._touch(node)

            @hook_impl
            def after_node_run(self, node: Any) -> None:
                timer._touch(node)

            @hook_impl
            def after_dataset_saved(self, node: Any) -> None:
                timer._touch(node)

            @hook_impl
            def on_node_error(self, node: Any) -> None:
                timer.failed = node.name

        return NodeTimerHooks()


class ProjectRuntime:
    """A configured Kedro project, kept across warm invocations of one Lambda container.

    Imports, project settings and pipelines load once; every invocation gets a
    fresh catalog and context (a fresh session where Kedro needs one), so no
    dataset or parameter leaks from one run into the next.
    """

    def __init__(self, env: str, project_path: Path | None, package: str | None, conf_source: str | None):
        prepare_process()
        from kedro.framework.project import configure_project, settings

        self.env = env
        if project_path is not None:
            from kedro.framework.startup import bootstrap_project

            metadata = bootstrap_project(project_path)
            self.project_path = Path(metadata.project_path)
            self.package = metadata.package_name
        elif package:
            configure_project(package)
            self.project_path = Path.cwd()
            self.package = package
        else:
            raise RuntimeError(
                "kedro-sfn cannot find the Kedro project: set KEDRO_SFN_PACKAGE to the "
                "project's package name (in the image) or KEDRO_SFN_PROJECT_PATH to its folder."
            )
        self.conf_source = conf_source or str(self.project_path / settings.CONF_SOURCE)
        self._service = self._service_session()
        logger.info(
            "kedro-sfn: project %s, env %s, conf %s, %s",
            self.package,
            env,
            self.conf_source,
            "KedroServiceSession" if self._service else "a KedroSession per invocation",
        )

    def _service_session(self) -> Any | None:
        """A KedroServiceSession (Kedro >= 1.4: many runs, run_id = save version), or None."""
        try:
            from kedro.framework.session import KedroServiceSession
        except ImportError:
            return None
        accepted = inspect.signature(KedroServiceSession.run).parameters
        if not {"run_id", "runtime_params", "load_versions", "node_names"} <= set(accepted):
            return None
        return KedroServiceSession.create(
            project_path=self.project_path, env=self.env, conf_source=self.conf_source
        )

    def run(self, request: RunRequest) -> dict[str, Any]:
        """Run the request's nodes under the request's version; return the result dict."""
        from kedro.framework.project import pipelines

        from kedro_sfn.node_index import pipeline_for

        try:
            # The node index imports only the requested nodes' modules (a cold start's cost).
            pipeline = pipeline_for(self.package, request.pipeline, request.nodes)
        except KeyError:
            raise ValueError(
                f"The project has no pipeline named '{request.pipeline}' (pipelines: "
                f"{', '.join(sorted(pipelines.keys()))}); set the event's 'pipeline' or "
                "KEDRO_SFN_PIPELINE."
            ) from None
        load_versions = self._pinned_load_versions(pipeline, request)
        timer = _NodeTimer()
        run_hooks = RunHooks(
            crossing_datasets(pipeline.nodes, request.nodes), data_location(), request.run_id, self.env
        )
        session = self._service or self._one_run_session(request)
        # Sessions expose no public way to add a hook; _hook_manager exists on every line.
        registered = [timer.hooks(), run_hooks.kedro_hooks()]
        for hooks in registered:
            session._hook_manager.register(hooks)
        try:
            self._run_session(session, request, load_versions)
        except Exception as exc:
            logger.exception("Kedro nodes %s of run %s failed", request.nodes, request.run_id)
            raise _node_error(exc, timer.failed or timer.current, request.nodes) from exc
        finally:
            for hooks in registered:
                session._hook_manager.unregister(hooks)
            if session is not self._service:
                session.close()
        by_name = {node.name: node for node in pipeline.nodes}
        return {
            "nodes": [{"name": n, "seconds": timer.seconds(n)} for n in request.nodes],
            "outputs": [o for n in request.nodes for o in by_name[n].outputs],
            "version": request.version,
            "run_id": request.run_id,
            "run_store": run_hooks.stored,
        }

    def _run_session(self, session: Any, request: RunRequest, load_versions: dict[str, str]) -> None:
        if session is self._service:
            session.run(
                run_id=request.version,
                pipeline_names=[request.pipeline],
                node_names=request.nodes,
                load_versions=load_versions,
                runtime_params=request.params,
            )
            return
        accepted = inspect.signature(session.run).parameters
        selector = (
            {"pipeline_names": [request.pipeline]}
            if "pipeline_names" in accepted
            else {"pipeline_name": request.pipeline}
        )
        session.run(node_names=request.nodes, load_versions=load_versions, **selector)

    def _one_run_session(self, request: RunRequest) -> Any:
        """A KedroSession (one run each) whose session id, the save version, is the run's version."""
        from kedro.framework.session import KedroSession

        accepted = inspect.signature(KedroSession.create).parameters
        params_arg = "runtime_params" if "runtime_params" in accepted else "extra_params"
        session = KedroSession.create(
            project_path=self.project_path,
            save_on_close=False,
            env=self.env,
            conf_source=self.conf_source,
            **{params_arg: request.params},
        )
        # KedroSession takes its save version from the session id, set to the clock at
        # create(); the store is where run() reads it.
        session.session_id = request.version
        session._store["session_id"] = request.version
        return session

    def _pinned_load_versions(self, pipeline: Any, request: RunRequest) -> dict[str, str]:
        """Versioned inputs made by this pipeline load the run's own version, not "latest"."""
        from kedro.config import MissingConfigException
        from kedro.framework.project import settings

        from kedro_sfn.datasets import CatalogIndex

        wanted = set(request.nodes)
        made_here = {o for node in pipeline.nodes for o in node.outputs}
        inputs = {i for node in pipeline.nodes if node.name in wanted for i in node.inputs}
        candidates = sorted(inputs & made_here)
        if not candidates:
            return {}
        loader = settings.CONFIG_LOADER_CLASS(
            conf_source=self.conf_source,
            env=self.env,
            runtime_params=request.params,
            **settings.CONFIG_LOADER_ARGS,
        )
        try:
            index = CatalogIndex(loader["catalog"])
        except (KeyError, MissingConfigException):
            return {}
        pinned = {}
        for name in candidates:
            config = index.config_for(name)
            if config and config.get("versioned"):
                pinned[name] = request.version
        return pinned


def _node_error(exc: BaseException, failed: str | None, nodes: list[str]) -> KedroNodeError:
    """Return an error named like ``exc``'s class whose message names the failed node."""
    from kedro_sfn.errors import find_in_chain

    # Kedro 1.x's catalog wraps a dataset's error in a DatasetError: show the run store's own.
    exc = find_in_chain(exc, "DatasetNotSerialisable") or exc
    cls = type(exc)
    named = type(cls.__name__, (KedroNodeError,), {"__module__": cls.__module__})
    where = f"Kedro node '{failed}'" if failed else f"Kedro run of nodes {nodes}"
    error = named(f"{where} failed: {exc}")
    return error.with_traceback(exc.__traceback__)


_RUNTIME: dict[tuple[Any, ...], ProjectRuntime] = {}


def _runtime() -> ProjectRuntime:
    """The ProjectRuntime for the current environment variables, built on first use."""
    project = os.environ.get("KEDRO_SFN_PROJECT_PATH")
    key = (
        os.environ.get("KEDRO_ENV") or "aws",
        Path(project).resolve() if project else None,
        os.environ.get("KEDRO_SFN_PACKAGE"),
        os.environ.get("KEDRO_SFN_CONF_SOURCE"),
    )
    if key not in _RUNTIME:
        from kedro_sfn.node_index import cold_start_imports

        _RUNTIME.clear()
        with cold_start_imports():
            _RUNTIME[key] = ProjectRuntime(*key)
    return _RUNTIME[key]


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """AWS Lambda entry point: run the event's Kedro nodes (see the module doc)."""
    skipped = _skipped(event)
    if skipped is not None:
        return skipped
    request = parse_event(event)
    runtime = _runtime()
    logger.info(
        "kedro-sfn: run %s, version %s, nodes %s", request.run_id, request.version, request.nodes
    )
    return runtime.run(request)


def _skipped(event: Any) -> dict[str, Any] | None:
    """A resume's Task whose nodes all succeeded in the run it resumes: answered before any import."""
    from kedro_sfn.resume import InvalidRunContextError, skip_result

    try:
        result = skip_result(event)
    except InvalidRunContextError as exc:
        raise InvalidEventError(str(exc)) from exc
    if result is not None:
        logger.info("kedro-sfn: run %s, nodes %s skipped: they succeeded in %s",
                    result["run_id"], event["nodes"], result["skipped"]["execution"])
    return result


def lambda_error(exc: BaseException) -> dict[str, Any]:
    """Return ``exc`` as the error object AWS Lambda reports for an unhandled exception."""
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: run one event; print the result (exit 0) or Lambda's error JSON (exit 1)."""
    from kedro_sfn.stdio import stdout_reserved

    parser = argparse.ArgumentParser(prog="python -m kedro_sfn.handler", description="Run Kedro nodes as the Lambda handler would.")
    parser.add_argument("--event", required=True, help="the Lambda event as JSON")
    parser.add_argument("--project", help="project folder (sets KEDRO_SFN_PROJECT_PATH)")
    args = parser.parse_args(argv)
    if args.project:
        os.environ["KEDRO_SFN_PROJECT_PATH"] = args.project
    with stdout_reserved() as out:
        try:
            result = handler(json.loads(args.event), None)
        except Exception as exc:  # noqa: BLE001 - every failure becomes Lambda's error JSON
            traceback.print_exc(file=sys.stderr)
            out.write(json.dumps(lambda_error(exc)) + "\n")
            return 1
        out.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
