"""Find a Kedro project, import Kedro, and bootstrap the project with errors a user can act on."""

from __future__ import annotations

import os
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro_sfn.errors import UserError, culprit_file, find_in_chain, traceback_tail

_TOOL_KEDRO_RE = re.compile(r"^\s*\[tool\.kedro\]\s*$", re.MULTILINE)


def quiet_kedro_environment(logging_config: str) -> None:
    """Turn off telemetry and point Kedro's logging at ``logging_config``.

    Must run before ``kedro.framework.project`` is imported: Kedro reads its
    logging configuration once, at import.
    """
    os.environ["KEDRO_DISABLE_TELEMETRY"] = "1"
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ["KEDRO_LOGGING_CONFIG"] = logging_config


def require_project_folder(project: str | os.PathLike[str]) -> Path:
    """Return the resolved project folder, or raise ``not_a_project``.

    A project is a folder with a pyproject.toml that has a ``[tool.kedro]`` table.
    """
    path = Path(project).expanduser()
    hint = (
        "Point --project (the action input 'project-path') at the folder that holds "
        "your Kedro project's pyproject.toml."
    )
    if not path.is_dir():
        raise UserError("not_a_project", f"'{project}' is not a folder.", hint, None)
    pyproject = path / "pyproject.toml"
    if not pyproject.is_file():
        raise UserError(
            "not_a_project",
            f"'{path}' has no pyproject.toml, so it is not a Kedro project.",
            hint,
            None,
        )
    if not _has_tool_kedro(pyproject):
        raise UserError(
            "not_a_project",
            f"'{pyproject}' has no [tool.kedro] table, so it is not a Kedro project.",
            "Add [tool.kedro] with package_name, project_name and kedro_init_version "
            "(as `kedro new` writes it), or point --project at another folder.",
            str(pyproject),
        )
    return path.resolve()


def _has_tool_kedro(pyproject: Path) -> bool:
    text = pyproject.read_text(encoding="utf-8", errors="replace")
    try:
        import tomllib
    except ImportError:  # Python 3.10
        return bool(_TOOL_KEDRO_RE.search(text))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return bool(_TOOL_KEDRO_RE.search(text))
    return isinstance(data.get("tool", {}).get("kedro"), dict)


def import_kedro() -> Any:
    """Import and return the ``kedro`` module, or raise ``kedro_missing``."""
    try:
        import kedro
    except ImportError as exc:
        raise UserError(
            "kedro_missing",
            f"Kedro is not installed in the Python interpreter '{sys.executable}' ({exc}).",
            f"Run `{sys.executable} -m pip install kedro` (better: install your project's "
            "requirements), or set the action input 'python' (CLI: --python) to the "
            "interpreter that has Kedro.",
            None,
        ) from exc
    return kedro


@dataclass(frozen=True)
class BootstrappedProject:
    """A Kedro project whose package is importable and configured."""

    path: Path
    package_name: str
    project_name: str
    kedro_init_version: str
    metadata: Any


def bootstrap(project_path: Path) -> BootstrappedProject:
    """Run Kedro's ``bootstrap_project`` on ``project_path``.

    Raises ``kedro_version_mismatch`` when the project was made for another
    Kedro line, ``not_a_project`` for a broken [tool.kedro] table.
    """
    from kedro import __version__ as kedro_version
    from kedro.framework.startup import bootstrap_project

    try:
        metadata = bootstrap_project(project_path)
    except Exception as exc:
        if not _raised_by_kedro_startup(exc):
            # bootstrap_project imports the project's settings.py, which may fail.
            raise project_code_error(exc, project_path, "Loading the project's settings") from exc
        if "does not match Kedro package version" in str(exc):
            init_version = _init_version(str(exc))
            raise UserError(
                "kedro_version_mismatch",
                f"The project was made with Kedro {init_version}, but the interpreter "
                f"'{sys.executable}' has Kedro {kedro_version}.",
                f"Install the Kedro line the project needs (`pip install \"kedro~={init_version}\"`), "
                "or set the action input 'python' to an interpreter that has it; after a "
                "migration, update kedro_init_version in pyproject.toml.",
                str(project_path / "pyproject.toml"),
            ) from exc
        raise UserError(
            "not_a_project",
            f"Kedro cannot read the project's metadata: {exc}",
            "Fix the [tool.kedro] table of pyproject.toml (package_name, project_name, "
            "kedro_init_version).",
            str(project_path / "pyproject.toml"),
        ) from exc
    return BootstrappedProject(
        path=Path(metadata.project_path),
        package_name=metadata.package_name,
        project_name=metadata.project_name,
        kedro_init_version=metadata.kedro_init_version,
        metadata=metadata,
    )


def _raised_by_kedro_startup(exc: BaseException) -> bool:
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and Path(frames[-1].filename).parts[-3:] == ("kedro", "framework", "startup.py")


def _init_version(message: str) -> str:
    match = re.search(r"project version (\S+) does not match", message)
    return match.group(1) if match else "?"


def project_code_error(exc: BaseException, project_path: Path | None, what: str) -> UserError:
    """Classify an exception raised while Kedro imported or built the project's code.

    Returns ``cycle`` for a CircularDependencyError anywhere in the chain,
    otherwise ``project_import_error`` with the traceback's tail.
    """
    cycle = find_in_chain(exc, "CircularDependencyError")
    if cycle is not None:
        return UserError(
            "cycle",
            f"Kedro reports a circular dependency: {cycle}",
            "A node's output feeds back into one of its own inputs: rename a dataset or "
            "split the node so the pipeline is a DAG.",
            culprit_file(cycle, project_path),
        )
    return UserError(
        "project_import_error",
        f"{what} raised {type(exc).__name__}: {exc}\n{traceback_tail(exc)}",
        "Fix the error in your project's code (the file named here), then check it "
        "with `kedro registry list` or `kedro run` locally.",
        culprit_file(exc, project_path),
    )


def conf_source_of(project: BootstrappedProject, conf_source: str | None = None) -> str:
    """Return the project's configuration source (``settings.CONF_SOURCE`` by default)."""
    if conf_source:
        return conf_source
    from kedro.framework.project import settings

    return str(project.path / settings.CONF_SOURCE)


def require_env(conf_source: str, env: str) -> None:
    """Raise ``env_missing`` when the local folder ``conf_source`` has no ``env`` folder.

    Archives and remote configuration sources are not checked here.
    """
    conf = Path(conf_source)
    if not conf.is_dir() or (conf / env).is_dir():
        return
    existing = sorted(p.name for p in conf.iterdir() if p.is_dir() and not p.name.startswith("."))
    raise UserError(
        "env_missing",
        f"The Kedro environment '{env}' does not exist: there is no folder '{conf / env}'. "
        f"Environments present: {', '.join(existing) or 'none'}.",
        f"Create {conf / env}/catalog.yml (every dataset passed between nodes on S3), "
        "or set the action input 'kedro-env' (CLI: --kedro-env) to one of the environments present.",
        str(conf),
    )


def config_error(exc: BaseException, conf_source: str, env: str) -> UserError:
    """Wrap an exception from Kedro's config loader as ``config_error``."""
    file = getattr(exc, "filename", None) or _yaml_file(exc)
    return UserError(
        "config_error",
        f"Kedro cannot load the configuration of environment '{env}' from '{conf_source}': "
        f"{type(exc).__name__}: {exc}",
        "Fix the YAML named in the message (check `kedro catalog list --env "
        f"{env}` locally).",
        file,
    )


def _yaml_file(exc: BaseException) -> str | None:
    match = re.search(r"""in ["']?(/[^"'\s,]+\.ya?ml)""", str(exc))
    return match.group(1) if match else None
