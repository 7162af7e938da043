"""What pre-flight's fixes are made from: entries, patterns, resolved paths, the storage root."""

from __future__ import annotations

from kedro_sfn.catalog_fixes import catalog_details, storage_root


def test_storage_root_is_the_common_folder_on_the_most_used_bucket() -> None:
    assert storage_root(["s3://b/p/01_raw/a.csv", "s3://b/p/02_x/b.pq", "gs://z/q.csv"]) == "s3://b/p"
    # Kedro layer folders sit under the root, not above it.
    assert storage_root(["s3://b/team/demo/06_models/m.pkl"]) == "s3://b/team/demo"
    assert storage_root(["s3://b/{name}.csv"]) == "s3://b"
    assert storage_root(["data/01_raw/a.csv"]) is None


def test_details_keep_local_entries_and_patterns_and_leave_out_the_rest() -> None:
    config = {
        "raw": {"type": "pandas.CSVDataset", "filepath": "data/01_raw/raw.csv", "load_args": {"sep": ";"}},
        "{folder}/{name}#csv": {"type": "pandas.CSVDataset", "filepath": "data/08_reporting/{folder}/{name}.csv"},
        "scratch": {"type": "MemoryDataset", "copy_mode": "assign"},
        "table": {"type": "pandas.SQLTableDataset", "table_name": "t", "load_args": {"con": "postgresql://u:secret@h/db"}},
        "model": {"type": "pickle.PickleDataset", "filepath": "s3://acme/projects/x/06_models/model.pkl"},
        "_private": {"type": "MemoryDataset"},
    }
    details, root = catalog_details(config, ["raw", "reports/monthly#csv", "scratch", "table", "model", "absent"])
    assert root == "s3://acme/projects/x"
    assert details["raw"] == {
        "entry": {"type": "pandas.CSVDataset", "filepath": "data/01_raw/raw.csv", "load_args": {"sep": ";"}},
        "filepath": "data/01_raw/raw.csv",
    }
    assert details["reports/monthly#csv"]["pattern"] == "{folder}/{name}#csv"
    assert details["reports/monthly#csv"]["filepath"] == "data/08_reporting/reports/monthly.csv"
    assert details["scratch"] == {"entry": {"type": "MemoryDataset"}}
    assert "table" not in details and "model" not in details and "absent" not in details


def test_inspect_reports_entries_and_the_root_from_entries_or_globals(make_project) -> None:
    from conftest import inspect

    project = make_project("localdata")
    graph = inspect(project).json()
    assert graph["catalog_root"] == "s3://acme-data/projects/demo"
    assert graph["catalog_entries"]["shuttles"]["entry"]["load_args"] == {"engine": "openpyxl", "sheet_name": "fleet"}
    assert "model_input" not in graph["catalog_entries"]  # on S3 already: nothing to fix
    # No entry on shared storage in the env: its globals give the root.
    (project / "conf" / "aws" / "catalog.yml").write_text("{}\n")
    (project / "conf" / "aws" / "globals.yml").write_text("data_root: s3://acme-data/from-globals/\n")
    assert inspect(project).json()["catalog_root"] == "s3://acme-data/from-globals"
