"""The run store (KEDRO_SFN_DATA_LOCATION) and retry-safe versioned saves, on moto S3.

Each task runs in its own handler process, as its own Lambda would. The project's
catalog names only the raw input and one versioned report: every other dataset is
in memory, so without the run store no task but the first could run.
"""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import MotoS3, kedro_version, run_handler

RUNS = "kedro-sfn-runs"
LOCATION = f"s3://{RUNS}/team/runs/demo-sm"
RUN_ID = "exec-20261202T010203Z"
VERSION = "2026-12-02T01.02.03.000Z"
DATA = "kedro-sfn-runstore-data"

NODES = '''
"""Nodes whose outputs are the kinds of objects users keep in memory."""

import sqlite3
import threading
from pathlib import Path

import numpy as np
import pandas as pd


def make_frame(raw):
    return pd.DataFrame({"x": raw, "label": [f"r{v}" for v in raw]})


def make_array(frame):
    return frame["x"].to_numpy() * 1.5


def make_model(factor):
    return lambda v: v * factor


def combine(frame, array, model, stats):
    return {"frame_sum": int(frame["x"].sum()), "array_sum": float(array.sum()),
            "model_of_2": model(2), "stats": stats}


def stats(frame):
    return {"rows": len(frame), "labels": list(frame["label"])}


def report(summary):
    return summary


def flaky(summary, marker):
    """Fails on the first attempt of a run (no marker file yet), succeeds on the retry."""
    path = Path(marker)
    if not path.exists():
        path.write_text("attempt 1 failed")
        raise ConnectionResetError("upstream service dropped the connection")
    return summary["frame_sum"]


def stream(raw):
    return (v for v in raw)


def total(values):
    return sum(values)


def make_lock(raw):
    return threading.Lock()


def use_lock(lock):
    with lock:
        return 1


def connect(raw):
    return sqlite3.connect(":memory:")


def query(conn):
    return conn.execute("select 1").fetchone()[0]
'''

REGISTRY = '''
from kedro.pipeline import node, pipeline

from .nodes import (
    combine, connect, flaky, make_array, make_frame, make_lock, make_model, query, report, stats,
    stream, total, use_lock,
)


def register_pipelines():
    main = pipeline(
        [
            node(make_frame, "raw", "frame", name="make_frame"),
            node(make_array, "frame", "array", name="make_array"),
            node(make_model, "params:factor", "model", name="make_model"),
            node(stats, "frame", "prep.stats#1", name="stats"),
            node(combine, ["frame", "array", "model", "prep.stats#1"], "summary", name="combine"),
            node(report, "summary", "report", name="report"),
            node(flaky, ["report", "params:marker"], "flaky_out", name="flaky"),
        ]
    )
    broken = pipeline(
        [
            node(stream, "raw", "numbers", name="stream"),
            node(total, "numbers", "numbers_total", name="total"),
            node(connect, "raw", "conn", name="connect"),
            node(query, "conn", "one", name="query"),
            node(make_lock, "raw", "lock", name="make_lock"),
            node(use_lock, "lock", "locked", name="use_lock"),
        ]
    )
    return {"__default__": main + broken, "main": main}
'''


def write_project(root: Path, marker: Path) -> Path:
    package = "demo_runstore"
    files = {
        "pyproject.toml": f"""
            [build-system]
            requires = ["setuptools"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{package}"
            version = "0.1"

            [tool.kedro]
            package_name = "{package}"
            project_name = "runstore"
            kedro_init_version = "{kedro_version()}"
            source_dir = "src"
            """,
        f"src/{package}/__init__.py": "",
        f"src/{package}/nodes.py": NODES,
        f"src/{package}/pipeline_registry.py": REGISTRY,
        f"src/{package}/settings.py": "",
        "conf/base/parameters.yml": f"factor: 3\nmarker: {marker}\n",
        "conf/base/catalog.yml": "{}\n",
        "conf/local/.gitkeep": "",
        "conf/aws/catalog.yml": f"""
            raw:
              type: json.JSONDataset
              filepath: s3://{DATA}/raw.json
            report:
              type: json.JSONDataset
              filepath: s3://{DATA}/reports/report.json
              versioned: true
            # Kedro deep-copies MemoryDataset data by default, which a generator or a
            # connection does not survive even inside one Lambda.
            numbers:
              type: MemoryDataset
              copy_mode: assign
            conn:
              type: MemoryDataset
              copy_mode: assign
            lock:
              type: MemoryDataset
              copy_mode: assign
            """,
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, moto_s3: MotoS3) -> dict:
    root = tmp_path_factory.mktemp("runstore")
    project = write_project(root / "project", root / "flaky.marker")
    client = moto_s3.client()
    for bucket in (RUNS, DATA):
        client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=DATA, Key="raw.json", Body=json.dumps([1, 2, 3, 4]))
    env = dict(moto_s3.env, KEDRO_SFN_DATA_LOCATION=LOCATION)
    return {"project": project, "env": env, "marker": root / "flaky.marker"}


def task(world: dict, nodes: list[str], run_id: str = RUN_ID, env: dict | None = None):
    return run_handler({"nodes": nodes, "run_id": run_id}, world["project"], env or world["env"])


def get(moto_s3: MotoS3, key: str) -> bytes:
    return moto_s3.client().get_object(Bucket=RUNS, Key=key)["Body"].read()


@pytest.fixture(scope="module")
def main_run(world: dict, moto_s3: MotoS3) -> dict:
    """The main pipeline as four tasks; make_frame and stats share one (grouped) Lambda."""
    results = {
        "first": task(world, ["make_frame", "stats"]),
        "array": task(world, ["make_array"]),
        "model": task(world, ["make_model"]),
        "combine": task(world, ["combine", "report"]),
    }
    return results


def test_every_task_succeeds_with_nothing_but_raw_and_report_in_the_catalog(main_run: dict) -> None:
    for name, result in main_run.items():
        assert result.code == 0, f"{name}:\n{result.stdout}\n{result.stderr[-3000:]}"


def test_crossing_datasets_live_under_run_id_and_encoded_name(main_run: dict, moto_s3: MotoS3) -> None:
    prefix = f"team/runs/demo-sm/{RUN_ID}/"
    keys = moto_s3.keys(RUNS, prefix)
    assert keys == sorted(
        prefix + key
        for key in (
            "frame/data.parquet",
            "frame/kedro-sfn.json",
            "array/data.npy",
            "array/kedro-sfn.json",
            "model/data.pkl",
            "model/kedro-sfn.json",
            "prep.stats~231/data.pkl",
            "prep.stats~231/kedro-sfn.json",
        )
    )
    frame = pd.read_parquet(io.BytesIO(get(moto_s3, prefix + "frame/data.parquet")))
    assert list(frame["x"]) == [1, 2, 3, 4]
    array = np.load(io.BytesIO(get(moto_s3, prefix + "array/data.npy")), allow_pickle=False)
    assert array.tolist() == [1.5, 3.0, 4.5, 6.0]
    manifest = json.loads(get(moto_s3, prefix + "model/kedro-sfn.json"))
    assert manifest["format"] == "cloudpickle" and manifest["type"] == "builtins.function"
    assert json.loads(get(moto_s3, prefix + "frame/kedro-sfn.json"))["type"] in (
        "pandas.DataFrame",  # pandas 3
        "pandas.core.frame.DataFrame",
    )


def test_results_name_the_run_store_folders(main_run: dict) -> None:
    first = main_run["first"].json()["run_store"]
    # 'prep.stats#1' is read by 'combine' only: it crosses. Inside the task it is not re-read.
    assert first == {
        "frame": f"{LOCATION}/{RUN_ID}/frame",
        "prep.stats#1": f"{LOCATION}/{RUN_ID}/prep.stats~231",
    }
    assert set(main_run["combine"].json()["run_store"]) == {"frame", "array", "model", "prep.stats#1"}


def test_consumers_load_what_the_producers_saved(main_run: dict, moto_s3: MotoS3) -> None:
    client = moto_s3.client()
    key = f"reports/report.json/{VERSION}/report.json"
    body = json.loads(client.get_object(Bucket=DATA, Key=key)["Body"].read())
    assert body == {
        "frame_sum": 10,
        "array_sum": 15.0,
        "model_of_2": 6,
        "stats": {"rows": 4, "labels": ["r1", "r2", "r3", "r4"]},
    }


def test_another_run_id_reads_nothing_of_this_run(main_run: dict, world: dict) -> None:
    result = task(world, ["make_array"], run_id="exec-other")
    assert result.code == 1
    message = result.json()["errorMessage"]
    assert "'frame' has not been saved for this run" in message
    assert f"{LOCATION}/exec-other/frame/kedro-sfn.json" in message


def test_a_retry_overwrites_its_own_objects_and_keeps_the_keys(main_run: dict, world: dict, moto_s3: MotoS3) -> None:
    prefix = f"team/runs/demo-sm/{RUN_ID}/"
    before = moto_s3.keys(RUNS, prefix)
    again = task(world, ["make_array"])
    assert again.code == 0, again.stderr[-3000:]
    assert moto_s3.keys(RUNS, prefix) == before


def test_retry_after_a_versioned_save_succeeds_and_the_first_error_was_the_real_one(
    main_run: dict, world: dict, moto_s3: MotoS3
) -> None:
    """The task saves the versioned 'report', then 'flaky' fails: Step Functions retries the task."""
    world["marker"].unlink(missing_ok=True)
    run_id = "exec-20261202T020000Z"
    version = "2026-12-02T02.00.00.000Z"
    assert task(world, ["make_frame", "stats"], run_id).code == 0
    assert task(world, ["make_array"], run_id).code == 0
    assert task(world, ["make_model"], run_id).code == 0
    first = task(world, ["combine", "report", "flaky"], run_id)
    assert first.code == 1
    error = first.json()
    assert error["errorType"] == "ConnectionResetError"
    assert error["errorMessage"] == "Kedro node 'flaky' failed: upstream service dropped the connection"
    key = f"reports/report.json/{version}/report.json"
    assert moto_s3.keys(DATA, f"reports/report.json/{version}/") == [key]
    retry = task(world, ["combine", "report", "flaky"], run_id)
    assert retry.code == 0, retry.stdout + retry.stderr[-3000:]
    assert "must not exist" not in retry.stderr
    assert f"kedro-sfn-runstore-data/reports/report.json/{version}" in retry.stderr
    assert moto_s3.keys(DATA, f"reports/report.json/{version}/") == [key]


def test_without_data_location_a_crossing_memory_input_is_not_found(world: dict, moto_s3: MotoS3) -> None:
    result = task(world, ["make_array"], run_id="exec-nolocation", env=moto_s3.env)
    assert result.code == 1
    assert "frame" in result.json()["errorMessage"]


@pytest.mark.parametrize(
    ("producer", "consumer", "dataset", "type_name", "why"),
    [
        ("make_lock", "use_lock", "lock", "_thread.lock", "cannot pickle '_thread.lock' object"),
        ("connect", "query", "conn", "sqlite3.Connection", "cannot pickle 'sqlite3.Connection' object"),
    ],
)
def test_a_non_serialisable_output_fails_its_producer_with_both_ways_out(
    world: dict, moto_s3: MotoS3, producer: str, consumer: str, dataset: str, type_name: str, why: str
) -> None:
    result = task(world, [producer], run_id="exec-broken")
    assert result.code == 1
    error = result.json()
    assert error["errorType"] == "DatasetNotSerialisable"
    message = error["errorMessage"]
    assert message.startswith(f"Kedro node '{producer}' failed: Dataset '{dataset}' (written by node '{producer}', read by '{consumer}'")
    assert f"holds {type_name}" in message and why in message
    assert f"{LOCATION}/exec-broken/{dataset}/" in message
    assert "conf/aws/catalog.yml" in message
    assert f"{dataset}:\n         type: pickle.PickleDataset\n         filepath: s3://{RUNS}/data/{dataset}.pkl" in message
    assert f"Run '{producer}' and '{consumer}' in one Lambda" in message
    assert "`group-by: memory` (CLI: --group-by memory)" in message
    assert moto_s3.keys(RUNS, "team/runs/demo-sm/exec-broken/") == []


def test_a_generator_output_fails_its_producer(world: dict, moto_s3: MotoS3) -> None:
    """Kedro 1.x saves a returned generator as one object; 0.19 saves each item as a chunk."""
    result = task(world, ["stream"], run_id="exec-generator")
    assert result.code == 1
    error = result.json()
    assert error["errorType"] == "DatasetNotSerialisable"
    message = error["errorMessage"]
    if kedro_version().startswith("0.19"):
        assert "Dataset 'numbers' was saved twice by node 'stream' (a generator node yields chunks)" in message
        assert "save_args: {mode: a}" in message
    else:
        assert "holds builtins.generator" in message and "cannot pickle 'generator' object" in message
        assert "Run 'stream' and 'total' in one Lambda" in message


def test_nodes_in_one_task_pass_the_non_serialisable_output_in_memory(world: dict) -> None:
    result = task(world, ["make_lock", "use_lock", "connect", "query"], run_id="exec-grouped")
    assert result.code == 0, result.stderr[-3000:]
    assert result.json()["run_store"] == {}


def test_keys_encode_as_the_plan_shows_them() -> None:
    """The same vectors as __tests__/preflight-fixes.test.ts (src/graph/runStore.ts)."""
    from kedro_sfn.runstore import dataset_key, encode_key, run_folder

    assert encode_key("data_science.X_train") == "data_science.X_train"
    assert encode_key("reports/monthly#csv") == "reports~2Fmonthly~23csv"
    assert encode_key("größe") == "gr~C3~B6~C3~9Fe"
    assert encode_key("..") == "~2E~2E"
    assert f"{run_folder('s3://b/p/sm', 'exec 1')}/{dataset_key('x@pandas')}/" == "s3://b/p/sm/exec~201/x/"
