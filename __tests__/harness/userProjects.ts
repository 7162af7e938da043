/**
 * Kedro projects laid out as users bring them, for the image tests: the
 * official spaceflights-pandas starter's shape (dependencies only in
 * requirements.txt, notebook and lint tools among them, no s3fs, kedro-datasets
 * without the extras its catalog needs) on Kedro 1.x, and a Kedro 0.19 project
 * with an open `kedro>=0.19` pin that imports 0.19-only API.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface UserProject {
  dir: string;
  package: string;
  bucket: string;
  /** Raw inputs to put in S3 before a run: key -> body. */
  rawData: Record<string, string>;
}

const COMPANIES = "id,company_rating,iata_approved\n1,90%,t\n2,45%,f\n3,100%,t\n4,,f\n";

/** Writes `files` (relative path -> text) under `root`. */
export function write(root: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), text);
  }
}

/** A Kedro project's pyproject.toml, as `kedro new` writes it (src layout). */
export function pyproject(pkg: string, kedroInitVersion: string, examplePipeline = false): string {
  return `[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "${pkg}"
readme = "README.md"
dynamic = ["version"]

[tool.setuptools.dynamic]
version = {attr = "${pkg}.__version__"}

[tool.setuptools.packages.find]
where = ["src"]
namespaces = false

[tool.kedro]
package_name = "${pkg}"
project_name = "${pkg}"
kedro_init_version = "${kedroInitVersion}"
tools = "['None']"
example_pipeline = "${examplePipeline ? "True" : "False"}"
source_dir = "src"
`;
}

const NODES = `import pandas as pd


def clean(companies: pd.DataFrame) -> pd.DataFrame:
    companies = companies.copy()
    companies["company_rating"] = companies["company_rating"].str.rstrip("%").astype(float) / 100
    companies["iata_approved"] = companies["iata_approved"] == "t"
    return companies.dropna()


def summarize(cleaned: pd.DataFrame, parameters: dict) -> dict:
    approved = cleaned[cleaned["iata_approved"]]
    return {"companies": int(len(cleaned)), "approved": int(len(approved)),
            "mean_rating": round(float(cleaned["company_rating"].mean()), 4),
            "label": parameters["label"]}
`;

function catalog(bucket: string, pkg: string): string {
  return `companies:
  type: pandas.CSVDataset
  filepath: s3://${bucket}/${pkg}/01_raw/companies.csv

cleaned:
  type: pandas.ParquetDataset
  filepath: s3://${bucket}/${pkg}/02_intermediate/cleaned.parquet

summary:
  type: json.JSONDataset
  filepath: s3://${bucket}/${pkg}/08_reporting/summary.json
`;
}

/** The two-node pipeline module; `modular` wraps it in 0.19's kedro.pipeline.modular_pipeline (gone in 1.x). */
function pipelineSource(modular: boolean): string {
  const nodes = `Pipeline([
        node(clean, "companies", "cleaned", name="clean_companies"),
        node(summarize, ["cleaned", "parameters"], "summary", name="summarize_companies"),
    ])`;
  return `from kedro.pipeline import Pipeline, node
${modular ? "from kedro.pipeline.modular_pipeline import pipeline as modular\n" : ""}
from .nodes import clean, summarize


def create_pipeline(**kwargs) -> Pipeline:
    return ${modular ? `modular(${nodes})` : nodes}
`;
}

function common(pkg: string, bucket: string, pipelineModule: string): Record<string, string> {
  return {
    "README.md": `# ${pkg}\n`,
    [`src/${pkg}/__init__.py`]: '__version__ = "0.1"\n',
    [`src/${pkg}/settings.py`]: "",
    [`src/${pkg}/pipeline_registry.py`]: `from ${pkg}.pipelines.companies import create_pipeline


def register_pipelines():
    return {"__default__": create_pipeline()}
`,
    [`src/${pkg}/pipelines/__init__.py`]: "",
    [`src/${pkg}/pipelines/companies/__init__.py`]: "from .pipeline import create_pipeline\n",
    [`src/${pkg}/pipelines/companies/nodes.py`]: NODES,
    [`src/${pkg}/pipelines/companies/pipeline.py`]: pipelineModule,
    "conf/base/catalog.yml": "companies:\n  type: pandas.CSVDataset\n  filepath: data/01_raw/companies.csv\n",
    "conf/base/parameters.yml": `label: ${pkg}\n`,
    "conf/aws/catalog.yml": catalog(bucket, pkg),
    "conf/local/.gitkeep": "",
  };
}

/** The spaceflights-pandas starter's layout on Kedro 1.x: requirements.txt holds everything. */
export function writeStarterProject(root: string, kedroVersion: string): UserProject {
  const pkg = "starter";
  const bucket = "kedro-sfn-starter";
  write(root, {
    ...common(pkg, bucket, pipelineSource(false)),
    "pyproject.toml": pyproject(pkg, kedroVersion),
    // As `kedro new --starter spaceflights-pandas` writes it: notebook, viz and test tools included.
    "requirements.txt": `ipython>=8.10
jupyterlab>=3.0
kedro~=${kedroVersion.split(".").slice(0, 2).join(".")}.0
kedro-datasets>=4.0
kedro-viz>=6.7.0
notebook
pandas
pytest~=7.2
ruff~=0.1.8
`,
  });
  return { dir: root, package: pkg, bucket, rawData: { [`${pkg}/01_raw/companies.csv`]: COMPANIES } };
}

/** A Kedro 0.19 project: `kedro>=0.19` would resolve Kedro 1.x, which has no modular_pipeline. */
export function writeKedro019Project(root: string, kedroVersion: string): UserProject {
  const pkg = "legacy";
  const bucket = "kedro-sfn-legacy";
  write(root, {
    ...common(pkg, bucket, pipelineSource(true)),
    "pyproject.toml": pyproject(pkg, kedroVersion),
    "src/requirements.txt": `kedro>=0.19
kedro-datasets[pandas-csvdataset,pandas-parquetdataset,json-jsondataset]
pandas<3
s3fs
`,
  });
  return { dir: root, package: pkg, bucket, rawData: { [`${pkg}/01_raw/companies.csv`]: COMPANIES } };
}
