"""The node index: a cold handler imports only the requested nodes' modules, and falls back
to the full registry (with a warning) whenever the index cannot be trusted."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PYTHON_DIR, helper_env, kedro_version, run_handler, run_python
from fleet_project import write_fleet

RUN_ID = "fleet-20261202T010203Z"
VERSION = "2026-12-02T01.02.03.000Z"
IMPORT_LINE = re.compile(r"import time:\s+\d+ \|\s+\d+ \|\s*(\S+)")


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    return write_fleet(tmp_path / "fleet", kedro_version())


def make_index(project: Path, out: Path) -> dict:
    result = run_python(["-m", "kedro_sfn.node_index", "--project", str(project), "--out", str(out)])
    assert result.code == 0, result.stderr[-3000:]
    return result.json()


def run_fleet(project: Path, nodes: list[str], index: Path | str, tmp_path: Path, importtime: bool = False):
    log = tmp_path / f"imports-{len(list(tmp_path.glob('imports-*')))}.log"
    env = {"KEDRO_ENV": "base", "KEDRO_SFN_NODE_INDEX": str(index), "FLEET_IMPORT_LOG": str(log)}
    args = ["-m", "kedro_sfn.handler", "--project", str(project), "--event", json.dumps({"nodes": nodes, "run_id": RUN_ID})]
    result = run_python(args, env=env, python=[sys.executable, "-X", "importtime"] if importtime else None)
    imported = log.read_text().split() if log.exists() else []
    return result, imported


def imported_packages(stderr: str) -> set[str]:
    return {m.group(1).split(".")[0] for m in map(IMPORT_LINE.match, stderr.splitlines()) if m}


def read(project: Path, name: str):
    return json.loads((project / "data" / name).read_text())


def test_index_lists_every_node_and_why_some_cannot_be_rebuilt(fleet: Path, tmp_path: Path) -> None:
    summary = make_index(fleet, tmp_path / "index.json")
    assert summary["pipelines"] == ["__default__", "ingest", "model", "report"]
    assert summary["nodes"] == 8
    unindexed = {u["node"]: u["why"] for u in summary["unindexed"]}
    assert set(unindexed) == {"tidy", "model.double"}
    assert "lambda" in unindexed["tidy"]
    assert "partial" in unindexed["model.double"]
    index = json.loads((tmp_path / "index.json").read_text())
    assert index["nodes"]["eu.bump"]["func"] == {"module": "fleet.utils.common", "qualname": "add_one"}
    assert index["nodes"]["model.fit"]["args"]["inputs"] == {"values": "clean", "factor": "params:factor"}


def test_cold_run_imports_only_the_nodes_module(fleet: Path, tmp_path: Path) -> None:
    index = tmp_path / "index.json"
    make_index(fleet, index)
    result, imported = run_fleet(fleet, ["clean"], index, tmp_path, importtime=True)
    assert result.code == 0, result.stderr[-3000:]
    assert result.json()["outputs"] == ["clean"]
    assert read(fleet, "clean.json") == [1, 2, 4, 5]
    assert "imported only fleet.pipelines.ingest.nodes" in result.stderr
    # The ingest package loads around its nodes; no other pipeline, not the registry.
    assert set(imported) == {"fleet.pipelines.ingest.nodes", "fleet.pipelines.ingest.pipeline"}
    packages = imported_packages(result.stderr)
    assert "kedro" in packages and "sklearn" not in packages and "scipy" not in packages


def test_full_registry_run_imports_everything(fleet: Path, tmp_path: Path) -> None:
    """The same run with KEDRO_SFN_NODE_INDEX=off: what every cold start paid before."""
    result, imported = run_fleet(fleet, ["clean"], "off", tmp_path, importtime=True)
    assert result.code == 0, result.stderr[-3000:]
    assert "fleet.pipeline_registry" in imported and "fleet.pipelines.report.pipeline" in imported
    assert {"sklearn", "scipy"} <= imported_packages(result.stderr)
    assert "node index" not in result.stderr  # off: no warning either


def test_node_in_a_shared_utils_module_under_a_namespace(fleet: Path, tmp_path: Path) -> None:
    index = tmp_path / "index.json"
    make_index(fleet, index)
    assert run_fleet(fleet, ["clean"], index, tmp_path)[0].code == 0
    result, imported = run_fleet(fleet, ["us.bump"], index, tmp_path, importtime=True)
    assert result.code == 0, result.stderr[-3000:]
    assert result.json()["outputs"] == ["us.bumped"]
    assert read(fleet, "us_bumped.json") == [2, 3, 5, 6]
    assert set(imported) == {"fleet.utils", "fleet.utils.common"}
    assert "scipy" not in imported_packages(result.stderr)


def test_a_node_list_across_pipelines_and_keyword_inputs(fleet: Path, tmp_path: Path) -> None:
    """Any node list in the payload (shared functions run several nodes in one task)."""
    index = tmp_path / "index.json"
    make_index(fleet, index)
    nodes = ["clean", "model.fit", "eu.bump", "eu.scale"]
    result, imported = run_fleet(fleet, nodes, index, tmp_path, importtime=True)
    assert result.code == 0, result.stderr[-3000:]
    assert [n["name"] for n in result.json()["nodes"]] == nodes
    assert read(fleet, "model_summary.json") == {"slope": 1.4, "factor": 3}
    assert read(fleet, "eu_scaled.json") == [6, 9, 15, 18]
    # The model node's own imports still happen (scikit-learn), the report pipeline's do not.
    assert "fleet.pipelines.model.nodes" in imported and "fleet.pipelines.report.pipeline" not in imported
    packages = imported_packages(result.stderr)
    assert "sklearn" in packages


def test_same_outputs_with_and_without_the_index(fleet: Path, tmp_path: Path) -> None:
    index = tmp_path / "index.json"
    make_index(fleet, index)
    outputs = {}
    for mode in (str(index), "off"):
        for nodes in (["clean"], ["model.fit"], ["eu.bump"], ["eu.scale"]):
            result, _ = run_fleet(fleet, nodes, mode, tmp_path)
            assert result.code == 0, result.stderr[-3000:]
        outputs[mode] = {name: read(fleet, name) for name in ("model_summary.json", "eu_scaled.json")}
    assert outputs[str(index)] == outputs["off"]


@pytest.mark.parametrize(
    "spoil, said",
    [
        ("missing", "there is no node index at"),
        ("stale", "the node index is stale"),
        ("kedro", "the node index was made with Kedro 0.0.1"),
        ("package", "the node index was made for package 'other'"),
        ("gone", "no longer exists (stale index)"),
    ],
)
def test_untrusted_index_falls_back_to_the_full_registry(fleet: Path, tmp_path: Path, spoil: str, said: str) -> None:
    index = tmp_path / "index.json"
    make_index(fleet, index)
    (fleet / "data" / "clean.json").write_text("[1, 2, 4, 5]")
    data = json.loads(index.read_text())
    if spoil == "missing":
        index.unlink()
    elif spoil == "stale":
        common = fleet / "src" / "fleet" / "utils" / "common.py"
        common.write_text(common.read_text() + "\n# a one-line change after packaging\n")
    elif spoil in ("kedro", "package"):
        data["kedro_version" if spoil == "kedro" else "package"] = "0.0.1" if spoil == "kedro" else "other"
        index.write_text(json.dumps(data))
    elif spoil == "gone":
        data["nodes"]["eu.bump"]["func"]["qualname"] = "renamed_since"
        index.write_text(json.dumps(data))
    result, imported = run_fleet(fleet, ["eu.bump"], index, tmp_path)
    assert result.code == 0, result.stderr[-3000:]
    assert said in result.stderr
    assert re.search(r"WARNING.*loading the full pipeline registry", result.stderr)
    assert "fleet.pipeline_registry" in imported
    assert read(fleet, "eu_bumped.json") == [2, 3, 5, 6]


def test_unindexed_nodes_fall_back(fleet: Path, tmp_path: Path) -> None:
    index = tmp_path / "index.json"
    make_index(fleet, index)
    assert run_fleet(fleet, ["clean"], index, tmp_path)[0].code == 0
    for node, why in (("tidy", "lambda"), ("model.double", "partial")):
        result, imported = run_fleet(fleet, [node], index, tmp_path)
        assert result.code == 0, result.stderr[-3000:]
        assert f"node '{node}' is not indexed" in result.stderr and why in result.stderr
        assert "fleet.pipeline_registry" in imported
    assert read(fleet, "tidy.json") == [5, 4, 2, 1]
    assert read(fleet, "model_doubled.json") == [2, 4, 8, 10]


def test_unknown_node_gets_kedros_own_error(fleet: Path, tmp_path: Path) -> None:
    index = tmp_path / "index.json"
    make_index(fleet, index)
    result, _ = run_fleet(fleet, ["clean", "nope"], index, tmp_path)
    assert result.code == 1
    assert "nope" in result.json()["errorMessage"]
    assert "not in the node index" in result.stderr


WARM = """
import json, sys
from kedro_sfn.handler import handler
for i, nodes in enumerate(json.loads(sys.argv[1])):
    out = handler({"nodes": nodes, "run_id": f"warm{i}-20261202T010203Z"})
    print(json.dumps(out["outputs"]))
"""


def test_warm_container_switches_between_index_and_registry(fleet: Path, tmp_path: Path) -> None:
    """One process (a warm Lambda container): indexed, unindexed, indexed again."""
    index = tmp_path / "index.json"
    make_index(fleet, index)
    sequence = [["clean"], ["tidy"], ["eu.bump"], ["model.double"], ["eu.scale"]]
    env = {"KEDRO_ENV": "base", "KEDRO_SFN_NODE_INDEX": str(index), "KEDRO_SFN_PROJECT_PATH": str(fleet)}
    result = run_python(["-c", WARM, json.dumps(sequence)], env=env)
    assert result.code == 0, result.stderr[-3000:]
    assert [json.loads(line) for line in result.stdout.split("\n") if line.startswith("[")] == [
        ["clean"], ["tidy"], ["eu.bumped"], ["model.doubled"], ["eu.scaled"]
    ]
    assert result.stderr.count("node index: imported only") == 3
    assert read(fleet, "eu_scaled.json") == [6, 9, 15, 18]


def test_installed_wheel_reads_the_index_beside_the_handler(fleet: Path, tmp_path: Path) -> None:
    """As in the image: the wheel and kedro_sfn in one folder, the index in .kedro-sfn/ there."""
    proc = subprocess.run(
        [sys.executable, "-m", "kedro", "package"],
        cwd=fleet, env=helper_env({"KEDRO_DISABLE_TELEMETRY": "1"}), capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    task = tmp_path / "task"
    wheel = next((fleet / "dist").glob("*.whl"))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(task), str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    shutil.copytree(PYTHON_DIR / "kedro_sfn", task / "kedro_sfn", ignore=shutil.ignore_patterns("__pycache__"))
    make_index(fleet, task / ".kedro-sfn" / "node-index.json")
    shutil.rmtree(fleet / "src")  # only the installed package remains
    log = tmp_path / "imports.log"
    env = {
        "PYTHONPATH": str(task),
        "KEDRO_SFN_PACKAGE": "fleet",
        "KEDRO_SFN_CONF_SOURCE": str(fleet / "conf"),
        "KEDRO_ENV": "base",
        "FLEET_IMPORT_LOG": str(log),
    }
    event = {"nodes": ["clean"], "run_id": RUN_ID}
    result = run_handler(event, env=env, cwd=fleet)
    assert result.code == 0, result.stderr[-3000:]
    assert "imported only fleet.pipelines.ingest.nodes" in result.stderr
    assert "fleet.pipeline_registry" not in log.read_text()
    assert read(fleet, "clean.json") == [1, 2, 4, 5]


CHECK = """
import json, sys
from kedro.framework.startup import bootstrap_project
bootstrap_project(sys.argv[1])
from kedro.framework.project import pipelines
from kedro_sfn.node_index import check_against
print(json.dumps(check_against(pipelines["__default__"], "fleet", "__default__")))
"""


def test_smoke_check_compares_the_index_with_the_registry(fleet: Path, tmp_path: Path) -> None:
    """The image's smoke test loads the registry anyway: every indexed node must rebuild equal."""
    index = tmp_path / "index.json"
    make_index(fleet, index)
    env = {"KEDRO_SFN_NODE_INDEX": str(index)}
    result = run_python(["-c", CHECK, str(fleet)], env=env)
    assert result.code == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.splitlines()[-1]) == ["6 of 8 nodes start from their own module", []]
    data = json.loads(index.read_text())
    data["nodes"]["us.scale"]["args"]["inputs"] = ["us.bumped", "params:other"]  # hash still matches
    index.write_text(json.dumps(data))
    result = run_python(["-c", CHECK, str(fleet)], env=env)
    assert json.loads(result.stdout.splitlines()[-1]) == ["5 of 8 nodes start from their own module", ["us.scale"]]
