"""The run context of an event and the resume's skip decision (kedro_sfn.resume)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_handler

from kedro_sfn import handler as handler_module
from kedro_sfn.handler import InvalidEventError, parse_event
from kedro_sfn.resume import InvalidRunContextError, run_context, skip_result

FIRST = "arn:aws:states:us-east-1:123456789012:execution:demo:2026-11-27T08.09.10.000Z-local"
RUN_ID = "2026-11-27T08.09.10.000Z-local"


def event(nodes: list[str], skip: list[str], **extra: object) -> dict:
    return {"nodes": nodes, "kedro_sfn": {"run_id": RUN_ID, "skip": skip, "resumed_from": FIRST}, **extra}


def test_a_task_whose_nodes_all_succeeded_is_skipped_with_the_reason() -> None:
    result = skip_result(event(["a", "b"], ["a", "b", "c"]))
    assert result == {
        "nodes": [{"name": "a", "seconds": 0.0}, {"name": "b", "seconds": 0.0}],
        "outputs": [],
        "run_id": RUN_ID,
        "skipped": {"reason": "succeeded", "execution": FIRST},
    }


def test_a_task_with_one_node_to_run_runs_whole() -> None:
    assert skip_result(event(["a", "failed_one"], ["a"])) is None
    assert skip_result(event(["a"], [])) is None
    assert skip_result({"nodes": ["a"], "run_id": RUN_ID}) is None


def test_bad_run_context_is_named() -> None:
    with pytest.raises(InvalidRunContextError, match="kedro_sfn.skip"):
        run_context({"kedro_sfn": {"run_id": "x", "skip": "a"}})
    with pytest.raises(InvalidRunContextError, match="kedro_sfn"):
        run_context({"kedro_sfn": ["x"]})
    with pytest.raises(InvalidEventError, match="kedro_sfn.run_id"):
        parse_event({"nodes": ["a"], "kedro_sfn": {"run_id": 3}})


def test_the_run_id_comes_from_the_run_context() -> None:
    request = parse_event({"nodes": ["a"], "kedro_sfn": {"run_id": RUN_ID, "skip": []}})
    assert request.run_id == RUN_ID
    assert request.version == "2026-11-27T08.09.10.000Z"
    # An older definition's top-level run_id still works.
    assert parse_event({"nodes": ["a"], "run_id": "r"}).run_id == "r"


def test_the_handler_answers_a_skipped_task_without_loading_the_project(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_project() -> None:
        raise AssertionError("a skipped task must not load the project")

    monkeypatch.setattr(handler_module, "_runtime", no_project)
    result = handler_module.handler(event(["a"], ["a"]))
    assert result["skipped"] == {"reason": "succeeded", "execution": FIRST}


def test_a_resumed_node_reads_what_the_first_run_saved(make_project, tmp_path: Path) -> None:
    """`report` is resumed after `double` succeeded: it loads `doubled` from the run store
    folder of the first run's id, and saves `report` under the first run's version."""
    project: Path = make_project("runnable")
    env = {"KEDRO_SFN_DATA_LOCATION": str(tmp_path / "runs")}
    first = run_handler({"nodes": ["double"], "kedro_sfn": {"run_id": RUN_ID, "skip": []}}, project, env)
    assert first.code == 0, first.stderr[-3000:]
    assert (tmp_path / "runs" / RUN_ID / "doubled" / "kedro-sfn.json").is_file()
    skipped = run_handler(event(["double"], ["double"]), project, env)
    assert skipped.code == 0 and skipped.json()["skipped"]["execution"] == FIRST
    resumed = run_handler(event(["report"], ["double"]), project, env)
    assert resumed.code == 0, resumed.stderr[-3000:]
    version = "2026-11-27T08.09.10.000Z"
    saved = json.loads((project / "data" / "report.json" / version / "report.json").read_text())
    assert saved == {"total": 12, "factor": 3}
