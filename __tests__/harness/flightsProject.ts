/**
 * A project modelled on the official spaceflights-pandas starter, for `data-location`:
 * its catalog persists what the starter persists (raw inputs, preprocessed tables, the
 * model input table, the regressor, the reporting outputs), and keeps in memory what the
 * starter keeps in memory (X_train, X_test, y_train, y_test between the data science
 * nodes; a table between two reporting nodes, one of which draws a matplotlib plot).
 * conf/aws has no entry for any intermediate: the run store carries them.
 * Pipeline `broken` has one node whose output (a generator) no Lambda can hand on.
 */
import { pyproject, write } from "./userProjects.js";

export interface FlightsProject {
  dir: string;
  package: string;
  bucket: string;
  rawData: Record<string, string>;
  /** Datasets the catalog keeps in memory that cross Lambdas (one node per Lambda). */
  inMemory: string[];
}

const PROCESSING = `import pandas as pd


def preprocess_companies(companies: pd.DataFrame) -> pd.DataFrame:
    companies = companies.copy()
    companies["iata_approved"] = companies["iata_approved"] == "t"
    companies["company_rating"] = companies["company_rating"].str.rstrip("%").astype(float) / 100
    return companies


def create_model_input_table(shuttles: pd.DataFrame, companies: pd.DataFrame) -> pd.DataFrame:
    table = shuttles.merge(companies, left_on="company_id", right_on="id")
    return table.dropna()
`;

const SCIENCE = `import logging

import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split


def split_data(data: pd.DataFrame, parameters: dict) -> tuple:
    X = data[parameters["features"]]
    y = data["price"]
    return train_test_split(X, y, test_size=parameters["test_size"], random_state=parameters["random_state"])


def train_model(X_train: pd.DataFrame, y_train: pd.Series) -> LinearRegression:
    regressor = LinearRegression()
    regressor.fit(X_train, y_train)
    return regressor


def evaluate_model(regressor: LinearRegression, X_test: pd.DataFrame, y_test: pd.Series) -> dict:
    score = r2_score(y_test, regressor.predict(X_test))
    logging.getLogger(__name__).info("Model has a coefficient R^2 of %.3f on test data.", score)
    return {"r2_score": round(float(score), 6), "test_rows": int(len(y_test))}
`;

const REPORTING = `import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd


def capacity_by_type(table: pd.DataFrame) -> pd.DataFrame:
    return table.groupby("shuttle_type", as_index=False)["passenger_capacity"].mean()


def plot_capacity(capacity: pd.DataFrame):
    figure, axes = plt.subplots()
    axes.bar(capacity["shuttle_type"], capacity["passenger_capacity"])
    axes.set_title("Mean passenger capacity by shuttle type")
    return figure


def capacity_report(capacity: pd.DataFrame) -> dict:
    return {row.shuttle_type: round(float(row.passenger_capacity), 3) for row in capacity.itertuples()}


def stream_rows(table: pd.DataFrame):
    return (row for row in table.itertuples())


def count_rows(rows) -> int:
    return sum(1 for _ in rows)
`;

const REGISTRY = `from kedro.pipeline import Pipeline, node, pipeline

from .nodes import processing, reporting, science


def register_pipelines():
    data_processing = pipeline(
        [
            node(processing.preprocess_companies, "companies", "preprocessed_companies",
                 name="preprocess_companies_node"),
            node(processing.create_model_input_table, ["shuttles", "preprocessed_companies"],
                 "model_input_table", name="create_model_input_table_node"),
        ]
    )
    data_science = pipeline(
        [
            node(science.split_data, ["model_input_table", "params:model_options"],
                 ["X_train", "X_test", "y_train", "y_test"], name="split_data_node"),
            node(science.train_model, ["X_train", "y_train"], "regressor", name="train_model_node"),
            node(science.evaluate_model, ["regressor", "X_test", "y_test"], "metrics",
                 name="evaluate_model_node"),
        ]
    )
    report = pipeline(
        [
            node(reporting.capacity_by_type, "model_input_table", "capacity_by_type",
                 name="capacity_by_type_node"),
            node(reporting.plot_capacity, "capacity_by_type", "capacity_plot", name="plot_capacity_node"),
            node(reporting.capacity_report, "capacity_by_type", "capacity_report",
                 name="capacity_report_node"),
        ]
    )
    broken = pipeline(
        [
            node(processing.preprocess_companies, "companies", "preprocessed_companies",
                 name="preprocess_companies_node"),
            node(reporting.stream_rows, "preprocessed_companies", "company_rows", name="stream_rows_node"),
            node(reporting.count_rows, "company_rows", "row_count", name="count_rows_node"),
        ]
    )
    return {"__default__": data_processing + data_science + report, "broken": broken}
`;

function catalog(bucket: string): string {
  const root = `s3://${bucket}/flights`;
  return `companies:
  type: pandas.CSVDataset
  filepath: ${root}/01_raw/companies.csv

shuttles:
  type: pandas.CSVDataset
  filepath: ${root}/01_raw/shuttles.csv

preprocessed_companies:
  type: pandas.ParquetDataset
  filepath: ${root}/02_intermediate/preprocessed_companies.parquet

model_input_table:
  type: pandas.ParquetDataset
  filepath: ${root}/03_primary/model_input_table.parquet

regressor:
  type: pickle.PickleDataset
  filepath: ${root}/06_models/regressor.pickle
  versioned: true

metrics:
  type: json.JSONDataset
  filepath: ${root}/08_reporting/metrics.json

capacity_plot:
  type: matplotlib.MatplotlibDataset
  filepath: ${root}/08_reporting/capacity_plot.png

capacity_report:
  type: json.JSONDataset
  filepath: ${root}/08_reporting/capacity_report.json
`;
}

function rawData(): Record<string, string> {
  const companies = ["id,company_rating,iata_approved"];
  const shuttles = ["id,company_id,shuttle_type,engines,passenger_capacity,price"];
  for (let i = 1; i <= 40; i++) {
    companies.push(`${i},${50 + (i % 50)}%,${i % 3 === 0 ? "f" : "t"}`);
    const engines = 1 + (i % 4);
    const capacity = 2 + (i % 7);
    shuttles.push(
      `${100 + i},${i},Type ${"ABC"[i % 3]},${engines},${capacity},${1000 + engines * 300 + capacity * 40 + (i % 5)}`,
    );
  }
  return {
    "flights/01_raw/companies.csv": `${companies.join("\n")}\n`,
    "flights/01_raw/shuttles.csv": `${shuttles.join("\n")}\n`,
  };
}

export function writeFlightsProject(root: string, kedroVersion: string): FlightsProject {
  const pkg = "flights";
  const bucket = "kedro-sfn-flights";
  write(root, {
    "README.md": "# flights\n",
    "pyproject.toml": pyproject(pkg, kedroVersion, true),
    // As the spaceflights-pandas starter writes it, notebook and lint tools included.
    "requirements.txt": `ipython>=8.10
jupyterlab>=3.0
kedro~=${kedroVersion.split(".").slice(0, 2).join(".")}.0
kedro-datasets>=4.0
kedro-viz>=6.7.0
matplotlib
notebook
pandas
pytest~=7.2
ruff~=0.1.8
scikit-learn
`,
    [`src/${pkg}/__init__.py`]: '__version__ = "0.1"\n',
    [`src/${pkg}/settings.py`]: "",
    [`src/${pkg}/pipeline_registry.py`]: REGISTRY,
    [`src/${pkg}/nodes/__init__.py`]: "",
    [`src/${pkg}/nodes/processing.py`]: PROCESSING,
    [`src/${pkg}/nodes/science.py`]: SCIENCE,
    [`src/${pkg}/nodes/reporting.py`]: REPORTING,
    "conf/base/catalog.yml": "companies:\n  type: pandas.CSVDataset\n  filepath: data/01_raw/companies.csv\n",
    "conf/base/parameters.yml": `model_options:
  test_size: 0.25
  random_state: 3
  features: [engines, passenger_capacity, company_rating, iata_approved]
`,
    "conf/aws/catalog.yml": catalog(bucket),
    "conf/local/.gitkeep": "",
  });
  return {
    dir: root,
    package: pkg,
    bucket,
    rawData: rawData(),
    inMemory: ["X_test", "X_train", "capacity_by_type", "y_test", "y_train"],
  };
}
