#!/usr/bin/env python3
"""Make a Python base image from Debian packages, for tests and the demo.

public.ecr.aws cannot be reached from every machine that runs the tests, so
the tests build the project's image on a base made here instead:
``debootstrap --variant=minbase`` with python3, pip and venv, turned into an
image with ``buildah from scratch`` + ``buildah copy`` + ``buildah commit``.

The image lands in buildah's vfs storage (the same storage the ``buildah``
builder uses) and is made once: a second call returns at once while the image
exists. Must run as root (debootstrap and buildah's chroot isolation).

    python3 scripts/make_base_image.py [--tag TAG] [--suite bookworm] [--force]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_TAG = "localhost/kedro-sfn-test-base:bookworm"
APT_SOURCES = (Path("/etc/apt/sources.list.d"), Path("/etc/apt/sources.list"))
PACKAGES = ("python3", "python3-pip", "python3-venv", "ca-certificates")
# Locally added CAs (a proxy that terminates TLS, a company CA): pip inside the
# image must trust what the host trusts, or every RUN pip install fails.
HOST_CA_DIR = Path("/usr/local/share/ca-certificates")
LOCK_FILE = Path(tempfile.gettempdir()) / "kedro-sfn-base-image.lock"
BUILDAH = ("buildah", "--storage-driver", "vfs")


def image_exists(tag: str) -> bool:
    """True when buildah's vfs storage already holds an image named ``tag``."""
    found = subprocess.run(
        [*BUILDAH, "inspect", "--type", "image", tag],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return found.returncode == 0


def _run(cmd: list[str], **kwargs: object) -> str:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed (exit {result.returncode}):\n{tail}")
    return str(result.stdout).strip()


def _debian_arch() -> str:
    machine = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)


def machine_mirror() -> str:
    """The Debian archive this machine's apt already uses (deb822 .sources or one-line lists):
    debootstrap must reach the same place apt does, wherever that is."""
    files: list[Path] = []
    for source in APT_SOURCES:
        if source.is_dir():
            files += sorted(p for p in source.iterdir() if p.suffix in (".sources", ".list"))
        elif source.is_file():
            files.append(source)
    for path in files:
        for line in path.read_text(errors="replace").splitlines():
            line = line.strip()
            uri = None
            if line.startswith("URIs:"):
                uri = line.split(":", 1)[1].split()[0] if line.split(":", 1)[1].split() else None
            elif line.startswith("deb ") and not line.startswith("deb-src"):
                words = [w for w in line.split()[1:] if not w.startswith("[")]
                uri = words[0] if words else None
            if uri and "security" not in uri:
                return uri.rstrip("/")
    raise SystemExit("no Debian archive found in /etc/apt/sources.list(.d): give --mirror URL")


def _bootstrap(rootfs: Path, suite: str, mirror: str) -> None:
    _run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(PACKAGES)}",
            suite,
            str(rootfs),
            mirror,
        ]
    )
    extra_cas = sorted(HOST_CA_DIR.glob("*.crt")) if HOST_CA_DIR.is_dir() else []
    if extra_cas:
        target = rootfs / HOST_CA_DIR.relative_to("/")
        target.mkdir(parents=True, exist_ok=True)
        for ca in extra_cas:
            shutil.copyfile(ca, target / ca.name)
        _run(["chroot", str(rootfs), "update-ca-certificates"])
    # Package caches are dead weight in every image built on top.
    for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for entry in (rootfs / cache).glob("*"):
            if entry.is_file():
                entry.unlink()


def make_base_image(tag: str = DEFAULT_TAG, suite: str = "bookworm", mirror: str | None = None, force: bool = False) -> bool:
    """Make ``tag`` unless it exists. Returns True when it was made now."""
    if os.geteuid() != 0:
        raise RuntimeError("make_base_image.py must run as root (debootstrap, buildah chroot isolation)")
    for tool in ("debootstrap", "buildah"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"'{tool}' is not installed: run 'make system-deps'")
    with open(LOCK_FILE, "w") as lock:
        # Two test runs starting at once would bootstrap twice; the second waits, then finds the image.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if image_exists(tag) and not force:
            return False
        with tempfile.TemporaryDirectory(prefix="kedro-sfn-rootfs-", dir="/var/tmp") as tmp:
            rootfs = Path(tmp) / "rootfs"
            _bootstrap(rootfs, suite, mirror or machine_mirror())
            container = _run([*BUILDAH, "from", "scratch"])
            try:
                _run([*BUILDAH, "copy", container, f"{rootfs}/", "/"])
                _run(
                    [
                        *BUILDAH,
                        "config",
                        "--arch",
                        _debian_arch(),
                        "--os",
                        "linux",
                        "--env",
                        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                        "--env",
                        "LANG=C.UTF-8",
                        "--cmd",
                        "python3",
                        container,
                    ]
                )
                _run([*BUILDAH, "commit", "--rm", container, tag])
            except BaseException:
                subprocess.run([*BUILDAH, "rm", container], capture_output=True, check=False)
                raise
        return True


def copy_to_storage(tag: str, driver: str) -> bool:
    """Copy ``tag`` from the vfs storage into ``driver``'s storage (same root) unless it is there.

    kedro-sfn's buildah builder uses overlay storage where it works; each driver keeps its
    own images, so the base image made in vfs is copied across (same image ID).
    """
    if driver == "vfs":
        return False
    check = subprocess.run(["buildah", "--storage-driver", driver, "inspect", "--type", "image", tag],
                           capture_output=True, check=False)
    if check.returncode == 0:
        return False
    roots = _run([*BUILDAH, "info", "--format", "{{.store.GraphRoot}}+{{.store.RunRoot}}"])
    _run([*BUILDAH, "push", tag, f"containers-storage:[{driver}@{roots}]{tag}"])
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tag", default=DEFAULT_TAG)
    parser.add_argument("--suite", default="bookworm")
    parser.add_argument("--mirror", default=os.environ.get("KEDRO_SFN_DEBIAN_MIRROR"),
                        help="Debian archive URL (default: the one this machine's apt sources name)")
    parser.add_argument("--force", action="store_true", help="make the image again even if it exists")
    parser.add_argument("--storage", default="vfs",
                        help="also have the image in this buildah storage driver's store (overlay)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        made = make_base_image(args.tag, args.suite, args.mirror, args.force)
        if copy_to_storage(args.tag, args.storage):
            print(f"{args.tag} copied into the {args.storage} storage")
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    state = f"made in {time.monotonic() - started:.0f} s" if made else "already there"
    print(f"{args.tag} ({state})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
