"""The ECS entry point on a small generated project: same core, run id, params and errors as Lambda."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_python

RUN_ID = "local-20261127T080910Z"
VERSION = "2026-11-27T08.09.10.000Z"


@pytest.fixture
def runnable(make_project) -> Path:
    return make_project("runnable")


def run_entry(project: Path, nodes: list[str], params: object = None, run_id: str = RUN_ID):
    env = {
        "KEDRO_SFN_PROJECT_PATH": str(project),
        "KEDRO_SFN_NODES": json.dumps(nodes),
        "KEDRO_SFN_RUN_ID": run_id,
        "KEDRO_SFN_PARAMS": json.dumps(params),
    }
    return run_python(["-m", "kedro_sfn.ecs_entry"], env=env)


def test_runs_the_nodes_under_the_runs_version_with_params(runnable: Path) -> None:
    result = run_entry(runnable, ["double", "report"], {"factor": 10})
    assert result.code == 0, result.stderr[-3000:]
    body = json.loads(result.stdout.strip().splitlines()[-1])
    assert [n["name"] for n in body["nodes"]] == ["double", "report"]
    assert body["version"] == VERSION and body["run_id"] == RUN_ID
    report = json.loads((runnable / "data" / "report.json" / VERSION / "report.json").read_text())
    assert report == {"total": 12, "factor": 10}


def test_a_failed_node_exits_non_zero_with_the_lambda_error_last(runnable: Path) -> None:
    result = run_entry(runnable, ["explode"])
    assert result.code == 1
    last = json.loads(result.stderr.strip().splitlines()[-1])
    assert last == {
        "errorType": "ShuttleOverheated",
        "errorMessage": "Kedro node 'explode' failed: engine temperature 6 is above the limit",
    }
    assert "Traceback" in result.stderr


def test_a_missing_run_id_is_the_handlers_event_error(runnable: Path) -> None:
    result = run_entry(runnable, ["double"], run_id="")
    assert result.code == 1
    last = json.loads(result.stderr.strip().splitlines()[-1])
    assert last["errorType"] == "InvalidEventError"
    assert "run_id" in last["errorMessage"]


def test_a_resumed_task_whose_nodes_succeeded_is_skipped_as_on_lambda(runnable: Path) -> None:
    env = {
        "KEDRO_SFN_PROJECT_PATH": str(runnable),
        "KEDRO_SFN_NODES": json.dumps(["explode"]),
        "KEDRO_SFN_RUN_ID": RUN_ID,
        "KEDRO_SFN_PARAMS": "{}",
        "KEDRO_SFN_CONTEXT": json.dumps(
            {"run_id": RUN_ID, "skip": ["explode"], "resumed_from": "arn:aws:states:us-east-1:1:execution:sm:first"}
        ),
    }
    result = run_python(["-m", "kedro_sfn.ecs_entry"], env=env)
    # `explode` always fails when it runs: exit 0 proves the skip list was honoured.
    assert result.code == 0, result.stderr[-3000:]
    body = json.loads(result.stdout.strip().splitlines()[-1])
    assert body["skipped"]["execution"] == "arn:aws:states:us-east-1:1:execution:sm:first"
