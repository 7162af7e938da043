"""The inspector on generated projects: namespaces, factories, catch-all, odd names."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import TESTS, helper_env, inspect, kedro_at_least
from make_project import LONG_NAME


def graph_of(project: Path, *args: str) -> dict:
    result = inspect(project, *args)
    assert result.code == 0, result.stderr
    return result.json()


def test_nested_namespaces_tags_and_parameters(make_project) -> None:
    graph = graph_of(make_project("namespaces"))
    nodes = {n["name"]: n for n in graph["nodes"]}
    assert set(nodes) == {"outer.inner.clean", "outer.inner.scale", "side.sum_up", "summarise"}
    assert nodes["outer.inner.clean"]["namespace"] == "outer.inner"
    assert nodes["outer.inner.clean"]["tags"] == ["a_tag", "etl"]
    assert nodes["side.sum_up"]["namespace"] == "side"
    assert nodes["summarise"]["namespace"] is None
    assert nodes["outer.inner.scale"]["inputs"] == ["outer.inner.clean", "params:factor"]
    assert nodes["summarise"]["inputs"] == ["outer.inner.scaled", "parameters"]
    order = [n["name"] for n in graph["nodes"]]
    assert order.index("outer.inner.clean") < order.index("outer.inner.scale") < order.index("summarise")
    assert graph["parameters"] == ["factor", "model", "threshold"]
    assert graph["datasets"] == {
        "raw": {"type": "json.JSONDataset", "ephemeral": False, "storage": "local"},
        "outer.inner.clean": {"type": "pickle.PickleDataset", "ephemeral": False, "storage": "local"},
        "outer.inner.scaled": {"type": "MemoryDataset", "ephemeral": True},
        "side.sum": {"type": "MemoryDataset", "ephemeral": True},
        "summary": {"type": "json.JSONDataset", "ephemeral": False, "storage": "local"},
    }


def test_project_that_prints_keeps_stdout_json(make_project) -> None:
    result = inspect(make_project("namespaces"))
    assert result.code == 0
    assert result.stdout.startswith("{")
    assert "demo nodes imported" in result.stderr


def test_factory_patterns_resolve_by_specificity_without_credentials(make_project) -> None:
    graph = graph_of(make_project("factories"))
    assert graph["datasets"] == {
        "raw": {"type": "json.JSONDataset", "ephemeral": False, "storage": "local"},
        "features_pickle": {"type": "pickle.PickleDataset", "ephemeral": False, "storage": "local"},
        "scratch_mem": {"type": "MemoryDataset", "ephemeral": True},
        "ns.model": {"type": "pickle.PickleDataset", "ephemeral": False, "storage": "local"},
        "ns.metrics": {"type": "json.JSONDataset", "ephemeral": False, "storage": "local"},
        "leftover": {"type": "MemoryDataset", "ephemeral": True},
    }
    nodes = {n["name"]: n for n in graph["nodes"]}
    assert nodes["ns.train"]["namespace"] == "ns"


def test_catch_all_pattern_makes_every_dataset_persistent(make_project) -> None:
    project = make_project("catchall")
    aws = graph_of(project)
    assert {k: v["ephemeral"] for k, v in aws["datasets"].items()} == {
        "raw": False,
        "first": False,
        "second": False,
        "third": False,
    }
    assert aws["datasets"]["third"]["type"] == "pickle.PickleDataset"
    base = graph_of(project, "--env", "base")
    assert {k for k, v in base["datasets"].items() if v["ephemeral"]} == {"first", "second", "third"}


def test_long_dotted_and_non_ascii_names(make_project) -> None:
    graph = graph_of(make_project("long_names"))
    names = [n["name"] for n in graph["nodes"]]
    assert LONG_NAME in names and len(LONG_NAME) > 80
    assert "prepare.features-v2.final" in names
    assert "größe_berechnen" in names
    assert "very.deep.name.space.for.testing.report" in names
    deep = next(n for n in graph["nodes"] if n["name"].endswith(".report"))
    assert deep["namespace"] == "very.deep.name.space.for.testing"
    # Unnamed nodes: Kedro 1.x names them func__<sha8>, 0.19 "func([in]) -> [out]".
    unnamed = next(n["name"] for n in graph["nodes"] if n["outputs"] == ["e"])
    expected = r"identity__[0-9a-f]{8}" if kedro_at_least(1, 0) else re.escape("identity([raw]) -> [e]")
    assert re.fullmatch(expected, unnamed)


def test_resolvers_agree_on_generated_projects(make_project) -> None:
    resolvers = ["config"] + (["snapshot"] if kedro_at_least(1, 4) else [])
    for kind in ("namespaces", "factories", "catchall"):
        project = make_project(kind)
        expected = graph_of(project)
        for resolver in resolvers:
            assert graph_of(project, "--resolver", resolver) == expected, (kind, resolver)


def test_make_project_command_line(tmp_path: Path) -> None:
    """The TypeScript tests call the generator as a script."""
    out = tmp_path / "generated"
    proc = subprocess.run(
        [sys.executable, str(TESTS / "make_project.py"), str(out), "--kind", "catchall"],
        env=helper_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.strip() == str(out)
    assert (out / "pyproject.toml").is_file() and (out / "conf" / "aws" / "catalog.yml").is_file()
    assert graph_of(out)["project"]["name"] == "catchall"


def test_pipelines_find_pipelines_skips_are_reported_as_warnings(make_project) -> None:
    project = make_project("catchall")
    package = project / "src" / "demo_catchall"
    (package / "pipelines" / "good").mkdir(parents=True)
    (package / "pipelines" / "__init__.py").write_text("")
    (package / "pipelines" / "good" / "__init__.py").write_text(
        "from kedro.pipeline import node, pipeline\n"
        "from demo_catchall.nodes import identity\n\n\n"
        "def create_pipeline(**kwargs):\n"
        "    return pipeline([node(identity, 'raw', 'first', name='one')])\n"
    )
    (package / "pipelines" / "broken").mkdir()
    (package / "pipelines" / "broken" / "__init__.py").write_text("import not_installed_anywhere\n")
    (package / "pipeline_registry.py").write_text(
        "from kedro.framework.project import find_pipelines\n\n\n"
        "def register_pipelines():\n"
        "    pipelines = find_pipelines()\n"
        "    pipelines['__default__'] = sum(pipelines.values())\n"
        "    return pipelines\n"
    )
    graph = graph_of(project)
    assert [n["name"] for n in graph["nodes"]] == ["one"]
    # The skipped module is reported apart from the warnings: it shrinks the pipeline, so it fails the step.
    assert graph["warnings"] == []
    assert graph["pipeline_import_errors"] == [
        {
            "module": "demo_catchall.pipelines.broken",
            "error": "ModuleNotFoundError: No module named 'not_installed_anywhere'",
        }
    ]


def test_a_pipeline_module_that_raises_on_import_is_named_with_its_error(make_project) -> None:
    project = make_project("skipped_pipeline")
    graph = graph_of(project)
    assert [n["name"] for n in graph["nodes"]] == ["copy"]
    assert graph["pipeline_import_errors"] == [
        {"module": "demo_skipped_pipeline.pipelines.broken", "error": "ZeroDivisionError: division by zero"}
    ]
    assert graph["warnings"] == []


def test_a_module_without_create_pipeline_stays_a_warning(make_project) -> None:
    project = make_project("skipped_pipeline")
    (project / "src" / "demo_skipped_pipeline" / "pipelines" / "broken" / "__init__.py").write_text("X = 1\n")
    graph = graph_of(project)
    assert graph["pipeline_import_errors"] == []
    assert len(graph["warnings"]) == 1 and "does not expose a 'create_pipeline'" in graph["warnings"][0]


def test_unimportable_dataset_class_is_persistent_with_a_warning(make_project) -> None:
    project = make_project("catchall")
    (project / "conf" / "aws" / "catalog.yml").write_text(
        'raw:\n  type: json.JSONDataset\n  filepath: data/raw.json\n'
        '"{name}":\n  type: fancy_plugin.FancyDataset\n  filepath: data/{name}.bin\n'
    )
    graph = graph_of(project)
    assert graph["datasets"]["first"] == {"type": "fancy_plugin.FancyDataset", "ephemeral": False, "storage": "local"}
    assert len(graph["warnings"]) == 1 and "fancy_plugin.FancyDataset" in graph["warnings"][0]


def test_storage_is_the_path_protocol() -> None:
    from kedro_sfn.datasets import storage_of

    assert storage_of({"filepath": "s3://bucket/x.csv"}) == "s3"
    assert storage_of({"filepath": "gcs://bucket/x.csv"}) == "gcs"
    assert storage_of({"filepath": "data/01_raw/x.csv"}) == "local"
    assert storage_of({"filepath": "file:///tmp/x.csv"}) == "local"
    assert storage_of({"path": "abfs://c/x"}) == "abfs"
    assert storage_of({"table_name": "t"}) is None
