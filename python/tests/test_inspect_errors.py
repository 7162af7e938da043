"""Each user error: exit 2, one JSON line on stderr, nothing on stdout."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import Completed, inspect, kedro_version


def user_error(result: Completed, kind: str) -> dict:
    assert result.code == 2, result.stderr
    assert result.stdout == ""
    error = result.error()
    assert error["kind"] == kind, error
    assert set(error) == {"kind", "message", "hint", "file"}
    assert error["message"] and error["hint"]
    return error


def test_missing_folder(tmp_path: Path) -> None:
    error = user_error(inspect(tmp_path / "nope"), "not_a_project")
    assert "nope" in error["message"]


def test_folder_without_pyproject(tmp_path: Path) -> None:
    error = user_error(inspect(tmp_path), "not_a_project")
    assert "pyproject.toml" in error["message"]


def test_pyproject_without_tool_kedro(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    error = user_error(inspect(tmp_path), "not_a_project")
    assert "[tool.kedro]" in error["message"]
    assert error["file"] == str(tmp_path / "pyproject.toml")


def test_kedro_missing(make_project) -> None:
    # -S hides site-packages: the same interpreter, without Kedro.
    result = inspect(make_project("catchall"), python=[sys.executable, "-S"])
    error = user_error(result, "kedro_missing")
    assert sys.executable in error["message"]
    assert f"{sys.executable} -m pip install kedro" in error["hint"]
    assert "'python'" in error["hint"]


def test_kedro_version_mismatch(make_project) -> None:
    project = make_project("catchall")
    pyproject = project / "pyproject.toml"
    other = "0.19.15" if not kedro_version().startswith("0.") else "1.7.0"
    pyproject.write_text(pyproject.read_text().replace(kedro_version(), other))
    error = user_error(inspect(project), "kedro_version_mismatch")
    assert other in error["message"] and kedro_version() in error["message"]
    assert error["file"] == str(pyproject)


def test_unknown_pipeline_lists_the_known_ones(make_project) -> None:
    error = user_error(inspect(make_project("namespaces"), "--pipeline", "nope"), "unknown_pipeline")
    assert "'nope'" in error["message"]
    assert "__default__, outer, side" in error["message"]


def test_env_missing_lists_the_envs(make_project) -> None:
    project = make_project("catchall")
    error = user_error(inspect(project, "--env", "prod"), "env_missing")
    assert "'prod'" in error["message"]
    assert "aws, base, local" in error["message"]
    assert error["file"] == str(project / "conf")


def test_project_import_error_names_the_file_and_shows_the_traceback(make_project) -> None:
    project = make_project("broken_import")
    error = user_error(inspect(project), "project_import_error")
    assert error["file"] == str(project / "src" / "demo_broken_import" / "pipelines" / "broken.py")
    assert "ZeroDivisionError" in error["message"]
    assert "RATE = 1 / 0" in error["message"]
    assert "<frozen" not in error["message"]
    assert len(error["message"].splitlines()) <= 9


def test_broken_settings_is_a_project_import_error(make_project) -> None:
    project = make_project("broken_settings")
    error = user_error(inspect(project), "project_import_error")
    assert error["file"] == str(project / "src" / "demo_broken_settings" / "settings.py")
    assert "NameError" in error["message"] and "UndefinedHooks" in error["message"]


def test_cycle(make_project) -> None:
    project = make_project("cycle")
    error = user_error(inspect(project), "cycle")
    assert "forward" in error["message"] and "backward" in error["message"]
    assert error["file"] == str(project / "src" / "demo_cycle" / "pipeline_registry.py")


@pytest.mark.parametrize(
    "catalog",
    ["raw: [unclosed\n", "raw:\n  type: json.JSONDataset\n  filepath: ${globals:nowhere}/x.json\n"],
    ids=["bad_yaml", "bad_interpolation"],
)
def test_config_error(make_project, catalog: str) -> None:
    project = make_project("catchall")
    (project / "conf" / "aws" / "catalog.yml").write_text(catalog)
    error = user_error(inspect(project), "config_error")
    assert "'aws'" in error["message"]
