import { describe, expect, it } from "@jest/globals";
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { preflight, type Finding } from "../src/graph/preflight.js";
import { encodeKey, runStoreFolder } from "../src/graph/runStore.js";
import { inspectProject } from "../src/kedro/inspect.js";
import { fixDetails } from "../src/report/preflightMarkdown.js";
import { makeProject, PYTHON, PYTHON_019 } from "./harness/python.js";

/**
 * Real Kedro projects (python/tests/make_project.py kind `localdata`, the catalog of a
 * project run on a laptop): inspect, paste every suggested fix into conf/aws/catalog.yml
 * as the annotation says, inspect again: pre-flight must pass.
 */
async function findingsOf(project: string, python: string, dataLocation?: string): Promise<Finding[]> {
  const graph = await inspectProject({
    projectPath: project,
    pipeline: "__default__",
    kedroEnv: "aws",
    python,
  });
  return preflight(graph, { env: "aws", ...(dataLocation ? { dataLocation } : {}) });
}

function pasteAll(project: string, findings: Finding[]): string[] {
  const pasted = [...new Set(findings.filter((f) => f.severity === "error").map((f) => f.catalogEntry))];
  for (const entry of pasted) appendFileSync(join(project, "conf", "aws", "catalog.yml"), `\n${entry}\n`);
  return pasted;
}

describe.each([
  ["Kedro 1.x", PYTHON],
  ["Kedro 0.19", PYTHON_019],
])("pre-flight fixes that paste (%s)", (_line, python) => {
  it("every local path and in-memory crossing gets a fix; pasting them all passes", async () => {
    const project = makeProject("localdata", python);
    const findings = await findingsOf(project, python);
    expect(findings.map((f) => `${f.dataset}:${f.code}`)).toEqual([
      "companies:local-pipeline-input",
      "features:local-crosses-tasks",
      "mem_mid:ephemeral-crosses-tasks",
      "plots/chart#csv:local-write",
      "reports/monthly#csv:local-crosses-tasks",
      "reports/yearly#csv:local-crosses-tasks",
      "shuttles:local-pipeline-input",
      "summary:local-write",
    ]);
    const byName = new Map(findings.map((f) => [f.dataset, f]));
    const fix = (name: string): Record<string, Record<string, unknown>> =>
      parse(byName.get(name)?.catalogEntry ?? "") as Record<string, Record<string, unknown>>;

    // Type, load_args and file name kept; only the path moves under the env's S3 root.
    expect(fix("companies")).toEqual({
      companies: {
        type: "pandas.CSVDataset",
        filepath: "s3://acme-data/projects/demo/01_raw/companies.csv",
        load_args: { sep: ";", decimal: "," },
      },
    });
    expect(fix("shuttles")["shuttles"]).toMatchObject({
      type: "pandas.ExcelDataset",
      filepath: "s3://acme-data/projects/demo/01_raw/shuttles.xlsx",
      load_args: { engine: "openpyxl", sheet_name: "fleet" },
    });
    // A transcoded pair keeps both spellings, each with its own type.
    expect(fix("features")).toEqual({
      "features@csv": {
        type: "text.TextDataset",
        filepath: "s3://acme-data/projects/demo/04_feature/features.csv",
      },
      "features@pandas": {
        type: "pandas.CSVDataset",
        filepath: "s3://acme-data/projects/demo/04_feature/features.csv",
      },
    });
    // Factory-made datasets: the pattern, edited once, for all three.
    const pattern = {
      "{folder}/{name}#csv": {
        type: "pandas.CSVDataset",
        filepath: "s3://acme-data/projects/demo/08_reporting/{folder}/{name}.csv",
        save_args: { index: false },
      },
    };
    for (const name of ["reports/monthly#csv", "reports/yearly#csv", "plots/chart#csv"]) {
      expect(fix(name)).toEqual(pattern);
      expect(byName.get(name)?.fixKeys).toEqual(["{folder}/{name}#csv"]);
      expect(byName.get(name)?.message).toContain("edit the pattern '{folder}/{name}#csv' once");
    }
    expect(fixDetails(findings).filter((l) => l.includes("08_reporting/{folder}/{name}.csv"))).toHaveLength(
      1,
    );
    // Messages show the resolved path.
    expect(byName.get("plots/chart#csv")?.message).toContain(
      "'plots/chart#csv' resolves to data/08_reporting/plots/chart.csv from pattern '{folder}/{name}#csv'",
    );
    expect(byName.get("summary")?.message).toContain("a Lambda can write only under /tmp");
    expect(byName.get("summary")?.message).toContain("resolves to data/08_reporting/summary.json");
    // Without data-location, the easiest fix is named first, the catalog entry next to it.
    expect(byName.get("mem_mid")?.message).toContain("Easiest fix: set the input 'data-location'");
    expect(fix("mem_mid")).toEqual({
      mem_mid: { type: "pickle.PickleDataset", filepath: "s3://acme-data/projects/demo/mem_mid.pkl" },
    });

    const pasted = pasteAll(project, findings);
    expect(pasted).toHaveLength(6);
    const after = await findingsOf(project, python);
    expect(after).toEqual([]);
    expect(readFileSync(join(project, "conf", "aws", "catalog.yml"), "utf8")).toContain(
      "{folder}/{name}#csv",
    );
  });

  it("with data-location, in-memory crossings are info findings naming their run folder", async () => {
    const project = makeProject("localdata", python);
    const location = "s3://runs-bucket/kedro-sfn/demo-sm";
    const findings = await findingsOf(project, python, location);
    const mem = findings.find((f) => f.dataset === "mem_mid");
    expect(mem).toMatchObject({
      severity: "info",
      code: "run-store",
      location: "s3://runs-bucket/kedro-sfn/demo-sm/<run id>/mem_mid/",
      catalogEntry: "",
    });
    expect(mem?.message).toContain(
      "each run keeps it at s3://runs-bucket/kedro-sfn/demo-sm/<run id>/mem_mid/",
    );
    // Local paths still need their fix: data-location holds only what the catalog keeps in memory.
    expect(findings.filter((f) => f.severity === "error")).toHaveLength(7);
  });
});

describe("run store keys", () => {
  it("encode like kedro_sfn.runstore: safe characters kept, others ~XX per UTF-8 byte", () => {
    expect(encodeKey("data_science.X_train")).toBe("data_science.X_train");
    expect(encodeKey("reports/monthly#csv")).toBe("reports~2Fmonthly~23csv");
    expect(encodeKey("größe")).toBe("gr~C3~B6~C3~9Fe");
    expect(encodeKey("..")).toBe("~2E~2E");
    expect(runStoreFolder("s3://b/p/sm", "x@pandas", "exec 1")).toBe("s3://b/p/sm/exec~201/x/");
  });
});
