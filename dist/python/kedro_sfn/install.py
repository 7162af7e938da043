"""The project's layer of the generated image: its wheel unpacked into /var/task, byte-compiled.

    python3 -m kedro_sfn.install WHEEL --target /var/task --compile DIR [DIR ...]

Run by the image build, in the image (the generated Dockerfile's last step). A pure wheel
(``Root-Is-Purelib: true``, no ``.data`` folder: what ``kedro package`` makes) is unpacked
as ``pip install --no-deps --target`` lays it out (the package and its ``.dist-info``), in
one Python start instead of pip's (pip's start-up was most of this step on a one-line
change). Any other wheel goes through pip as before.

Then ``--compile`` folders (the handler and the project's package) get hash-based ``.pyc``
files that do not check the source (PEP 552): ``buildah bud --timestamp 0`` sets every
file's mtime to 0, which makes pip's mtime-checked ``.pyc`` stale, and Lambda's user cannot
write new ones, so every import compiled its module again at each cold start.
"""

from __future__ import annotations

import argparse
import compileall
import py_compile
import subprocess
import sys
import zipfile
from email.parser import HeaderParser
from pathlib import Path


def is_pure(wheel: zipfile.ZipFile) -> bool:
    """A wheel that unpacks as is: pure Python, nothing outside its package and dist-info."""
    tops = {name.split("/", 1)[0] for name in wheel.namelist()}
    infos = [top for top in tops if top.endswith(".dist-info")]
    if len(infos) != 1 or any(top.endswith(".data") for top in tops):
        return False
    meta = HeaderParser().parsestr(wheel.read(f"{infos[0]}/WHEEL").decode("utf-8"))
    return (meta.get("Root-Is-Purelib") or "").strip().lower() == "true"


def install(wheel_path: Path, target: Path) -> str:
    """Unpack ``wheel_path`` into ``target`` (pip for a wheel that is not pure); say which."""
    with zipfile.ZipFile(wheel_path) as wheel:
        if is_pure(wheel):
            # ZipFile.extractall drops absolute paths and "..": nothing lands outside target.
            wheel.extractall(target)
            info = next(n.split("/", 1)[0] for n in wheel.namelist() if n.split("/", 1)[0].endswith(".dist-info"))
            (target / info / "INSTALLER").write_text("kedro-sfn\n", encoding="utf-8")
            return "unpacked"
    cmd = [sys.executable, "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check"]
    subprocess.run([*cmd, "--no-compile", "--no-deps", "--target", str(target), str(wheel_path)], check=True)
    return "pip"


def compile_unchecked(folders: list[Path]) -> bool:
    """Hash-based .pyc for every module under ``folders`` (absent folders are skipped)."""
    ok = True
    for folder in folders:
        if folder.is_dir():
            ok = compileall.compile_dir(
                str(folder), quiet=2, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
            ) and ok
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m kedro_sfn.install", description=__doc__.splitlines()[0])
    parser.add_argument("wheel", help="the project's wheel")
    parser.add_argument("--target", required=True, help="where it goes (/var/task)")
    parser.add_argument("--compile", nargs="*", default=[], help="folders to byte-compile")
    args = parser.parse_args(argv)
    how = install(Path(args.wheel), Path(args.target))
    # A module that does not compile is left to Python, as pip leaves it: not a failed build.
    compiled = compile_unchecked([Path(folder) for folder in args.compile])
    print(f"kedro-sfn: {Path(args.wheel).name} {how} into {args.target}; .pyc {'written' if compiled else 'written where the source compiles'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
