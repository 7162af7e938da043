"""What a one-line rebuild runs on the host and in the image: the node index from the
inspection (no second registry import), the wheel and conf archive from a cached build
environment, and the project's layer unpacked and byte-compiled with hash-based .pyc."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from conftest import inspect, kedro_version, run_python
from fleet_project import write_fleet


def test_the_inspectors_index_is_the_registrys_index(tmp_path: Path) -> None:
    fleet = write_fleet(tmp_path / "fleet", kedro_version())
    inspected = tmp_path / "inspected.json"
    graph = inspect(fleet, "--pipeline", "model", "--env", "base", "--node-index", str(inspected))
    assert graph.code == 0, graph.stderr[-3000:]
    assert graph.json()["node_index_file"] == str(inspected)
    own = tmp_path / "own.json"
    made = run_python(["-m", "kedro_sfn.node_index", "--project", str(fleet), "--out", str(own)])
    assert made.code == 0, made.stderr[-3000:]
    # Byte for byte: every registered pipeline (not only the one inspected), the same records.
    assert inspected.read_bytes() == own.read_bytes()
    index = json.loads(inspected.read_text())
    assert sorted(index["pipelines"]) == ["__default__", "ingest", "model", "report"]


def test_no_index_file_unless_asked_and_a_failure_only_warns(tmp_path: Path) -> None:
    fleet = write_fleet(tmp_path / "fleet", kedro_version())
    plain = inspect(fleet, "--env", "base")
    assert plain.code == 0 and "node_index_file" not in plain.json()
    # Under a file: the index cannot be written, the graph still comes.
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    graph = inspect(fleet, "--env", "base", "--node-index", str(blocked / "index.json"))
    assert graph.code == 0, graph.stderr[-3000:]
    assert "node_index_file" not in graph.json()
    assert "kedro-sfn: no node index" in graph.stderr


def test_package_makes_what_kedro_package_makes(spaceflights: Path, tmp_path: Path) -> None:
    env = {"KEDRO_SFN_BUILD_ENV": str(tmp_path / "build-env"), "SOURCE_DATE_EPOCH": "315532800"}
    (spaceflights / "conf" / "local" / "credentials.yml").write_text("secret: no\n")
    first = run_python(["-m", "kedro_sfn.package", "--project", str(spaceflights)], env=env)
    assert first.code == 0, first.stderr[-3000:]
    made = first.json()
    assert made["build_env"] == "new"
    wheel = Path(made["wheel"])
    assert wheel.name == "spaceflights-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
    assert "spaceflights/pipeline_registry.py" in names
    assert "spaceflights-0.1.dist-info/METADATA" in names
    with tarfile.open(made["conf_archive"]) as tar:
        members = tar.getnames()
    assert "conf/base/catalog.yml" in members and "conf/local/.gitkeep" in members
    assert "conf/local/credentials.yml" not in members
    again = run_python(["-m", "kedro_sfn.package", "--project", str(spaceflights)], env=env)
    assert again.code == 0, again.stderr[-3000:]
    assert again.json()["build_env"] == "cached"
    # The same sources, the same wheel bytes (the image's content hash depends on them).
    assert Path(again.json()["wheel"]).read_bytes() == wheel.read_bytes()


def _wheel(path: Path, files: dict[str, str], purelib: bool = True) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
        z.writestr("demo-0.1.dist-info/METADATA", "Metadata-Version: 2.1\nName: demo\nVersion: 0.1\n")
        z.writestr(
            "demo-0.1.dist-info/WHEEL",
            f"Wheel-Version: 1.0\nRoot-Is-Purelib: {'true' if purelib else 'false'}\nTag: py3-none-any\n",
        )
        z.writestr("demo-0.1.dist-info/RECORD", "")
    return path


def test_install_unpacks_a_pure_wheel_with_hash_based_pyc(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "demo-0.1-py3-none-any.whl", {"demo/__init__.py": "X = 1\n", "demo/sub/m.py": "Y = 2\n"})
    target = tmp_path / "task"
    target.mkdir()
    done = run_python(
        ["-m", "kedro_sfn.install", str(wheel), "--target", str(target), "--compile", str(target / "demo"), str(target / "absent")]
    )
    assert done.code == 0, done.stderr
    assert "unpacked" in done.stdout
    assert (target / "demo" / "sub" / "m.py").read_text() == "Y = 2\n"
    assert (target / "demo-0.1.dist-info" / "INSTALLER").read_text() == "kedro-sfn\n"
    pyc = list((target / "demo" / "sub" / "__pycache__").glob("m.*.pyc"))
    assert len(pyc) == 1
    # PEP 552 flags: hash-based, source not checked (mtimes of 0 do not make it stale).
    assert int.from_bytes(pyc[0].read_bytes()[4:8], "little") == 1
    # The dist-info is where importlib.metadata looks, as after pip install --target.
    found = subprocess.run(
        [sys.executable, "-c", "import importlib.metadata as m; print(m.version('demo'))"],
        env={"PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
    )
    assert found.stdout.strip() == "0.1", found.stderr


def test_install_leaves_a_wheel_that_is_not_pure_to_pip(tmp_path: Path) -> None:
    from kedro_sfn.install import is_pure

    platlib = _wheel(tmp_path / "plat.whl", {"demo/__init__.py": ""}, purelib=False)
    data = _wheel(tmp_path / "data.whl", {"demo/__init__.py": "", "demo-0.1.data/scripts/run": "#!/bin/sh\n"})
    pure = _wheel(tmp_path / "pure.whl", {"demo/__init__.py": ""})
    with zipfile.ZipFile(platlib) as a, zipfile.ZipFile(data) as b, zipfile.ZipFile(pure) as c:
        assert (is_pure(a), is_pure(b), is_pure(c)) == (False, False, True)


@pytest.fixture(autouse=True)
def _helper_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import PYTHON_DIR

    monkeypatch.syspath_prepend(str(PYTHON_DIR))
