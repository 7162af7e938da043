import { describe, expect, it } from "@jest/globals";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserError } from "../src/errors.js";
import { runJob } from "../src/job.js";
import { inspectProject } from "../src/kedro/inspect.js";
import { parseOptions } from "../src/options.js";
import { copyExample, EXAMPLE, makeProject, PYTHON, PYTHON_019 } from "./harness/python.js";
import { recordingIO } from "./harness/jobIO.js";

const base = { pipeline: "__default__", kedroEnv: "aws", python: PYTHON };

describe("inspectProject on the spaceflights example (real Kedro)", () => {
  it("returns the six tutorial nodes with their edges and dataset types", async () => {
    const graph = await inspectProject({ ...base, projectPath: EXAMPLE });
    expect(graph.project?.package).toBe("spaceflights");
    expect(graph.nodes.map((n) => n.name)).toEqual([
      "data_processing.preprocess_companies_node",
      "data_processing.preprocess_shuttles_node",
      "data_processing.create_model_input_table_node",
      "data_science.split_data_node",
      "data_science.train_model_node",
      "data_science.evaluate_model_node",
    ]);
    const train = graph.nodes.find((n) => n.name === "data_science.train_model_node");
    expect(train?.namespace).toBe("data_science");
    expect(graph.datasets?.["companies"]).toEqual({
      type: "pandas.CSVDataset",
      ephemeral: false,
      storage: "s3",
    });
    expect(graph.datasets?.["regressor"]).toEqual({
      type: "pickle.PickleDataset",
      ephemeral: false,
      storage: "s3",
    });
    expect(Object.values(graph.datasets ?? {}).every((d) => !d.ephemeral)).toBe(true);
  });

  it("plan mode fails naming a dataset whose S3 entry was removed from conf/aws", async () => {
    const project = copyExample();
    const catalog = join(project, "conf/aws/catalog.yml");
    writeFileSync(catalog, readFileSync(catalog, "utf8").replace(/\nmodel_input_table:\n( {2}.*\n)+/, "\n"));
    const io = recordingIO();
    const options = parseOptions(
      (name) => ({ "project-path": project, python: PYTHON, mode: "plan" })[name as string] ?? "",
    );
    const result = await runJob({ ...options, stateMachineName: "spaceflights" }, io);
    expect(result.failure?.reason).toBe("preflight");
    expect(io.errors).toHaveLength(1);
    expect(io.errors[0]?.message).toMatch(
      /'model_input_table'.*written by 'data_processing.create_model_input_table_node'/s,
    );
    // The fix keeps the entry's type and file name; only the path moves under the env's S3 root.
    expect(io.errors[0]?.message).toContain(
      "model_input_table:\n  type: pandas.ParquetDataset\n  filepath: s3://kedro-sfn-spaceflights/spaceflights/03_primary/model_input_table.parquet",
    );
    expect(io.errors[0]?.file).toBe(join(project, "conf", "aws", "catalog.yml"));
    expect(result.summary).toContain("model_input_table");
  });
});

describe("inspectProject errors are clear UserErrors", () => {
  const inspectError = async (over: Partial<typeof base> & { projectPath: string }): Promise<UserError> => {
    try {
      await inspectProject({ ...base, ...over });
    } catch (error) {
      if (error instanceof UserError) return error;
      throw error;
    }
    throw new Error("inspect did not fail");
  };

  it("names a project path that is not a folder", async () => {
    const e = await inspectError({ projectPath: "/nonexistent/project" });
    expect(e.message).toMatch(/Input 'project-path': '\/nonexistent\/project' is not a folder/);
  });

  it("says when a folder is not a Kedro project", async () => {
    const e = await inspectError({ projectPath: mkdtempSync(join(tmpdir(), "not-kedro-")) });
    expect(e.message).toMatch(/pyproject\.toml|Kedro project/);
  });

  it("names a missing interpreter", async () => {
    const e = await inspectError({ projectPath: EXAMPLE, python: "/no/such/python3" });
    expect(e.message).toMatch(/Input 'python': the interpreter '\/no\/such\/python3' was not found/);
  });

  it("names the interpreter that lacks Kedro and how to install it", async () => {
    const venv = join(mkdtempSync(join(tmpdir(), "bare-venv-")), "v");
    execFileSync(PYTHON, ["-m", "venv", "--without-pip", venv]);
    const bare = join(venv, "bin", "python");
    const e = await inspectError({ projectPath: EXAMPLE, python: bare });
    expect(e.message).toContain(bare);
    expect(`${e.message}\n${e.hint}`).toMatch(/pip install/);
  });

  it("lists the known pipelines for an unknown one", async () => {
    const e = await inspectError({ projectPath: EXAMPLE, pipeline: "nope" });
    expect(e.message).toMatch(/nope/);
    expect(e.message).toMatch(/data_processing/);
  });

  it("lists the envs when the env folder is missing", async () => {
    const e = await inspectError({ projectPath: EXAMPLE, kedroEnv: "prod" });
    expect(e.message).toMatch(/prod/);
    expect(`${e.message} ${e.hint}`).toMatch(/aws/);
  });

  it("shows the project's own import error with its file", async () => {
    const e = await inspectError({ projectPath: makeProject("broken_import") });
    expect(e.message).toMatch(/ZeroDivisionError/);
    expect(e.file).toMatch(/broken\.py$/);
  });

  it("names a cycle", async () => {
    const e = await inspectError({ projectPath: makeProject("cycle") });
    expect(e.message).toMatch(/circular|cycle/i);
  });
});

describe("both Kedro lines", () => {
  it.each([
    ["1.x", PYTHON],
    ["0.19", PYTHON_019],
  ])("Kedro %s resolves factory patterns and the catch-all", async (_line, python) => {
    for (const kind of ["factories", "catchall", "namespaces", "long_names"]) {
      const graph = await inspectProject({ ...base, python, projectPath: makeProject(kind, python) });
      expect(graph.nodes.length).toBeGreaterThan(0);
      for (const node of graph.nodes) {
        for (const d of [...node.inputs, ...node.outputs]) {
          if (d === "parameters" || d.startsWith("params:")) continue;
          expect(graph.datasets?.[d]?.type).toEqual(expect.any(String));
        }
      }
      if (kind === "catchall") {
        expect(Object.values(graph.datasets ?? {}).every((d) => !d.ephemeral)).toBe(true);
      }
    }
  });
});

describe("what the inspector is unsure of reaches the step", () => {
  it.each([
    ["1.x", PYTHON],
    ["0.19", PYTHON_019],
  ])("Kedro %s: a pipeline module that raises on import is named with its error", async (_line, python) => {
    const graph = await inspectProject({
      ...base,
      python,
      projectPath: makeProject("skipped_pipeline", python),
    });
    expect(graph.nodes.map((n) => n.name)).toEqual(["copy"]);
    expect(graph.pipeline_import_errors).toEqual([
      { module: "demo_skipped_pipeline.pipelines.broken", error: "ZeroDivisionError: division by zero" },
    ]);
  });

  it("a dataset class that does not import is a warning in the log and the summary", async () => {
    const project = makeProject("catchall");
    writeFileSync(
      join(project, "conf", "aws", "catalog.yml"),
      "raw:\n  type: json.JSONDataset\n  filepath: s3://b/raw.json\n" +
        '"{name}":\n  type: fancy_plugin.FancyDataset\n  filepath: s3://b/{name}.bin\n',
    );
    const warnings: string[] = [];
    const io = { ...recordingIO(), warning: (m: string) => void warnings.push(m) };
    const options = parseOptions(
      (name) => ({ "project-path": project, python: PYTHON, mode: "plan" })[name as string] ?? "",
    );
    const result = await runJob({ ...options, stateMachineName: "catchall" }, io);
    const warning = warnings.find((w) => w.includes("fancy_plugin.FancyDataset"));
    expect(warning).toMatch(/^Inspecting the project: /);
    expect(result.warnings).toContain(warning);
    expect(result.summary).toMatch(/\*\*Warnings \(\d+\)\*\*[\s\S]*fancy\\_plugin\.FancyDataset/);
  });
});
