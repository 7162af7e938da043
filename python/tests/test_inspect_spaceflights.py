"""The inspector on the spaceflights example, as the TypeScript side runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import inspect, kedro_at_least, kedro_version

NODES = [
    "data_processing.preprocess_companies_node",
    "data_processing.preprocess_shuttles_node",
    "data_processing.create_model_input_table_node",
    "data_science.split_data_node",
    "data_science.train_model_node",
    "data_science.evaluate_model_node",
]

PARENTS = {
    "data_processing.preprocess_companies_node": set(),
    "data_processing.preprocess_shuttles_node": set(),
    "data_processing.create_model_input_table_node": {
        "data_processing.preprocess_companies_node",
        "data_processing.preprocess_shuttles_node",
    },
    "data_science.split_data_node": {"data_processing.create_model_input_table_node"},
    "data_science.train_model_node": {"data_science.split_data_node"},
    "data_science.evaluate_model_node": {
        "data_science.split_data_node",
        "data_science.train_model_node",
    },
}

TYPES = {
    "companies": "pandas.CSVDataset",
    "reviews": "pandas.CSVDataset",
    "shuttles": "pandas.ExcelDataset",
    "data_processing.preprocessed_companies": "pandas.ParquetDataset",
    "data_processing.preprocessed_shuttles": "pandas.ParquetDataset",
    "model_input_table": "pandas.ParquetDataset",
    "data_science.X_train": "pickle.PickleDataset",
    "data_science.X_test": "pickle.PickleDataset",
    "data_science.y_train": "pickle.PickleDataset",
    "data_science.y_test": "pickle.PickleDataset",
    "regressor": "pickle.PickleDataset",
    "metrics": "json.JSONDataset",
}
SPLITS = {"data_science.X_train", "data_science.X_test", "data_science.y_train", "data_science.y_test"}


def parents(graph: dict) -> dict[str, set[str]]:
    producer = {out: node["name"] for node in graph["nodes"] for out in node["outputs"]}
    return {
        node["name"]: {producer[i] for i in node["inputs"] if i in producer} for node in graph["nodes"]
    }


@pytest.fixture(scope="module")
def aws_graph(spaceflights: Path) -> dict:
    result = inspect(spaceflights)
    assert result.code == 0, result.stderr
    return result.json()


def test_graph_header(aws_graph: dict) -> None:
    assert aws_graph["schema"] == "kedro-sfn/graph@1"
    assert aws_graph["project"] == {
        "name": "spaceflights",
        "package": "spaceflights",
        "kedro_version": kedro_version(),
    }
    assert aws_graph["pipeline"] == "__default__"
    assert aws_graph["env"] == "aws"
    assert aws_graph["parameters"] == ["model_options"]
    assert aws_graph["warnings"] == []


def test_six_nodes_in_topological_order_with_their_edges(aws_graph: dict) -> None:
    assert [n["name"] for n in aws_graph["nodes"]] == NODES
    assert parents(aws_graph) == PARENTS
    split = aws_graph["nodes"][3]
    assert split == {
        "name": "data_science.split_data_node",
        "namespace": "data_science",
        "tags": [],
        "inputs": ["model_input_table", "params:model_options"],
        "outputs": sorted(SPLITS, key=["data_science.X_train", "data_science.X_test", "data_science.y_train", "data_science.y_test"].index),
    }


def test_aws_env_puts_every_dataset_on_persistent_storage(aws_graph: dict) -> None:
    assert {k: v["type"] for k, v in aws_graph["datasets"].items()} == TYPES
    assert not [k for k, v in aws_graph["datasets"].items() if v["ephemeral"]]
    assert "params:model_options" not in aws_graph["datasets"]


def test_base_env_keeps_the_splits_in_memory(spaceflights: Path) -> None:
    result = inspect(spaceflights, "--env", "base")
    assert result.code == 0, result.stderr
    datasets = result.json()["datasets"]
    assert {k for k, v in datasets.items() if v["ephemeral"]} == SPLITS
    assert {datasets[k]["type"] for k in SPLITS} == {"MemoryDataset"}
    assert datasets["data_processing.preprocessed_companies"] == {
        "type": "pandas.ParquetDataset",
        "ephemeral": False,
        "storage": "local",
    }


def test_one_registered_pipeline(spaceflights: Path) -> None:
    result = inspect(spaceflights, "--pipeline", "data_science")
    assert result.code == 0, result.stderr
    graph = result.json()
    assert [n["name"] for n in graph["nodes"]] == NODES[3:]
    assert graph["pipeline"] == "data_science"


def test_resolvers_agree(spaceflights: Path, aws_graph: dict) -> None:
    """kedro.inspection (Kedro >= 1.4) and the config-based resolver give the same graph."""
    resolvers = ["config"] + (["snapshot"] if kedro_at_least(1, 4) else [])
    for resolver in resolvers:
        result = inspect(spaceflights, "--resolver", resolver)
        assert result.code == 0, result.stderr
        assert result.json() == aws_graph, resolver


def test_runs_from_the_project_folder(spaceflights: Path) -> None:
    """The action runs the helper with the project as working folder and --project ."""
    result = inspect(".", cwd=spaceflights)
    assert result.code == 0, result.stderr
    assert result.stdout.lstrip().startswith("{") and result.stdout.rstrip().endswith("}")
    assert result.json()["nodes"][0]["name"] == NODES[0]


def test_several_pipelines_from_one_start_up(spaceflights: Path, aws_graph: dict) -> None:
    result = inspect(spaceflights, "--pipelines", "data_science,data_processing", "--env", "aws")
    assert result.code == 0, result.stderr
    out = result.json()
    assert out["schema"] == "kedro-sfn/graphs@1"
    assert out["registered"] == ["__default__", "data_processing", "data_science"]
    assert [g["pipeline"] for g in out["graphs"]] == ["data_science", "data_processing"]
    science, processing = out["graphs"]
    assert [n["name"] for n in processing["nodes"]] == NODES[:3]
    assert [n["name"] for n in science["nodes"]] == NODES[3:]
    # Each graph is what a single inspection of that pipeline prints.
    single = inspect(spaceflights, "--pipeline", "data_science", "--env", "aws").json()
    assert science == single


def test_all_pipelines_leaves_out_the_default(spaceflights: Path) -> None:
    out = inspect(spaceflights, "--pipelines", "all", "--env", "aws").json()
    assert [g["pipeline"] for g in out["graphs"]] == ["data_processing", "data_science"]


def test_several_pipelines_with_an_unknown_one_name_it_and_the_registered(spaceflights: Path) -> None:
    result = inspect(spaceflights, "--pipelines", "data_science,reporting", "--env", "aws")
    assert result.code == 2 and result.stdout == ""
    error = result.error()
    assert error["kind"] == "unknown_pipeline"
    assert "'reporting'" in error["message"] and "'data_science'" not in error["message"]
    assert "__default__, data_processing, data_science" in error["message"]
