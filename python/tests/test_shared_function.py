"""A shared function (``function-sharing: by-settings``) gets the Tasks of several nodes in one
warm container, in any order. Its imports must still follow the node index per request: each
invocation adds only the modules of the node it names, never the whole registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import kedro_version, run_python
from fleet_project import write_fleet

SHARED = """
import json, os, sys
from kedro_sfn.handler import handler
log = os.environ["FLEET_IMPORT_LOG"]
for i, nodes in enumerate(json.loads(sys.argv[1])):
    out = handler({"nodes": nodes, "run_id": f"shared{i}-20261202T010203Z"})
    seen = open(log).read().split() if os.path.exists(log) else []
    print(json.dumps({"outputs": out["outputs"], "imported": seen, "sklearn": "sklearn" in sys.modules}))
"""


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    return write_fleet(tmp_path / "fleet", kedro_version())


def test_one_warm_function_imports_per_request_only_what_the_node_needs(fleet: Path, tmp_path: Path) -> None:
    index = tmp_path / "index.json"
    made = run_python(["-m", "kedro_sfn.node_index", "--project", str(fleet), "--out", str(index)])
    assert made.code == 0, made.stderr[-3000:]
    log = tmp_path / "imports.log"
    env = {
        "KEDRO_ENV": "base",
        "KEDRO_SFN_NODE_INDEX": str(index),
        "KEDRO_SFN_PROJECT_PATH": str(fleet),
        "FLEET_IMPORT_LOG": str(log),
    }
    # Three Tasks of one shared function, as a run would send them: other pipelines, other modules.
    result = run_python(["-c", SHARED, json.dumps([["clean"], ["eu.bump"], ["model.fit"]])], env=env)
    assert result.code == 0, result.stderr[-3000:]
    steps = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [s["outputs"] for s in steps] == [["clean"], ["eu.bumped"], ["model.summary"]]
    first, second, third = (set(s["imported"]) for s in steps)
    # Cold start: the first node's modules only.
    assert first == {"fleet.pipelines.ingest.nodes", "fleet.pipelines.ingest.pipeline"}
    # Warm: each request adds its own node's module (and the package around it), nothing else.
    assert second - first == {"fleet.utils", "fleet.utils.common"}
    assert third - second == {"fleet.pipelines.model.nodes", "fleet.pipelines.model.pipeline"}
    assert not any("report" in module for module in third)
    assert "fleet.pipeline_registry" not in third
    assert [s["sklearn"] for s in steps] == [False, False, True]
    assert result.stderr.count("node index: imported only") == 3
