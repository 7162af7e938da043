#!/usr/bin/env python3
"""Start and stop a Docker registry (Debian's ``docker-registry``) on loopback.

Images built by the tests and the demo are pushed here instead of ECR (moto
has ECR's API but no ``/v2/`` registry). Storage is a plain folder, so the
bytes a push adds can be read off the disk.

    python3 scripts/local_registry.py start --dir DIR [--port N] [--state FILE]
    python3 scripts/local_registry.py stop --state FILE

``start`` prints the state as JSON (``{"pid", "port", "address", "url",
"storage", "config", "log"}``) and writes it to the state file;
``scripts/local_stack.py`` imports ``start_registry``/``stop_registry``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

CONFIG_TEMPLATE = """\
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
  secret: kedro-sfn-local-registry
"""


def free_port() -> int:
    """A TCP port nobody listens on right now (on 127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"docker-registry exited with {process.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/v2/", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"docker-registry did not answer on {url} within {timeout:.0f} s")


def start_registry(storage: Path | str, port: int | None = None, timeout: float = 20.0) -> dict[str, Any]:
    """Start ``docker-registry serve`` on 127.0.0.1, storing blobs under ``storage``.

    Returns the state (pid, port, address ``127.0.0.1:PORT``, url, paths); the
    server keeps running after this process exits, until ``stop_registry``.
    """
    binary = shutil.which("docker-registry")
    if binary is None:
        raise RuntimeError("'docker-registry' is not installed: run 'make system-deps' (Debian package docker-registry)")
    storage = Path(storage).resolve()
    storage.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    config = storage.parent / f"registry-{port}.yml"
    log = storage.parent / f"registry-{port}.log"
    config.write_text(CONFIG_TEMPLATE.format(storage=storage, port=port))
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            [binary, "serve", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    _wait_until_up(url, process, log, timeout)
    return {
        "pid": process.pid,
        "port": port,
        "address": f"127.0.0.1:{port}",
        "url": url,
        "storage": str(storage),
        "config": str(config),
        "log": str(log),
    }


def stop_registry(state: dict[str, Any], timeout: float = 10.0) -> None:
    """Stop the registry started with ``state`` (its pid); a no-op when it is gone."""
    pid = int(state["pid"])
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # Reap it when it is our child; otherwise just see whether it still exists.
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


def storage_bytes(state: dict[str, Any]) -> int:
    """Bytes of blob data the registry holds (what pushes have added)."""
    blobs = Path(state["storage"]) / "docker" / "registry" / "v2" / "blobs"
    return sum(path.stat().st_size for path in blobs.rglob("data") if path.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start a registry and print its state as JSON")
    start.add_argument("--dir", required=True, help="folder for the registry's storage, config and log")
    start.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 (default: a free one)")
    start.add_argument("--state", default=None, help="write the state JSON here too")
    stop = sub.add_parser("stop", help="stop the registry named in a state file")
    stop.add_argument("--state", required=True)
    args = parser.parse_args(argv)

    if args.command == "start":
        try:
            state = start_registry(Path(args.dir) / "storage", args.port)
        except RuntimeError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        text = json.dumps(state, indent=2, sort_keys=True)
        if args.state:
            Path(args.state).write_text(text + "\n")
        print(text)
        return 0
    state_file = Path(args.state)
    if not state_file.is_file():
        print(f"no state file at {state_file}: nothing to stop", file=sys.stderr)
        return 0
    stop_registry(json.loads(state_file.read_text()))
    state_file.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
