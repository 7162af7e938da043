"""`kedro package` output run the way the Lambda image runs it: installed wheel, conf tarball."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from conftest import PYTHON_DIR, MotoS3, copy_spaceflights, helper_env, run_handler


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`kedro package` in a copy of spaceflights, then the wheel installed into a target folder."""
    root = tmp_path_factory.mktemp("package")
    project = copy_spaceflights(root / "spaceflights")
    proc = subprocess.run(
        [sys.executable, "-m", "kedro", "package"],
        cwd=project,
        env=helper_env({"KEDRO_DISABLE_TELEMETRY": "1"}),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    wheel = project / "dist" / "spaceflights-0.1-py3-none-any.whl"
    conf = project / "dist" / "conf-spaceflights.tar.gz"
    site = root / "task"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return {"project": project, "wheel": wheel, "conf": conf, "site": site, "raw": project / "data" / "01_raw"}


def test_kedro_package_makes_a_wheel_and_a_conf_tarball(packaged: dict[str, Path]) -> None:
    assert packaged["wheel"].is_file()
    with tarfile.open(packaged["conf"]) as tar:
        names = set(tar.getnames())
    assert {"conf/aws/catalog.yml", "conf/aws/globals.yml", "conf/base/catalog.yml"} <= names
    assert (packaged["site"] / "spaceflights" / "pipeline_registry.py").is_file()


def test_handler_runs_the_installed_package_with_the_conf_tarball(
    packaged: dict[str, Path], moto_s3: MotoS3, tmp_path: Path
) -> None:
    """No pyproject.toml, an empty working folder: KEDRO_SFN_PACKAGE + KEDRO_SFN_CONF_SOURCE."""
    moto_s3.new_bucket("sf-image", packaged["raw"])
    env = {
        **moto_s3.env,
        "PYTHONPATH": f"{PYTHON_DIR}:{packaged['site']}",
        "KEDRO_SFN_PACKAGE": "spaceflights",
        "KEDRO_SFN_CONF_SOURCE": str(packaged["conf"]),
        "KEDRO_ENV": "aws",
    }
    event = {
        "nodes": ["data_processing.preprocess_companies_node"],
        "run_id": "image-20261127T130000Z",
        "params": {"bucket": "sf-image"},
    }
    task_dir = tmp_path / "var-task"
    task_dir.mkdir()
    result = run_handler(event, env=env, cwd=task_dir)
    assert result.code == 0, result.stdout + result.stderr[-3000:]
    assert result.json()["outputs"] == ["data_processing.preprocessed_companies"]
    assert "spaceflights/02_intermediate/preprocessed_companies.parquet" in moto_s3.keys("sf-image")
    assert list(task_dir.iterdir()) == []


def test_conf_source_on_s3(packaged: dict[str, Path], moto_s3: MotoS3, tmp_path: Path) -> None:
    """KEDRO_SFN_CONF_SOURCE=s3://... (config uploaded next to the data, as a deploy may do)."""
    client = moto_s3.client()
    moto_s3.new_bucket("sf-s3conf", packaged["raw"])
    conf = packaged["project"] / "conf"
    for path in sorted(p for p in conf.rglob("*.yml") if "local" not in p.parts):
        client.upload_file(str(path), "sf-s3conf", f"conf/{path.relative_to(conf).as_posix()}")
    env = {
        **moto_s3.env,
        "PYTHONPATH": f"{PYTHON_DIR}:{packaged['site']}",
        "KEDRO_SFN_PACKAGE": "spaceflights",
        "KEDRO_SFN_CONF_SOURCE": "s3://sf-s3conf/conf",
    }
    event = {
        "nodes": ["data_processing.preprocess_shuttles_node"],
        "run_id": "s3conf-20261127T140000Z",
        "params": {"bucket": "sf-s3conf"},
    }
    result = run_handler(event, env=env, cwd=tmp_path)
    assert result.code == 0, result.stdout + result.stderr[-3000:]
    assert "spaceflights/02_intermediate/preprocessed_shuttles.parquet" in moto_s3.keys("sf-s3conf")
