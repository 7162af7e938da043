/**
 * `data-location` end to end, through the project's own image: the action (`node
 * dist/index.js` with INPUT_*) builds with the docker builder, deploys to moto and runs
 * the pipeline on the local Lambda that runs the pushed image. The project is modelled on
 * the spaceflights-pandas starter and its conf/aws has no entry for any intermediate:
 * the handler's run store carries X_train, X_test, y_train, y_test and a reporting table,
 * at the folders the plan listed. Needs root, the Docker engine, buildah, docker-registry
 * and dist/ built (slow: about 5 minutes).
 */
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Finding } from "../src/graph/preflight.js";
import { writeFlightsProject, type FlightsProject } from "./harness/flightsProject.js";
import { PYTHON } from "./harness/python.js";
import {
  BASE_IMAGE,
  ensureBaseImage,
  readObject,
  startRunnerStack,
  runBundledAction,
  type ActionRun,
  type RunnerStack,
} from "./harness/runnerStack.js";

const scratch = mkdtempSync(join(tmpdir(), "kedro-sfn-data-location-"));
const RUNS = "kedro-sfn-runs";
const LOCATION = `s3://${RUNS}/team/runs`;

let stack: RunnerStack;
let dockerHost: string;

beforeAll(async () => {
  dockerHost = ensureBaseImage();
  stack = await startRunnerStack();
}, 900_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function runAction(project: FlightsProject, name: string, extra: Record<string, string> = {}): ActionRun {
  const inputs: Record<string, string> = {
    "project-path": project.dir,
    python: PYTHON,
    mode: "deploy",
    "state-machine-name": name,
    "ecr-repository": "flights",
    registry: stack.registry,
    "base-image": BASE_IMAGE,
    "lambda-role-arn": stack.roles.lambda,
    "state-machine-role-arn": stack.roles.stateMachine,
    "start-execution": "true",
    "execution-timeout-minutes": "15",
    "data-location": LOCATION,
    "summary-file": join(scratch, `${name}-summary.md`),
    ...extra,
  };
  return runBundledAction(stack, inputs, {
    dockerHost,
    outputFile: join(scratch, `${name}-outputs.txt`),
    sha: "b".repeat(40),
  });
}

async function keysUnder(bucket: string, prefix: string): Promise<string[]> {
  const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key ?? "").sort();
}

describe("data-location through the image (docker builder, local Lambda on the image)", () => {
  let project: FlightsProject;

  beforeAll(async () => {
    const kedro = execFileSync(PYTHON, ["-c", "import kedro; print(kedro.__version__)"], {
      encoding: "utf8",
    }).trim();
    project = writeFlightsProject(join(scratch, "flights"), kedro);
    for (const bucket of [project.bucket, RUNS])
      await stack.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const [key, body] of Object.entries(project.rawData))
      await stack.s3.send(new PutObjectCommand({ Bucket: project.bucket, Key: key, Body: body }));
  });

  test("a spaceflights-pandas-like project runs with its intermediates in the run store, where the plan said", async () => {
    const run = runAction(project, "flights");
    // The log's tail in the failure message: the diff of a matcher would hide it.
    if (run.status !== 0) throw new Error(`the action exited ${run.status}:\n${run.log.slice(-6000)}`);
    expect(run.outputs["execution-status"]).toBe("SUCCEEDED");
    expect(run.log).toContain("Added cloudpickle: input 'data-location'");

    // The plan: one info finding per crossing in-memory dataset, with its folder.
    const findings = JSON.parse(run.outputs["findings"] ?? "[]") as Finding[];
    expect(findings.filter((f) => f.severity === "error")).toEqual([]);
    const planned = findings.filter((f) => f.code === "run-store");
    expect(planned.map((f) => f.dataset).sort()).toEqual(project.inMemory);
    const summary = readFileSync(join(scratch, "flights-summary.md"), "utf8");
    for (const f of planned) expect(summary).toContain(f.location ?? "?");

    // The objects are where the plan said, under the execution's name.
    const execution = (run.outputs["execution-arn"] ?? "").split(":").pop() ?? "?";
    const keys = await keysUnder(RUNS, `team/runs/flights/${execution}/`);
    for (const f of planned) {
      const folder = (f.location ?? "?").replace("<run id>", execution).replace(`s3://${RUNS}/`, "");
      expect(keys).toContain(`${folder}kedro-sfn.json`);
      expect(keys.some((k) => k.startsWith(`${folder}data.`))).toBe(true);
    }
    expect(keys).toContain(`team/runs/flights/${execution}/X_train/data.parquet`);
    expect(keys).toContain(`team/runs/flights/${execution}/y_train/data.pkl`);

    // The consumers got the data: the model was evaluated and the report and plot written.
    const metrics = JSON.parse(
      (await readObject(stack, project.bucket, "flights/08_reporting/metrics.json")) ?? "{}",
    ) as { test_rows?: number; r2_score?: number };
    expect(metrics.test_rows).toBe(10);
    expect(typeof metrics.r2_score).toBe("number");
    const report = JSON.parse(
      (await readObject(stack, project.bucket, "flights/08_reporting/capacity_report.json")) ?? "{}",
    ) as Record<string, number>;
    expect(Object.keys(report).sort()).toEqual(["Type A", "Type B", "Type C"]);
    expect(await keysUnder(project.bucket, "flights/08_reporting/capacity_plot.png")).toHaveLength(1);
  }, 1_500_000);

  test("a generator output that crosses Lambdas fails its producer with the dataset, its type and both ways out", () => {
    // Same project and image (content hash unchanged); only the deployed pipeline differs.
    const run = runAction(project, "flights-broken", { pipeline: "broken" });
    expect(run.status).toBe(1);
    const statuses = JSON.parse(run.outputs["node-statuses"] ?? "[]") as {
      node: string;
      status: string;
      error: { type: string; message: string } | null;
    }[];
    const failed = statuses.find((n) => n.node === "stream_rows_node");
    if (failed?.status !== "failed")
      throw new Error(`stream_rows_node did not fail:\n${run.log.slice(-6000)}`);
    expect(failed?.error?.type).toBe("DatasetNotSerialisable");
    const message = failed?.error?.message ?? "";
    expect(message).toContain(
      "Dataset 'company_rows' (written by node 'stream_rows_node', read by 'count_rows_node' in another Lambda) holds builtins.generator",
    );
    expect(message).toContain("cannot pickle 'generator' object");
    expect(message).toContain("conf/aws/catalog.yml");
    expect(message).toContain("`group-by: memory` (CLI: --group-by memory)");
    expect(statuses.find((n) => n.node === "count_rows_node")?.status).not.toBe("succeeded");
  }, 1_500_000);
});
