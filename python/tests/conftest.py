"""Fixtures: the interpreter under test, project copies, and a moto S3 server.

Every test runs the helper for real in a subprocess with ``sys.executable``, the
interpreter pytest runs in: `make test-python` runs the suite once with the
Kedro 1.x venv and once with the Kedro 0.19 venv.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent
PYTHON_DIR = TESTS.parent
REPO = PYTHON_DIR.parent
SPACEFLIGHTS = REPO / "examples" / "spaceflights"
BUCKET = "kedro-sfn-spaceflights"

sys.path.insert(0, str(PYTHON_DIR))
sys.path.insert(0, str(TESTS))
sys.path.insert(0, str(SPACEFLIGHTS / "scripts"))

from make_data import write_raw_data  # noqa: E402
from make_project import write_project  # noqa: E402


def kedro_version() -> str:
    from kedro import __version__

    return __version__


def kedro_at_least(major: int, minor: int) -> bool:
    parts = [int(p) for p in re.findall(r"\d+", kedro_version())[:2]]
    return (parts[0], parts[1]) >= (major, minor)


def helper_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the TypeScript side gives the helper: PYTHONPATH with kedro_sfn."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEDRO_", "AWS_"))}
    env["PYTHONPATH"] = str(PYTHON_DIR)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra or {})
    return env


@dataclass
class Completed:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def error(self) -> dict[str, Any]:
        """The `{"error": ...}` line the inspector printed last on stderr."""
        lines = [line for line in self.stderr.strip().splitlines() if line.startswith('{"error"')]
        assert lines, f"no error JSON on stderr:\n{self.stderr}"
        return json.loads(lines[-1])["error"]


def run_python(
    args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None, python: list[str] | None = None
) -> Completed:
    proc = subprocess.run(
        (python or [sys.executable]) + args,
        env=helper_env(env),
        cwd=str(cwd or REPO),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Completed(proc.returncode, proc.stdout, proc.stderr)


def inspect(project: Path | str, *args: str, **kwargs: Any) -> Completed:
    return run_python(["-m", "kedro_sfn.inspect", "--project", str(project), *args], **kwargs)


def run_handler(event: dict[str, Any], project: Path | None = None, env: dict[str, str] | None = None, cwd: Path | None = None) -> Completed:
    args = ["-m", "kedro_sfn.handler", "--event", json.dumps(event)]
    if project is not None:
        args += ["--project", str(project)]
    return run_python(args, env=env, cwd=cwd)


def copy_spaceflights(dest: Path) -> Path:
    """Copy the example (code and conf, no data outputs) with kedro_init_version of this Kedro."""
    shutil.copytree(
        SPACEFLIGHTS,
        dest,
        ignore=shutil.ignore_patterns("dist", "build", "__pycache__", "*.egg-info", "sessions", "info.log"),
    )
    for folder in (dest / "data").iterdir():
        for item in folder.iterdir():
            if item.name != ".gitkeep":
                shutil.rmtree(item) if item.is_dir() else item.unlink()
    pyproject = dest / "pyproject.toml"
    text = re.sub(
        r'kedro_init_version = "[^"]*"', f'kedro_init_version = "{kedro_version()}"', pyproject.read_text()
    )
    pyproject.write_text(text)
    write_raw_data(dest / "data" / "01_raw")
    return dest


@pytest.fixture(scope="session")
def spaceflights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of examples/spaceflights for this Kedro line, raw data generated."""
    return copy_spaceflights(tmp_path_factory.mktemp("spaceflights") / "spaceflights")


@pytest.fixture
def make_project(tmp_path: Path):
    """Write a generated project of a kind (see make_project.py) and return its folder."""

    def make(kind: str, name: str | None = None) -> Path:
        return write_project(tmp_path / (name or kind), kind)

    return make


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class MotoS3:
    endpoint: str
    env: dict[str, str]

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

    def new_bucket(self, bucket: str, raw_dir: Path, prefix: str = "spaceflights/01_raw/") -> None:
        client = self.client()
        client.create_bucket(Bucket=bucket)
        for path in sorted(raw_dir.iterdir()):
            if not path.name.startswith("."):
                client.upload_file(str(path), bucket, prefix + path.name)


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    """A moto server on 127.0.0.1 for the whole session; stopped at the end."""
    port = free_port()
    env = dict(os.environ, MOTO_PORT=str(port))
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("moto server did not start")
            time.sleep(0.2)
    aws_env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }
    try:
        yield MotoS3(endpoint, aws_env)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
