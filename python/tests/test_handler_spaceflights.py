"""The Lambda handler runs spaceflights node by node, each in its own process, on moto S3."""

from __future__ import annotations

import io
import json
import pickle
from pathlib import Path

import pandas as pd
import pytest
from conftest import BUCKET, MotoS3, run_handler
from test_inspect_spaceflights import NODES

RUN_ID = "spaceflights-20261127T120000Z-ci"
VERSION = "2026-11-27T12.00.00.000Z"
DECOY = "2099-01-01T00.00.00.000Z"  # a newer version from another run: must not be loaded
REGRESSOR = "spaceflights/06_models/regressor.pickle/"


def files_in(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def pipeline_run(spaceflights: Path, moto_s3: MotoS3) -> dict:
    """Run the six nodes in order, one process each, as six Lambda tasks would."""
    moto_s3.new_bucket(BUCKET, spaceflights / "data" / "01_raw")
    before = files_in(spaceflights)
    results = []
    for name in NODES:
        if name == "data_science.evaluate_model_node":
            moto_s3.client().put_object(
                Bucket=BUCKET, Key=f"{REGRESSOR}{DECOY}/regressor.pickle", Body=pickle.dumps("not a model")
            )
        results.append(run_handler({"nodes": [name], "run_id": RUN_ID, "params": None}, spaceflights, moto_s3.env))
    return {"results": results, "before": before, "after": files_in(spaceflights)}


def test_every_node_succeeds_under_one_version(pipeline_run: dict) -> None:
    for name, result in zip(NODES, pipeline_run["results"]):
        assert result.code == 0, f"{name}:\n{result.stdout}\n{result.stderr[-3000:]}"
        body = result.json()
        assert [n["name"] for n in body["nodes"]] == [name]
        assert body["nodes"][0]["seconds"] >= 0
        assert body["version"] == VERSION and body["run_id"] == RUN_ID
    assert pipeline_run["results"][3].json()["outputs"] == [
        "data_science.X_train",
        "data_science.X_test",
        "data_science.y_train",
        "data_science.y_test",
    ]


def test_every_dataset_lands_on_s3(pipeline_run: dict, moto_s3: MotoS3) -> None:
    keys = moto_s3.keys(BUCKET, "spaceflights/")
    for key in (
        "spaceflights/02_intermediate/preprocessed_companies.parquet",
        "spaceflights/02_intermediate/preprocessed_shuttles.parquet",
        "spaceflights/03_primary/model_input_table.parquet",
        "spaceflights/05_model_input/X_train.pickle",
        "spaceflights/05_model_input/y_test.pickle",
        "spaceflights/08_reporting/metrics.json",
    ):
        assert key in keys


def test_the_regressor_has_one_version_for_the_run(pipeline_run: dict, moto_s3: MotoS3) -> None:
    folders = {key[len(REGRESSOR) :].split("/")[0] for key in moto_s3.keys(BUCKET, REGRESSOR)}
    assert folders == {VERSION, DECOY}


def test_evaluation_loaded_this_runs_regressor(pipeline_run: dict, moto_s3: MotoS3) -> None:
    body = moto_s3.client().get_object(Bucket=BUCKET, Key="spaceflights/08_reporting/metrics.json")["Body"]
    metrics = json.loads(body.read())
    assert metrics["r2_score"] > 0.9


def test_nothing_is_written_into_the_project_folder(pipeline_run: dict) -> None:
    assert pipeline_run["after"] == pipeline_run["before"]


def test_runtime_params_override_parameters_and_the_bucket(pipeline_run: dict, moto_s3: MotoS3, spaceflights: Path) -> None:
    client = moto_s3.client()
    client.create_bucket(Bucket="sf-params")
    table = "spaceflights/03_primary/model_input_table.parquet"
    client.copy_object(Bucket="sf-params", Key=table, CopySource={"Bucket": BUCKET, "Key": table})
    params = {"bucket": "sf-params", "model_options": {"test_size": 0.5}}
    event = {"nodes": ["data_science.split_data_node"], "run_id": "params-run", "params": params}
    result = run_handler(event, spaceflights, moto_s3.env)
    assert result.code == 0, result.stderr[-3000:]

    def rows(bucket: str) -> int:
        raw = client.get_object(Bucket=bucket, Key="spaceflights/05_model_input/X_test.pickle")["Body"].read()
        return len(pd.read_pickle(io.BytesIO(raw)))

    total = len(pd.read_parquet(io.BytesIO(client.get_object(Bucket=BUCKET, Key=table)["Body"].read())))
    assert rows("sf-params") == pytest.approx(total * 0.5, abs=1)
    assert rows(BUCKET) == pytest.approx(total * 0.2, abs=1)
