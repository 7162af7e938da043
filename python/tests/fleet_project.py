"""A Kedro project laid out as users lay theirs out, for the node index tests.

- ``pipeline_registry.py`` imports three pipeline packages by hand (not find_pipelines)
  and instantiates one of them twice under namespaces (``eu``, ``us``);
- ``pipelines/model`` imports scikit-learn at the top of its pipeline and nodes
  modules, ``pipelines/report`` imports scipy at the top of its pipeline module;
- ``report``'s nodes run functions from a shared ``utils/common.py``;
- ``ingest`` has a lambda node (``tidy``), ``model`` a ``functools.partial`` node
  (``model.double``) and a node with keyword inputs (``model.fit``).

Every module appends its name to the file in ``$FLEET_IMPORT_LOG`` when imported, so a
test can tell which parts of the project a process loaded.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

PACKAGE = "fleet"

FILES = {
    "src/fleet/__init__.py": '"""A project laid out like users\' projects."""\n',
    "src/fleet/settings.py": '"""Kedro defaults."""\n',
    "src/fleet/importlog.py": '''
        """Note which project modules a process imported (tests read the log)."""
        import os


        def mark(name):
            log = os.environ.get("FLEET_IMPORT_LOG")
            if log:
                with open(log, "a", encoding="utf-8") as handle:
                    handle.write(name + "\\n")
        ''',
    "src/fleet/pipeline_registry.py": '''
        from kedro.pipeline import pipeline

        from fleet.importlog import mark
        from fleet.pipelines import ingest, model, report

        mark(__name__)


        def register_pipelines():
            ingested = ingest.create_pipeline()
            modelled = model.create_pipeline()
            regional = report.create_pipeline()
            eu = pipeline(regional, namespace="eu", inputs={"clean"}, parameters={"params:factor"})
            us = pipeline(regional, namespace="us", inputs={"clean"}, parameters={"params:factor"})
            return {
                "__default__": ingested + modelled + eu + us,
                "ingest": ingested,
                "model": modelled,
                "report": eu + us,
            }
        ''',
    "src/fleet/utils/__init__.py": '''
        from fleet.importlog import mark

        mark(__name__)
        ''',
    "src/fleet/utils/common.py": '''
        """Node functions shared by several pipelines."""
        from fleet.importlog import mark

        mark(__name__)


        def add_one(values):
            return [v + 1 for v in values]


        def scale(values, factor):
            return [v * factor for v in values]
        ''',
    "src/fleet/pipelines/__init__.py": "",
    "src/fleet/pipelines/ingest/__init__.py": "from .pipeline import create_pipeline\n",
    "src/fleet/pipelines/ingest/pipeline.py": '''
        from kedro.pipeline import node, pipeline

        from fleet.importlog import mark

        from .nodes import clean

        mark(__name__)


        def create_pipeline(**kwargs):
            return pipeline(
                [
                    node(clean, "raw", "clean", name="clean", tags=["etl"]),
                    node(lambda values: values[::-1], "clean", "tidy", name="tidy"),
                ]
            )
        ''',
    "src/fleet/pipelines/ingest/nodes.py": '''
        import json  # noqa: F401 - the standard library only

        from fleet.importlog import mark

        mark(__name__)


        def clean(raw):
            return sorted(raw)
        ''',
    "src/fleet/pipelines/model/__init__.py": "from .pipeline import create_pipeline\n",
    "src/fleet/pipelines/model/pipeline.py": '''
        from functools import partial

        import sklearn.linear_model  # noqa: F401 - heavy, at the top, as projects do
        from kedro.pipeline import node, pipeline

        from fleet.importlog import mark
        from fleet.utils.common import scale

        from .nodes import fit

        mark(__name__)


        def create_pipeline(**kwargs):
            return pipeline(
                [
                    node(fit, {"values": "clean", "factor": "params:factor"}, "summary", name="fit"),
                    node(partial(scale, factor=2), "clean", "doubled", name="double"),
                ],
                namespace="model",
                inputs={"clean"},
                parameters={"params:factor"},
            )
        ''',
    "src/fleet/pipelines/model/nodes.py": '''
        from sklearn.linear_model import LinearRegression

        from fleet.importlog import mark

        mark(__name__)


        def fit(values, factor):
            xs = [[float(i)] for i in range(len(values))]
            model = LinearRegression().fit(xs, [float(v) for v in values])
            return {"slope": round(float(model.coef_[0]), 6), "factor": factor}
        ''',
    "src/fleet/pipelines/report/__init__.py": "from .pipeline import create_pipeline\n",
    "src/fleet/pipelines/report/pipeline.py": '''
        import scipy.stats  # noqa: F401 - heavy, at the top, never used by the nodes
        from kedro.pipeline import node, pipeline

        from fleet.importlog import mark
        from fleet.utils.common import add_one, scale

        mark(__name__)


        def create_pipeline(**kwargs):
            return pipeline(
                [
                    node(add_one, "clean", "bumped", name="bump"),
                    node(scale, ["bumped", "params:factor"], "scaled", name="scale"),
                ]
            )
        ''',
    "conf/base/parameters.yml": "factor: 3\n",
    "conf/base/catalog.yml": '''
        raw:
          type: json.JSONDataset
          filepath: data/raw.json
        clean:
          type: json.JSONDataset
          filepath: data/clean.json
        tidy:
          type: json.JSONDataset
          filepath: data/tidy.json
        "model.{name}":
          type: json.JSONDataset
          filepath: data/model_{name}.json
        "{region}.bumped":
          type: json.JSONDataset
          filepath: data/{region}_bumped.json
        "{region}.scaled":
          type: json.JSONDataset
          filepath: data/{region}_scaled.json
        ''',
    "conf/aws/catalog.yml": "{}\n",
    "conf/local/.gitkeep": "",
}


def write_fleet(out_dir: Path, kedro_version: str) -> Path:
    """Write the project into ``out_dir`` for Kedro ``kedro_version``; return ``out_dir``."""
    files = dict(FILES)
    files["pyproject.toml"] = f"""
        [build-system]
        requires = ["setuptools"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{PACKAGE}"
        version = "0.1"

        [tool.kedro]
        package_name = "{PACKAGE}"
        project_name = "fleet"
        kedro_init_version = "{kedro_version}"
        source_dir = "src"
        """
    for rel, text in files.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    (out_dir / "data").mkdir(exist_ok=True)
    (out_dir / "data" / "raw.json").write_text(json.dumps([5, 1, 4, 2]) + "\n")
    return out_dir
