"""The project's wheel and conf archive, as ``kedro package`` makes them, in a fraction of the time.

    python -m kedro_sfn.package --project DIR

``kedro package`` runs ``python -m build --wheel`` (a fresh isolated environment with the
build backend installed into it from the package index, every time) and then tars the conf
folder without ``local/*.yml``. On a one-line change that was most of the rebuild's time on
the host. Here the isolated build environment is made once per build-system requirements and
Python version (and build configuration files), kept under the user's cache folder (``$XDG_CACHE_HOME/kedro-sfn/build-env``,
``KEDRO_SFN_BUILD_ENV`` to move it), and the backend builds the wheel in it through the same
PEP 517 hook ``build`` calls: the same wheel, without installing setuptools again. The conf
archive is written as ``kedro package`` writes it (the folder ``settings.CONF_SOURCE`` names,
``local/*.yml`` left out), while the backend runs.

When the cached environment cannot be made (no pip that installs into another interpreter,
no package index), the wheel is built as ``kedro package`` builds it, ``python -m build
--wheel``: slower, same result.

Prints one JSON line ``{"wheel", "conf_archive", "build_env"}`` (absolute paths; build_env:
"cached", "new" or "isolated"); the backend's own output goes to stderr. A failing build
exits 1 with the backend's output on stderr; a user error prints the inspector's error JSON
on stderr and exits 2.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import venv
from pathlib import Path
from typing import Any

#: What pip/build assume for a pyproject.toml without [build-system] (PEP 518).
DEFAULT_BUILD_SYSTEM = {"requires": ["setuptools>=40.8.0"], "build-backend": "setuptools.build_meta:__legacy__"}
ENV_VAR = "KEDRO_SFN_BUILD_ENV"


class BuildFailed(Exception):
    """The backend refused the project; the message holds its exit status."""


def build_system(project: Path) -> dict[str, Any]:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    with open(project / "pyproject.toml", "rb") as f:
        data = tomllib.load(f)
    table = data.get("build-system") or {}
    return {
        "requires": list(table.get("requires", DEFAULT_BUILD_SYSTEM["requires"])),
        "build-backend": table.get("build-backend", DEFAULT_BUILD_SYSTEM["build-backend"]),
        "backend-path": table.get("backend-path"),
    }


def cache_root() -> Path:
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kedro-sfn" / "build-env"


#: Files whose content decides what a backend asks for beyond [build-system] requires.
BUILD_CONFIG_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


def env_key(project: Path, system: dict[str, Any]) -> str:
    """One environment per interpreter, build requirements and build configuration.

    The backend's own extra requirements (``get_requires_for_build_wheel``: ``wheel`` for old
    setuptools, ``setup_requires``, hatch hooks) are asked once, when the environment is made;
    they depend on these files, so a change to them makes a new environment.
    """
    digest = hashlib.sha256(json.dumps([sys.version, sys.executable, sorted(system["requires"])]).encode())
    for name in BUILD_CONFIG_FILES:
        path = project / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"-") + b"\0")
    return digest.hexdigest()[:20]


def _python_of(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _pip_install(env: Path, requirements: list[str]) -> None:
    if not requirements:
        return
    # The running interpreter's pip installs into the new one (pip >= 22.3): no pip in the env.
    cmd = [sys.executable, "-m", "pip", "--python", str(_python_of(env)), "install", "--disable-pip-version-check"]
    done = subprocess.run([*cmd, "--quiet", *requirements], stdout=sys.stderr, stderr=sys.stderr)
    if done.returncode != 0:
        raise OSError(f"pip could not install {', '.join(requirements)} into {env} (exit {done.returncode})")


def build_env(project: Path, system: dict[str, Any]) -> tuple[Path, str]:
    """The cached environment holding the backend and what it asks for (made on first use)."""
    env = cache_root() / env_key(project, system)
    if (env / "ready").is_file():
        return env, "cached"
    partial = env.with_name(f"{env.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    try:
        venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(partial)
        _pip_install(partial, system["requires"])
        # What the backend wants on top (old setuptools: wheel), asked once for this env.
        extra = _hooks(project, system, partial).get_requires_for_build_wheel({})
        _pip_install(partial, [r for r in extra if r not in system["requires"]])
        (partial / "ready").write_text(json.dumps(system), encoding="utf-8")
        try:
            partial.rename(env)
        except OSError:
            # Another build made it meanwhile: use theirs.
            shutil.rmtree(partial, ignore_errors=True)
        return env, "new"
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def _quiet_runner(cmd: list[str], cwd: str | None = None, extra_environ: dict[str, str] | None = None) -> None:
    """pyproject_hooks' runner with the backend's stdout on stderr: stdout carries our JSON only."""
    env = {**os.environ, **(extra_environ or {})}
    done = subprocess.run(cmd, cwd=cwd, env=env, stdout=sys.stderr, stderr=sys.stderr)
    if done.returncode != 0:
        raise BuildFailed(f"the build backend exited {done.returncode}")


def _hooks(project: Path, system: dict[str, Any], env: Path) -> Any:
    from pyproject_hooks import BuildBackendHookCaller

    return BuildBackendHookCaller(
        str(project),
        system["build-backend"],
        backend_path=system["backend-path"],
        python_executable=str(_python_of(env)),
        runner=_quiet_runner,
    )


def build_wheel(project: Path, dist: Path) -> tuple[Path, str]:
    """The project's wheel in ``dist``, and how its build environment was found."""
    system = build_system(project)
    dist.mkdir(parents=True, exist_ok=True)
    try:
        env, how = build_env(project, system)
    except (OSError, subprocess.SubprocessError, BuildFailed) as exc:
        print(f"kedro-sfn: no cached build environment ({exc}); building as kedro package does.", file=sys.stderr)
        return _isolated_build(project, dist), "isolated"
    name = _hooks(project, system, env).build_wheel(str(dist.resolve()))
    return dist / name, how


def _isolated_build(project: Path, dist: Path) -> Path:
    before = set(dist.glob("*.whl"))
    cmd = [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist)]
    done = subprocess.run(cmd, cwd=project, stdout=sys.stderr, stderr=sys.stderr)
    if done.returncode != 0:
        raise BuildFailed(f"python -m build --wheel exited {done.returncode}")
    made = sorted(set(dist.glob("*.whl")) - before) or sorted(dist.glob("*.whl"), key=lambda p: p.stat().st_mtime)
    return made[-1]


def conf_archive(project: Path, dist: Path) -> Path:
    """dist/conf-<package>.tar.gz as ``kedro package`` makes it (``tar --exclude=local/*.yml``)."""
    from kedro_sfn.project import bootstrap, conf_source_of, project_code_error

    proj = bootstrap(project)
    try:
        conf_source = Path(conf_source_of(proj))
    except Exception as exc:
        raise project_code_error(exc, proj.path, "Loading the project's settings") from exc
    out = dist / f"conf-{proj.package_name}.tar.gz"
    stem = conf_source.stem

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        # GNU tar's --exclude=local/*.yml: matched at every folder boundary, * spans slashes.
        if fnmatch.fnmatch(info.name, "local/*.yml") or fnmatch.fnmatch(info.name, "*/local/*.yml"):
            return None
        return info

    dist.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, "w:gz") as tar:
        tar.add(conf_source.parent / stem, arcname=stem, filter=keep)
    return out


def package(project: str | Path) -> dict[str, str]:
    from kedro_sfn.project import require_project_folder

    project_path = Path(require_project_folder(project)).resolve()
    dist = project_path / "dist"
    wheel: dict[str, Any] = {}

    def run_build() -> None:
        try:
            wheel["path"], wheel["how"] = build_wheel(project_path, dist)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            wheel["error"] = exc

    # The backend runs in its own process: the conf archive (which imports Kedro) meanwhile.
    worker = threading.Thread(target=run_build)
    worker.start()
    try:
        archive = conf_archive(project_path, dist)
    finally:
        worker.join()
    if "error" in wheel:
        raise wheel["error"]
    return {"wheel": str(wheel["path"]), "conf_archive": str(archive), "build_env": wheel["how"]}


def main(argv: list[str] | None = None) -> int:
    from kedro_sfn.errors import UserError
    from kedro_sfn.lambda_env import silence_known_warnings
    from kedro_sfn.project import quiet_kedro_environment
    from kedro_sfn.stdio import stdout_reserved

    parser = argparse.ArgumentParser(prog="python -m kedro_sfn.package", description=__doc__.splitlines()[0])
    parser.add_argument("--project", required=True, help="the Kedro project folder")
    args = parser.parse_args(argv)
    quiet_kedro_environment(str(Path(__file__).with_name("logging_quiet.yml")))
    silence_known_warnings()
    with stdout_reserved() as out:
        try:
            result = package(args.project)
        except UserError as exc:
            exc.print(sys.stderr)
            return 2
        except BuildFailed as exc:
            print(f"kedro-sfn: building the wheel failed: {exc}", file=sys.stderr)
            return 1
        out.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
