"""The smoke test that runs inside a freshly built image, before it is pushed.

    python3 -m kedro_sfn.smoke --spec JSON

It does, in the image and without touching any data, what every Lambda does
first: import the handler, bootstrap the project from the installed wheel and
the image's conf, import the pipeline's node functions, and build the catalog
of the Kedro env (every dataset the pipeline uses, factory patterns resolved).
It also checks the image against the interpreter that inspected the project:
the same Kedro version, and every distribution the project's code and dataset
classes import.

The spec (written by the TypeScript side)::

    {"env": "aws", "pipeline": "__default__", "kedro": "1.7.0",
     "pipelines": ["a", "b"],                       # optional: several sharing the image
     "requirements": "requirements.txt",           # the file the image installed
     "imports": [{"distribution", "version", "module", "by"}],
     "datasets": ["companies", ...]}

Prints one JSON line, ``{"ok": true, "seconds": ..., "checked": {...}}`` or
``{"ok": false, "problems": [{"message", "hint"}]}``, and exits 0 or 1.
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

LAMBDA_ENTRYPOINT = "/lambda-entrypoint.sh"


class Problem(Exception):
    """One thing the image gets wrong, with what to change."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.message = message
        self.hint = hint


def _add_to(spec: dict[str, Any]) -> str:
    return spec.get("requirements") or "the project's requirements file (input 'requirements')"


def check_kedro(spec: dict[str, Any]) -> str:
    import kedro

    wanted = spec.get("kedro")
    if wanted and kedro.__version__ != wanted:
        raise Problem(
            f"The image has Kedro {kedro.__version__}, but the project was inspected and "
            f"packaged with Kedro {wanted}.",
            f"Pin `kedro=={wanted}` in {_add_to(spec)}, or inspect with the Kedro the image should run.",
        )
    return kedro.__version__


def missing_distributions(spec: dict[str, Any]) -> list[Problem]:
    problems = []
    for entry in spec.get("imports", []):
        try:
            metadata.version(entry["distribution"])
        except metadata.PackageNotFoundError:
            problems.append(
                Problem(
                    f"The image lacks '{entry['distribution']}' (module '{entry['module']}', "
                    f"imported by {entry['by']}; {entry['version']} where the project was inspected).",
                    f"Add `{entry['distribution']}=={entry['version']}` (or a range that includes it) "
                    f"to {_add_to(spec)}.",
                )
            )
    return problems


def check_entrypoint() -> str:
    """Lambda needs a runtime client: the AWS base image's own, or awslambdaric."""
    if Path(LAMBDA_ENTRYPOINT).exists():
        return "aws-lambda-base"
    try:
        import awslambdaric  # noqa: F401
    except ImportError as exc:
        raise Problem(
            f"The image has neither {LAMBDA_ENTRYPOINT} nor the awslambdaric package ({exc}): "
            "Lambda could not start the handler.",
            "Use an AWS Lambda base image for 'base-image', or install awslambdaric in your Dockerfile "
            'and set ENTRYPOINT ["python3", "-m", "awslambdaric"].',
        ) from exc
    return "awslambdaric"


def import_problem(exc: BaseException, spec: dict[str, Any], what: str) -> Problem:
    """An import that fails in the image, tied to the distribution the inspecting interpreter had."""
    module = getattr(exc, "name", None) or ""
    top = module.split(".")[0]
    known = next((e for e in spec.get("imports", []) if e["module"] == top), None)
    if isinstance(exc, ModuleNotFoundError) and known:
        return Problem(
            f"{what} failed in the image: no module named '{module}' ({known['distribution']} "
            f"{known['version']} where the project was inspected).",
            f"Add `{known['distribution']}=={known['version']}` to {_add_to(spec)}.",
        )
    if isinstance(exc, ModuleNotFoundError):
        return Problem(
            f"{what} failed in the image: no module named '{module}'.",
            f"Add the package that provides '{top}' to {_add_to(spec)}.",
        )
    return Problem(f"{what} failed in the image: {type(exc).__name__}: {exc}", _traceback_hint(exc))


def _traceback_hint(exc: BaseException) -> str:
    import traceback

    frames = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return "Where it failed:\n" + "".join(frames[-6:]).rstrip()


def resolve_datasets(catalog: Any, names: list[str]) -> int:
    """Instantiate every dataset the pipeline uses (no loads, no saves); return how many."""
    get = getattr(catalog, "_get_dataset", None) or catalog.get
    count = 0
    for name in names:
        if name == "parameters" or name.startswith("params:"):
            continue
        try:
            get(name)
        except Exception as exc:  # noqa: BLE001 - any dataset that cannot be built
            cause = exc.__cause__ or exc
            if isinstance(cause, ModuleNotFoundError):
                raise cause from exc
            raise Problem(
                f"Dataset '{name}' cannot be created in the image: {type(exc).__name__}: {exc}",
                "Its catalog entry (or the credentials it names) must work with the image's conf: "
                "conf/local is not in the package, so credentials kept there are missing in AWS.",
            ) from exc
        count += 1
    return count


def run(spec: dict[str, Any]) -> dict[str, Any]:
    from kedro_sfn.lambda_env import prepare_process

    started = time.perf_counter()
    prepare_process()
    problems: list[Problem] = []
    checked: dict[str, Any] = {}
    try:
        checked["kedro"] = check_kedro(spec)
    except Problem as problem:
        problems.append(problem)
    problems.extend(missing_distributions(spec))
    try:
        checked["runtime"] = check_entrypoint()
    except Problem as problem:
        problems.append(problem)
    if problems:
        return _result(started, problems, checked)
    try:
        checked.update(_project_checks(spec))
    except Problem as problem:
        problems.append(problem)
    return _result(started, problems, checked)


def _project_checks(spec: dict[str, Any]) -> dict[str, Any]:
    from kedro_sfn.handler import ProjectRuntime

    env = spec.get("env") or os.environ.get("KEDRO_ENV") or "aws"
    package = os.environ.get("KEDRO_SFN_PACKAGE")
    conf_source = os.environ.get("KEDRO_SFN_CONF_SOURCE") or None
    try:
        runtime = ProjectRuntime(env, None, package, conf_source)
    except Exception as exc:  # noqa: BLE001
        raise import_problem(exc, spec, "Bootstrapping the project") from exc
    from kedro.framework.project import pipelines

    # Several pipelines share one image (the action's `pipeline: a,b`): each must be there.
    names = spec.get("pipelines") or [spec.get("pipeline") or "__default__"]
    nodes: set[str] = set()
    indexed: list[str] = []
    for name in names:
        try:
            pipeline = pipelines[name]
        except KeyError:
            raise Problem(
                f"The installed project has no pipeline '{name}' in the image.",
                "The wheel must hold the same pipeline_registry.py as the inspected project.",
            ) from None
        except Exception as exc:  # noqa: BLE001
            raise import_problem(exc, spec, "Importing the project's pipelines") from exc
        nodes.update(node.name for node in pipeline.nodes)
        indexed.append(_check_node_index(pipeline, runtime.package, name))
    checked: dict[str, Any] = {"nodes": len(nodes)}
    checked["node_index"] = "; ".join(indexed)
    if str(runtime.conf_source).startswith("s3://"):
        checked["catalog"] = "not built: conf is read from S3 at run time"
        return checked
    try:
        context = _context(runtime, env)
        checked["datasets"] = resolve_datasets(context.catalog, spec.get("datasets") or [])
    except Problem:
        raise
    except Exception as exc:  # noqa: BLE001
        if "configuration path either does not exist" in str(exc):
            raise Problem(
                f"The image's conf ({runtime.conf_source}) has no env '{env}': the Lambdas would run "
                "without its catalog and parameters.",
                f"Put conf/{env}/ in the project's conf folder (kedro package packs conf/ without "
                "conf/local), or set input 'kedro-env' to an env that is there.",
            ) from exc
        raise import_problem(exc, spec, f"Building the catalog of env '{env}'") from exc
    return checked


def _check_node_index(pipeline: Any, package: str, name: str) -> str:
    """The node index in the image against the registry just loaded: never a wrong node."""
    from kedro_sfn.node_index import check_against

    summary, wrong = check_against(pipeline, package, name)
    if wrong:
        raise Problem(
            f"The node index in the image rebuilds {len(wrong)} node(s) differently from the "
            f"project's registry: {', '.join(wrong[:5])}.",
            "This is a kedro-sfn bug: report it. Meanwhile set KEDRO_SFN_NODE_INDEX=off in the "
            "image (the Lambdas then load the full registry).",
        )
    return summary


def _context(runtime: Any, env: str) -> Any:
    """The context a Lambda's first run gets: the warm service session's, else a fresh session's."""
    service = getattr(runtime, "_service", None)
    if service is not None:
        return service.load_context()
    from kedro.framework.session import KedroSession

    session = KedroSession.create(
        project_path=runtime.project_path, save_on_close=False, env=env, conf_source=runtime.conf_source
    )
    try:
        return session.load_context()
    finally:
        session.close()


def _result(started: float, problems: list[Problem], checked: dict[str, Any]) -> dict[str, Any]:
    seconds = round(time.perf_counter() - started, 3)
    if problems:
        return {"ok": False, "seconds": seconds, "problems": [{"message": p.message, "hint": p.hint} for p in problems]}
    return {"ok": True, "seconds": seconds, "checked": checked}


def main(argv: list[str] | None = None) -> int:
    from kedro_sfn.stdio import stdout_reserved

    parser = argparse.ArgumentParser(prog="python3 -m kedro_sfn.smoke", description=__doc__.splitlines()[0])
    parser.add_argument("--spec", required=True, help="what to check, as JSON")
    args = parser.parse_args(argv)
    with stdout_reserved() as out:
        result = run(json.loads(args.spec))
        out.write(json.dumps(result) + "\n")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
