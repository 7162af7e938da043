"""The rule that gives every task of one execution the same dataset version."""

from __future__ import annotations

import re

import pytest
from kedro.io.core import generate_timestamp

from kedro_sfn.version import hashed_version, version_for

KEDRO_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}\.\d{3}Z$")


def test_kedro_writes_the_same_shape() -> None:
    assert KEDRO_SHAPE.match(generate_timestamp())


@pytest.mark.parametrize(
    ("explicit", "expected"),
    [
        ("2026-11-27T16:44:28.146Z", "2026-11-27T16.44.28.146Z"),  # $$.Execution.StartTime
        ("2026-11-27T16:44:28.146789Z", "2026-11-27T16.44.28.146Z"),
        ("2026-11-27T16:44:28Z", "2026-11-27T16.44.28.000Z"),
        ("2026-11-27T16:44:28.1+00:00", "2026-11-27T16.44.28.100Z"),
        ("2026-11-27T16.44.28.146Z", "2026-11-27T16.44.28.146Z"),  # a Kedro version
    ],
)
def test_explicit_version_wins(explicit: str, expected: str) -> None:
    assert version_for("spaceflights-20200101T000000Z", explicit) == expected


def test_explicit_version_must_be_a_timestamp() -> None:
    with pytest.raises(ValueError, match="not a timestamp"):
        version_for("run", "latest")


@pytest.mark.parametrize(
    ("run_id", "expected"),
    [
        ("spaceflights-20261127T164428Z-ab12", "2026-11-27T16.44.28.000Z"),
        ("deploy-20261127T164428123Z", "2026-11-27T16.44.28.123Z"),
        ("run-2026-11-27T16-44-28Z", "2026-11-27T16.44.28.000Z"),
        ("2026-11-27T16.44.28.146Z", "2026-11-27T16.44.28.146Z"),
    ],
)
def test_timestamp_in_run_id(run_id: str, expected: str) -> None:
    assert version_for(run_id) == expected


@pytest.mark.parametrize("run_id", ["8c5b6f9e-4a1d-4c5e-9a53-0b6f1d2e3c4a", "x-2026-13-45T99-00-00Z"])
def test_no_timestamp_gives_a_stable_old_kedro_version(run_id: str) -> None:
    version = version_for(run_id)
    assert version == version_for(run_id) == hashed_version(run_id)
    assert KEDRO_SHAPE.match(version)
    assert "1970" <= version < "1980"
    assert version < generate_timestamp()


def test_different_runs_get_different_versions() -> None:
    versions = {version_for(f"run-{i}") for i in range(1000)}
    assert len(versions) == 1000
