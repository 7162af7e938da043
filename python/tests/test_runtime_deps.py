"""The runtime profile inspect writes (what the image must hold) and the in-image smoke test,
run here on the host against the installed project as the image would run it."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

from conftest import inspect, kedro_version, run_python
from kedro_sfn.runtime_deps import imported_modules


def test_imports_read_from_source_skip_optional_and_relative(tmp_path: Path) -> None:
    source = tmp_path / "nodes.py"
    source.write_text(
        textwrap.dedent(
            """
            import os, json
            import pandas as pd
            from sklearn.linear_model import LinearRegression
            from . import sibling
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                import polars
            try:
                import ujson
            except ImportError:
                ujson = None

            def node():
                import matplotlib.pyplot  # imported when the node runs: needed too
            """
        )
    )
    assert imported_modules(source) == {"os", "json", "pandas", "sklearn", "typing", "matplotlib"}


def test_spaceflights_profile_names_packages_by_importer_and_data_requirements(spaceflights: Path) -> None:
    runtime = inspect(spaceflights, "--env", "aws").json()["runtime"]
    assert runtime["kedro"] == kedro_version()
    by_dist = {entry["distribution"]: entry for entry in runtime["imports"]}
    assert by_dist["scikit-learn"]["module"] == "sklearn"
    assert by_dist["scikit-learn"]["by"] == "src/spaceflights/pipelines/data_science/nodes.py"
    assert by_dist["pandas"]["by"].startswith("src/spaceflights/pipelines/")
    assert "spaceflights" not in by_dist
    requirements = {r["requirement"]: r["why"] for r in runtime["data_requirements"]}
    assert requirements["s3fs"].startswith("datasets on s3:// (companies")
    assert requirements["kedro-datasets[pandas-csvdataset]"] == "dataset type pandas.CSVDataset (companies, reviews)"
    assert "kedro-datasets[pandas-exceldataset]" in requirements


def smoke(project: Path, spec: dict, env: dict[str, str] | None = None):
    """The smoke test as the image runs it: the package importable, conf from a folder, no project path."""
    return run_python(
        ["-m", "kedro_sfn.smoke", "--spec", json.dumps(spec)],
        env={
            "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]), str(project / "src")]),
            "KEDRO_SFN_PACKAGE": project.name,
            "KEDRO_SFN_CONF_SOURCE": str(project / "conf"),
            **(env or {}),
        },
        cwd=project,
    )


def test_smoke_passes_on_spaceflights_and_builds_every_dataset(spaceflights: Path) -> None:
    graph = inspect(spaceflights, "--env", "aws").json()
    spec = {
        "env": "aws",
        "pipeline": "__default__",
        "kedro": kedro_version(),
        "imports": graph["runtime"]["imports"],
        "datasets": sorted(graph["datasets"]),
    }
    done = smoke(spaceflights, spec)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ok"] is True, result
    assert result["checked"]["nodes"] == 6
    assert result["checked"]["datasets"] == len(graph["datasets"])
    assert result["checked"]["runtime"] == "awslambdaric"


def test_smoke_names_the_missing_package_the_kedro_mismatch_and_the_file_to_fix(spaceflights: Path) -> None:
    spec = {
        "env": "aws",
        "kedro": "0.18.0",
        "requirements": "requirements.txt",
        "imports": [{"distribution": "not-installed-here", "version": "1.2.3", "module": "nih", "by": "src/x/nodes.py"}],
        "datasets": [],
    }
    done = smoke(spaceflights, spec)
    assert done.code == 1
    problems = json.loads(done.stdout.strip().splitlines()[-1])["problems"]
    messages = [p["message"] for p in problems]
    assert messages[0] == (
        f"The image has Kedro {kedro_version()}, but the project was inspected and packaged with Kedro 0.18.0."
    )
    assert problems[0]["hint"].startswith("Pin `kedro==0.18.0` in requirements.txt")
    assert messages[1] == (
        "The image lacks 'not-installed-here' (module 'nih', imported by src/x/nodes.py; "
        "1.2.3 where the project was inspected)."
    )
    assert problems[1]["hint"].startswith("Add `not-installed-here==1.2.3`")


def test_smoke_fails_on_a_dataset_that_cannot_be_built(spaceflights: Path, tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    (conf / "base").mkdir(parents=True)
    (conf / "aws").mkdir()
    (conf / "base" / "catalog.yml").write_text("companies:\n  type: pandas.NoSuchDataset\n  filepath: x.csv\n")
    done = smoke(spaceflights, {"env": "aws", "datasets": ["companies"]}, env={"KEDRO_SFN_CONF_SOURCE": str(conf)})
    assert done.code == 1, done.stderr
    problem = json.loads(done.stdout.strip().splitlines()[-1])["problems"][0]
    assert "companies" in problem["message"] or "NoSuchDataset" in problem["message"], problem


def test_smoke_names_an_env_the_image_conf_lacks(spaceflights: Path) -> None:
    done = smoke(spaceflights, {"env": "prod", "datasets": ["companies"]})
    assert done.code == 1, done.stderr
    problem = json.loads(done.stdout.strip().splitlines()[-1])["problems"][0]
    assert problem["message"].endswith("has no env 'prod': the Lambdas would run without its catalog and parameters.")
    assert problem["hint"].startswith("Put conf/prod/ in the project's conf folder")
