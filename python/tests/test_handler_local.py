"""The Lambda handler on a small generated project with local files: errors, params, warm runs."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from conftest import kedro_at_least, run_handler, run_python

RUN_ID = "local-20261127T080910Z"
VERSION = "2026-11-27T08.09.10.000Z"


@pytest.fixture
def runnable(make_project) -> Path:
    return make_project("runnable")


def report_at(project: Path, version: str) -> dict:
    return json.loads((project / "data" / "report.json" / version / "report.json").read_text())


def test_failed_node_reports_the_users_exception_class(runnable: Path) -> None:
    result = run_handler({"nodes": ["explode"], "run_id": RUN_ID}, runnable)
    assert result.code == 1
    error = result.json()
    assert error["errorType"] == "ShuttleOverheated"
    assert error["errorMessage"] == "Kedro node 'explode' failed: engine temperature 6 is above the limit"
    assert any("nodes.py" in frame and "explode" in frame for frame in error["stackTrace"])
    assert "Traceback" in result.stderr


def test_nodes_of_one_task_share_memory_datasets(runnable: Path) -> None:
    result = run_handler({"nodes": ["double", "report"], "run_id": RUN_ID}, runnable)
    assert result.code == 0, result.stderr[-3000:]
    body = result.json()
    assert [n["name"] for n in body["nodes"]] == ["double", "report"]
    assert body["outputs"] == ["doubled", "report"]
    assert report_at(runnable, VERSION) == {"total": 12, "factor": 3}


def test_params_override_and_explicit_version(runnable: Path) -> None:
    event = {
        "nodes": ["double", "report"],
        "run_id": "8c5b6f9e-uuid-without-time",
        "params": {"factor": 10},
        "version": "2026-11-27T09:00:00.250Z",
    }
    result = run_handler(event, runnable)
    assert result.code == 0, result.stderr[-3000:]
    assert result.json()["version"] == "2026-11-27T09.00.00.250Z"
    assert report_at(runnable, "2026-11-27T09.00.00.250Z") == {"total": 12, "factor": 10}


def test_unknown_node_is_named_in_the_error(runnable: Path) -> None:
    result = run_handler({"nodes": ["double", "nope"], "run_id": RUN_ID}, runnable)
    assert result.code == 1
    error = result.json()
    assert "nope" in error["errorMessage"]


def test_unknown_pipeline_lists_the_pipelines(runnable: Path) -> None:
    result = run_handler({"nodes": ["double"], "run_id": RUN_ID, "pipeline": "nope"}, runnable)
    assert result.code == 1
    assert "'nope'" in result.json()["errorMessage"]
    assert "__default__" in result.json()["errorMessage"]


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"run_id": "r"}, "'nodes'"),
        ({"nodes": [], "run_id": "r"}, "'nodes'"),
        ({"nodes": ["double"]}, "'run_id'"),
        ({"nodes": ["double"], "run_id": "r", "params": [1]}, "'params'"),
        ({"nodes": ["double"], "run_id": "r", "version": "latest"}, "'version'"),
    ],
)
def test_invalid_events(runnable: Path, event: dict, message: str) -> None:
    result = run_handler(event, runnable)
    assert result.code == 1
    error = result.json()
    assert error["errorType"] == "InvalidEventError"
    assert message in error["errorMessage"]


def test_no_project_configured_is_explained(tmp_path: Path) -> None:
    result = run_handler({"nodes": ["double"], "run_id": "r"}, cwd=tmp_path)
    assert result.code == 1
    assert "KEDRO_SFN_PACKAGE" in result.json()["errorMessage"]


def test_warm_invocations_reuse_the_project_without_leaking_params(runnable: Path) -> None:
    """Two invocations in one process, as a warm Lambda container serves them."""
    script = textwrap.dedent(
        f"""
        import json, os, time
        os.environ["KEDRO_SFN_PROJECT_PATH"] = {str(runnable)!r}
        from kedro_sfn.handler import handler
        out = []
        for event in (
            {{"nodes": ["double", "report"], "run_id": "warm-20261127T100000Z", "params": {{"factor": 10}}}},
            {{"nodes": ["double", "report"], "run_id": "warm-20261127T100001Z"}},
            {{"nodes": ["explode"], "run_id": "warm-20261127T100002Z"}},
            {{"nodes": ["double", "report"], "run_id": "warm-20261127T100003Z"}},
        ):
            start = time.perf_counter()
            try:
                result = handler(event, None)
            except Exception as exc:
                result = {{"error": type(exc).__name__}}
            out.append({{"result": result, "seconds": time.perf_counter() - start}})
        from kedro_sfn.handler import _RUNTIME
        runtime = next(iter(_RUNTIME.values()))
        print(json.dumps({{"runs": out, "session": type(runtime._service).__name__}}))
        """
    )
    proc = run_python(["-c", script])
    assert proc.code == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    runs = report["runs"]
    assert report["session"] == ("KedroServiceSession" if kedro_at_least(1, 4) else "NoneType")
    assert runs[2]["result"] == {"error": "ShuttleOverheated"}
    assert report_at(runnable, "2026-11-27T10.00.00.000Z") == {"total": 12, "factor": 10}
    assert report_at(runnable, "2026-11-27T10.00.01.000Z") == {"total": 12, "factor": 3}
    assert report_at(runnable, "2026-11-27T10.00.03.000Z") == {"total": 12, "factor": 3}


TEMPLATE_LOGGING = """
version: 1
disable_existing_loggers: False
formatters:
  simple:
    format: "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
handlers:
  info_file_handler:
    class: logging.handlers.RotatingFileHandler
    level: INFO
    formatter: simple
    filename: info.log
    delay: False
loggers:
  kedro:
    level: INFO
root:
  handlers: [info_file_handler]
"""


def test_project_logging_that_writes_files_is_overridden(runnable: Path) -> None:
    """Kedro picks conf/logging.yml up from the working folder; in Lambda that folder is read-only."""
    (runnable / "conf" / "logging.yml").write_text(TEMPLATE_LOGGING)
    event = {"nodes": ["double", "report"], "run_id": RUN_ID, "params": {"out_dir": str(runnable.parent / "out")}}
    before = sorted(p.name for p in runnable.rglob("*"))
    result = run_handler(event, runnable, cwd=runnable)
    assert result.code == 0, result.stderr[-3000:]
    assert sorted(p.name for p in runnable.rglob("*")) == before
    assert "Running node" in result.stderr or "Completed" in result.stderr


SITECUSTOMIZE = """
import multiprocessing.synchronize as _sync

def _no_semaphores(self, *args, **kwargs):
    raise OSError(38, "Function not implemented")

_sync.SemLock.__init__ = _no_semaphores
"""


def test_runs_where_multiprocessing_cannot_make_locks(runnable: Path, tmp_path: Path) -> None:
    """AWS Lambda has no /dev/shm: multiprocessing.Lock() raises OSError 38 there."""
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(SITECUSTOMIZE)
    from conftest import PYTHON_DIR

    env = {"PYTHONPATH": f"{shim}:{PYTHON_DIR}"}
    probe = run_python(
        [
            "-c",
            "import multiprocessing\n"
            "from kedro_sfn.lambda_env import semaphores_work, prepare_process\n"
            "print(semaphores_work()); prepare_process(); multiprocessing.Lock(); print(semaphores_work())",
        ],
        env=env,
    )
    assert probe.stdout.split() == ["False", "True"], probe.stderr
    result = run_handler({"nodes": ["double", "report"], "run_id": RUN_ID}, runnable, env=env)
    assert result.code == 0, result.stderr[-3000:]
    assert report_at(runnable, VERSION)["total"] == 12


def test_importing_the_handler_does_not_import_kedro() -> None:
    """The Lambda runtime imports the module at cold start; Kedro loads on the first event."""
    proc = run_python(
        ["-c", "import sys\nfrom kedro_sfn.handler import handler\nprint(any(m.startswith('kedro.') for m in sys.modules))"]
    )
    assert proc.stdout.strip() == "False", proc.stderr
