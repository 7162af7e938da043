#!/usr/bin/env python3
"""Start and stop a Docker engine (Debian's ``docker.io`` dockerd) for tests and the demo.

The engine listens on a unix socket only (no TCP), keeps its images under a
data root that outlives one run (the base image and layer caches are reused),
and uses the default bridge so RUN steps reach the package registries.
Several callers share one engine: ``start`` returns the running one when its
socket answers. Must run as root.

    python3 scripts/docker_engine.py start [--root DIR]   # prints {"host", "pid", ...}
    python3 scripts/docker_engine.py stop [--root DIR]
    python3 scripts/docker_engine.py load-base [--root DIR] [--tag TAG]

``load-base`` copies the base image made by scripts/make_base_image.py from
buildah's storage into the engine (``buildah push docker-archive:`` +
``docker load``), once.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DEFAULT_ROOT = Path(os.environ.get("KEDRO_SFN_DOCKER_ROOT", "/var/tmp/kedro-sfn-docker"))
BASE_TAG = "localhost/kedro-sfn-test-base:bookworm"


def paths(root: Path) -> dict[str, Path]:
    return {
        "data": root / "data",
        # Short: containerd's sockets live under the exec root, and socket paths are limited to 108 bytes.
        "exec": Path(tempfile.gettempdir()) / f"kedro-sfn-dx-{hashlib.sha1(str(root).encode()).hexdigest()[:8]}",
        "socket": root / "docker.sock",
        "pid": root / "docker.pid",
        "log": root / "dockerd.log",
        "lock": root / "start.lock",
    }


def docker_env(root: Path) -> dict[str, str]:
    return dict(os.environ, DOCKER_HOST=f"unix://{paths(root)['socket']}")


def answers(root: Path) -> bool:
    if not paths(root)["socket"].exists():
        return False
    probe = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], env=docker_env(root),
                           capture_output=True, text=True, timeout=20, check=False)
    return probe.returncode == 0


def state(root: Path) -> dict[str, Any]:
    p = paths(root)
    pid = int(p["pid"].read_text().strip()) if p["pid"].exists() else 0
    return {"host": f"unix://{p['socket']}", "pid": pid, "root": str(root), "log": str(p["log"])}


def start(root: Path, timeout: float = 60.0) -> dict[str, Any]:
    if os.geteuid() != 0:
        raise SystemExit("the Docker engine needs root (run the tests as root)")
    if shutil.which("dockerd") is None:
        raise SystemExit("'dockerd' is not installed: run 'make system-deps' (Debian package docker.io)")
    p = paths(root)
    root.mkdir(parents=True, exist_ok=True)
    with open(p["lock"], "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if answers(root):
            return state(root)
        p["socket"].unlink(missing_ok=True)
        log = open(p["log"], "ab")
        argv = ["dockerd", "--storage-driver=overlay2", f"--data-root={p['data']}", f"--exec-root={p['exec']}",
                "-H", f"unix://{p['socket']}", "--pidfile", str(p["pid"])]
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = p["log"].read_text(errors="replace")[-3000:]
                raise SystemExit(f"dockerd exited with {process.returncode}:\n{tail}")
            if answers(root):
                return state(root)
            time.sleep(0.3)
        process.kill()
        raise SystemExit(f"dockerd did not answer within {timeout:.0f} s; log: {p['log']}")


def stop(root: Path) -> None:
    p = paths(root)
    if not p["pid"].exists():
        return
    pid = int(p["pid"].read_text().strip())
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            continue
        break
    p["pid"].unlink(missing_ok=True)


def load_base(root: Path, tag: str) -> None:
    """The buildah-made base image into the engine, unless it is there already."""
    env = docker_env(root)
    if subprocess.run(["docker", "image", "inspect", tag], env=env, capture_output=True, check=False).returncode == 0:
        return
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "base.tar"
        subprocess.run(["buildah", "--storage-driver", "vfs", "push", tag, f"docker-archive:{archive}:{tag}"],
                       check=True, capture_output=True)
        subprocess.run(["docker", "load", "-i", str(archive)], env=env, check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("start", "stop", "load-base"))
    parser.add_argument("--root", default=str(DEFAULT_ROOT))
    parser.add_argument("--tag", default=BASE_TAG)
    args = parser.parse_args()
    root = Path(args.root).resolve()
    if args.command == "start":
        print(json.dumps(start(root)))
    elif args.command == "stop":
        stop(root)
    else:
        start(root)
        load_base(root, args.tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
