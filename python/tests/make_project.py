"""Write a tiny Kedro project for tests (Python and TypeScript alike).

    python python/tests/make_project.py OUT_DIR --kind KIND [--kedro-version X.Y.Z]

Kinds:
  namespaces      nested namespaces, tags, params:x and `parameters` inputs, an
                  explicit MemoryDataset and an undeclared dataset
  factories       dataset factory patterns of different specificity, full class paths
  catchall        a catch-all "{name}" pattern in conf/aws, none in conf/base
  long_names      node names over 80 characters, dotted, dashed and non-ASCII names
  runnable        three nodes on local JSON files (`double` -> `report`, `explode`
                  raises ShuttleOverheated); runs without any cloud access
  broken_import   a pipeline module that raises ZeroDivisionError on import
  broken_settings a settings.py that raises NameError on import
  cycle           a pipeline whose nodes feed each other (CircularDependencyError)
  hostile_names   namespaces and dataset names that are workflow commands, HTML and
                  Markdown (Kedro validates node names, not namespaces or datasets):
                  two namespaces that depend on each other (merged into one task)
                  and a third; conf/aws persists everything, conf/memory nothing
  skipped_pipeline find_pipelines() over `good` (one node, `copy`) and `broken`
                  (raises ZeroDivisionError on import, so find_pipelines skips it)
  localdata       the catalog of a project run on a laptop: local CSV/Excel inputs with
                  load_args, a transcoded pair, a factory pattern with `/` and `#` in the
                  names, terminal outputs on local paths, a crossing in-memory dataset;
                  conf/aws holds two entries on S3 (pre-flight's fixes; never run)

Every project has conf/base and conf/aws (no other env), parameters, and
``kedro_init_version`` set to the Kedro of the interpreter running this script
(so it bootstraps there), unless --kedro-version says otherwise. Nodes use only
the standard library; catalogs use kedro-datasets' json and pickle datasets.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path

KINDS = (
    "namespaces",
    "factories",
    "catchall",
    "long_names",
    "runnable",
    "broken_import",
    "broken_settings",
    "cycle",
    "skipped_pipeline",
    "hostile_names",
    "localdata",
)

LONG_NAME = "compute_the_extremely_detailed_monthly_revenue_forecast_for_every_region_and_product_line_v2"

NODES_PY = '''
"""Node functions: standard library only. Prints on import, as careless projects do."""

print("demo nodes imported")


class ShuttleOverheated(RuntimeError):
    """Raised by `explode`, so tests can check the error type a failed node reports."""


def identity(x):
    return x


def scale(x, factor):
    return [v * factor for v in x]


def total(x):
    return sum(x)


def describe(x, parameters):
    return {"value": x, "parameter_keys": sorted(parameters)}


def double(x):
    return [v * 2 for v in x]


def report(x, factor):
    return {"total": sum(x), "factor": factor}


def explode(x):
    raise ShuttleOverheated(f"engine temperature {sum(x)} is above the limit")
'''

REGISTRY = {
    "namespaces": '''
from kedro.pipeline import Pipeline, node, pipeline

from .nodes import describe, identity, scale, total


def register_pipelines():
    base = pipeline(
        [
            node(identity, "raw", "clean", name="clean", tags=["etl", "a_tag"]),
            node(scale, ["clean", "params:factor"], "scaled", name="scale", tags=["etl"]),
        ]
    )
    inner = pipeline(base, namespace="inner", inputs={"raw"}, parameters={"params:factor"})
    outer = pipeline(inner, namespace="outer", inputs={"raw"}, parameters={"params:factor"})
    side = pipeline(
        [node(total, "raw", "sum", name="sum_up")], namespace="side", inputs={"raw"}
    )
    top = pipeline(
        [node(describe, ["outer.inner.scaled", "parameters"], "summary", name="summarise")]
    )
    default = outer + side + top
    return {"__default__": default, "outer": outer, "side": side}
''',
    "factories": '''
from kedro.pipeline import Pipeline, node, pipeline

from .nodes import identity, scale, total


def register_pipelines():
    default = pipeline(
        [
            node(identity, "raw", "features_pickle", name="featurise"),
            node(identity, "features_pickle", "scratch_mem", name="stage"),
            node(
                scale,
                ["scratch_mem", "params:factor"],
                "ns.model",
                name="train",
                namespace="ns",
            ),
            node(total, "ns.model", "ns.metrics", name="evaluate", namespace="ns"),
            node(total, "ns.model", "leftover", name="spare"),
        ]
    )
    return {"__default__": default}
''',
    "catchall": '''
from kedro.pipeline import Pipeline, node, pipeline

from .nodes import identity, total


def register_pipelines():
    default = pipeline(
        [
            node(identity, "raw", "first", name="one"),
            node(identity, "first", "second", name="two"),
            node(total, "second", "third", name="three"),
        ]
    )
    return {"__default__": default}
''',
    "long_names": f'''
from kedro.pipeline import Pipeline, node, pipeline

from .nodes import identity, total


def register_pipelines():
    default = pipeline(
        [
            node(identity, "raw", "a", name="{LONG_NAME}"),
            node(identity, "a", "b", name="prepare.features-v2.final"),
            node(identity, "b", "c", name="größe_berechnen"),
            node(total, "c", "d", name="report", namespace="very.deep.name.space.for.testing"),
            node(identity, "raw", "e"),
        ]
    )
    return {{"__default__": default}}
''',
    "runnable": '''
from kedro.pipeline import Pipeline, node, pipeline

from .nodes import double, explode, report


def register_pipelines():
    default = pipeline(
        [
            node(double, "raw", "doubled", name="double"),
            node(report, ["doubled", "params:factor"], "report", name="report"),
            node(explode, "raw", "never", name="explode"),
        ]
    )
    return {"__default__": default}
''',
    "broken_import": '''
from kedro.pipeline import Pipeline

from .pipelines.broken import create_pipeline


def register_pipelines():
    return {"__default__": create_pipeline()}
''',
    "broken_settings": '''
from kedro.pipeline import Pipeline, node, pipeline

from .nodes import identity


def register_pipelines():
    return {"__default__": pipeline([node(identity, "raw", "out", name="copy")])}
''',
    "skipped_pipeline": '''
from kedro.framework.project import find_pipelines


def register_pipelines():
    pipelines = find_pipelines()
    pipelines["__default__"] = sum(pipelines.values())
    return pipelines
''',
    "hostile_names": '''
from kedro.pipeline import node, pipeline

from .nodes import identity

# Namespaces and dataset names are not validated by Kedro: these reach every printer.
FIRST = "ns\\n::error title=INJECTED::x"
SECOND = "b\\n::add-mask::kedro\\n<img src=x>@someone"
THIRD = "c`tick`|pipe ![x](http://e)\\n::stop-commands::deadbeef"
# No `@` here: Kedro reads `name@x` as a transcoded dataset.
CROSSING = "out\\n\\n</details>\\n\\n<img src=x>\\n\\n[l](http://e) ##[add-mask]kedro"


def register_pipelines():
    default = pipeline(
        [
            node(identity, "raw", "d1\\n::add-mask::kedro", name="a1", namespace=FIRST),
            node(identity, "d1\\n::add-mask::kedro", "d2</details>", name="b1", namespace=SECOND),
            node(identity, "d2</details>", CROSSING, name="a2", namespace=FIRST),
            node(identity, CROSSING, "final\\n::stop-commands::deadbeef", name="c1", namespace=THIRD),
        ]
    )
    return {"__default__": default}
''',
    "cycle": '''
from kedro.pipeline import Pipeline, node, pipeline

from .nodes import identity


def register_pipelines():
    default = pipeline(
        [
            node(identity, "a", "b", name="forward"),
            node(identity, "b", "a", name="backward"),
        ]
    )
    return {"__default__": default}
''',
}

REGISTRY["localdata"] = '''
from kedro.pipeline import Pipeline, node, pipeline

from .nodes import identity, scale, total


def register_pipelines():
    default = pipeline(
        [
            node(scale, ["companies", "shuttles"], "features@pandas", name="featurise"),
            node(identity, "features@csv", "reports/monthly#csv", name="monthly"),
            node(identity, "reports/monthly#csv", "reports/yearly#csv", name="yearly"),
            node(total, "reports/yearly#csv", "summary", name="summarise"),
            node(identity, "companies", "mem_mid", name="stage"),
            node(scale, ["mem_mid", "model_input"], "plots/chart#csv", name="chart"),
        ]
    )
    return {"__default__": default}
'''

BROKEN_PIPELINE_PY = '''
"""A pipeline module with a bug at import time."""

from kedro.pipeline import pipeline

RATE = 1 / 0


def create_pipeline():
    return pipeline([])
'''

GOOD_PIPELINE_PY = '''
from kedro.pipeline import node, pipeline

from ...nodes import identity


def create_pipeline(**kwargs):
    return pipeline([node(identity, "raw", "out", name="copy")])
'''

CATALOGS = {
    "skipped_pipeline": (
        "",
        """
        raw:
          type: json.JSONDataset
          filepath: s3://skipped-bucket/raw.json
        out:
          type: pickle.PickleDataset
          filepath: s3://skipped-bucket/out.pkl
        """,
    ),
    "hostile_names": (
        """
        raw:
          type: json.JSONDataset
          filepath: data/raw.json
        """,
        """
        raw:
          type: json.JSONDataset
          filepath: s3://hostile-bucket/raw.json
        "{name}":
          type: pickle.PickleDataset
          filepath: s3://hostile-bucket/{name}.pkl
        """,
    ),
    "namespaces": (
        """
        raw:
          type: json.JSONDataset
          filepath: data/raw.json
        """,
        """
        raw:
          type: json.JSONDataset
          filepath: data/raw.json
        outer.inner.clean:
          type: pickle.PickleDataset
          filepath: data/outer/inner/clean.pkl
        outer.inner.scaled:
          type: MemoryDataset
        summary:
          type: json.JSONDataset
          filepath: data/summary.json
        """,
    ),
    "factories": (
        """
        raw:
          type: json.JSONDataset
          filepath: data/raw.json
        """,
        """
        raw:
          type: json.JSONDataset
          filepath: data/raw.json
        "{name}_pickle":
          type: pickle.PickleDataset
          filepath: data/{name}.pkl
        "{name}_mem":
          type: kedro.io.MemoryDataset
        "{namespace}.model":
          type: kedro_datasets.pickle.PickleDataset
          filepath: data/{namespace}/model.pkl
          versioned: true
        "{namespace}.{name}":
          type: json.JSONDataset
          filepath: data/{namespace}/{name}.json
          credentials: not_in_any_credentials_file
        """,
    ),
    "catchall": (
        """
        raw:
          type: json.JSONDataset
          filepath: data/raw.json
        """,
        """
        raw:
          type: json.JSONDataset
          filepath: data/raw.json
        "{name}":
          type: pickle.PickleDataset
          filepath: data/{name}.pkl
        """,
    ),
    "long_names": (
        """
        raw:
          type: json.JSONDataset
          filepath: data/raw.json
        """,
        """
        raw:
          type: json.JSONDataset
          filepath: data/raw.json
        "{name}":
          type: json.JSONDataset
          filepath: data/{name}.json
        """,
    ),
    "runnable": (
        """
        raw:
          type: json.JSONDataset
          filepath: data/raw.json
        """,
        """
        raw:
          type: json.JSONDataset
          filepath: data/raw.json
        report:
          type: json.JSONDataset
          filepath: ${runtime_params:out_dir,data}/report.json
          versioned: true
        """,
    ),
}

CATALOGS["localdata"] = (
    """
    companies:
      type: pandas.CSVDataset
      filepath: data/01_raw/companies.csv
      load_args:
        sep: ";"
        decimal: ","
    shuttles:
      type: pandas.ExcelDataset
      filepath: data/01_raw/shuttles.xlsx
      load_args:
        engine: openpyxl
        sheet_name: fleet
    features@pandas:
      type: pandas.CSVDataset
      filepath: data/04_feature/features.csv
    features@csv:
      type: text.TextDataset
      filepath: data/04_feature/features.csv
    "{folder}/{name}#csv":
      type: pandas.CSVDataset
      filepath: data/08_reporting/{folder}/{name}.csv
      save_args:
        index: false
    summary:
      type: json.JSONDataset
      filepath: data/08_reporting/summary.json
    """,
    """
    model_input:
      type: pandas.ParquetDataset
      filepath: s3://acme-data/projects/demo/03_primary/model_input.parquet
    regressor:
      type: pickle.PickleDataset
      filepath: s3://acme-data/projects/demo/06_models/regressor.pkl
    """,
)

PARAMETERS = """
factor: 3
threshold: 0.5
model:
  depth: 2
"""


def write_project(out_dir: Path, kind: str, kedro_version: str | None = None) -> Path:
    """Write a project of ``kind`` into ``out_dir`` (created) and return ``out_dir``."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind '{kind}'; known kinds: {', '.join(KINDS)}")
    version = kedro_version or _installed_kedro_version()
    package = f"demo_{kind}"
    src = out_dir / "src" / package
    files: dict[str, str] = {
        "pyproject.toml": f"""
            [build-system]
            requires = ["setuptools"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{package}"
            version = "0.1"

            [tool.kedro]
            package_name = "{package}"
            project_name = "{kind}"
            kedro_init_version = "{version}"
            source_dir = "src"
            """,
        f"src/{package}/__init__.py": '"""A generated test project."""\n',
        f"src/{package}/nodes.py": NODES_PY,
        f"src/{package}/pipeline_registry.py": REGISTRY[kind],
        f"src/{package}/settings.py": '"""Kedro defaults."""\n',
        "conf/base/parameters.yml": PARAMETERS,
        "conf/local/.gitkeep": "",
        "data/raw.json": json.dumps([1, 2, 3]) + "\n",
    }
    base_catalog, aws_catalog = CATALOGS.get(kind, ("", ""))
    files["conf/base/catalog.yml"] = base_catalog or "{}\n"
    files["conf/aws/catalog.yml"] = aws_catalog or "{}\n"
    if kind == "broken_import":
        files[f"src/{package}/pipelines/__init__.py"] = ""
        files[f"src/{package}/pipelines/broken.py"] = BROKEN_PIPELINE_PY
    if kind == "hostile_names":
        files["conf/memory/catalog.yml"] = "{}\n"
    if kind == "skipped_pipeline":
        # find_pipelines() imports both; the broken one raises, so only `good` is registered.
        files[f"src/{package}/pipelines/__init__.py"] = ""
        files[f"src/{package}/pipelines/good/__init__.py"] = GOOD_PIPELINE_PY
        files[f"src/{package}/pipelines/broken/__init__.py"] = BROKEN_PIPELINE_PY
    if kind == "broken_settings":
        files[f"src/{package}/settings.py"] = '"""Broken on purpose."""\n\nHOOKS = (UndefinedHooks(),)\n'
    for relative, text in files.items():
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        body = textwrap.dedent(text).lstrip("\n")
        path.write_text(body, encoding="utf-8")
    return out_dir


def _installed_kedro_version() -> str:
    try:
        from kedro import __version__
    except ImportError:
        return "1.7.0"
    return __version__


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a tiny Kedro project for tests.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--kind", choices=KINDS, required=True)
    parser.add_argument("--kedro-version", default=None, help="kedro_init_version to write")
    args = parser.parse_args()
    print(write_project(args.out_dir, args.kind, args.kedro_version))


if __name__ == "__main__":
    main()
