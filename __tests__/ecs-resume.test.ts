/**
 * ECS Tasks in `kedro-sfn run --state-machine` and in a resume, against the local stack: moto
 * runs the deployed state machine, the local ECS front (scripts/ecs_front.py, host mode) runs
 * each `ecs:runTask.sync` Task as `python -m kedro_sfn.ecs_entry` on a real Kedro project, and
 * the Lambda front runs the Lambda Task with the real handler. `load` and `flaky` run on ECS,
 * `finish` on Lambda; `flaky` fails while broken.flag exists.
 *
 * The run reads its Tasks from the deployed definition only (no project): the ECS Tasks are
 * listed with their nodes, and the failed one reports the node's own error from its task's log.
 * The resume skips the ECS Task that succeeded (its container answers "skipped" without running
 * the node) and the report says "skipped", read from the resumed execution's run context.
 */
import { ListExecutionsCommand } from "@aws-sdk/client-sfn";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AwsClients } from "../src/aws/clients.js";
import { compilePipeline } from "../src/compile/index.js";
import { inspectProject } from "../src/kedro/inspect.js";
import { parseOptions, type Options } from "../src/options.js";
import { runJob } from "../src/job.js";
import type { RunReport } from "../src/run/execute.js";
import { runCommand } from "../src/stages/runDeployed.js";
import { compileOptionsFrom } from "../src/stages/compileSettings.js";
import { deploy } from "./harness/deploy.js";
import { recordingIO } from "./harness/jobIO.js";
import { useLocalStack } from "./harness/localStack.js";
import { desiredDeployment } from "./harness/pipelines.js";
import { PYTHON, makeProject } from "./harness/python.js";

const NAME = "ecsresume";
const FAMILY = `${NAME}-ecs`;

const NODES_PY = `
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def _ran(name):
    with open(PROJECT / "ran.log", "a") as log:
        log.write(name + "\\n")


def load(raw):
    _ran("load")
    return {"values": raw}


def flaky(base):
    _ran("flaky")
    if (PROJECT / "broken.flag").exists():
        raise RuntimeError("broken.flag is there: the upstream export is not ready")
    return {"sum": sum(base["values"])}


def finish(checked):
    _ran("finish")
    return checked
`;

const REGISTRY_PY = `
from kedro.pipeline import node, pipeline

from .nodes import finish, flaky, load


def register_pipelines():
    return {"__default__": pipeline([
        node(load, "raw", "base", name="load"),
        node(flaky, "base", "checked", name="flaky"),
        node(finish, "checked", "final", name="finish"),
    ])}
`;

/** Every dataset a file of the project: the host runners share the folder, no run store needed. */
const AWS_CATALOG = ["raw", "base", "checked", "final"]
  .map((name) => `${name}:\n  type: json.JSONDataset\n  filepath: data/${name}.json\n`)
  .join("");

const SFN_YML = `functions:
  overrides:
    - node: load
      runner: ecs
    - node: flaky
      runner: ecs
`;

function writeProject(): string {
  const dir = makeProject("runnable");
  const pkg = join(dir, "src", "demo_runnable");
  writeFileSync(join(pkg, "nodes.py"), NODES_PY);
  writeFileSync(join(pkg, "pipeline_registry.py"), REGISTRY_PY);
  writeFileSync(join(dir, "conf", "aws", "catalog.yml"), AWS_CATALOG);
  writeFileSync(join(dir, "conf", "aws", "sfn.yml"), SFN_YML);
  return dir;
}

const project = writeProject();
const stack = useLocalStack({ hostLambda: { project, python: PYTHON } });
const flag = join(project, "broken.flag");
const ranLog = join(project, "ran.log");

function ran(): string[] {
  return existsSync(ranLog) ? readFileSync(ranLog, "utf8").trim().split("\n").filter(Boolean) : [];
}

function options(): Options {
  const inputs: Record<string, string> = {
    "project-path": project,
    python: PYTHON,
    "state-machine-name": NAME,
    "ecs-cluster": "kedro",
    "ecs-subnets": "subnet-0123456789abcdef0",
    "ecs-task-role-arn": stack().roles.lambda,
    "ecs-execution-role-arn": stack().roles.lambda,
  };
  return parseOptions((name) => inputs[name] ?? "");
}

const deps = {
  log: () => undefined,
  warn: () => undefined,
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  now: Date.now,
  pollMs: 200,
  maxPollMs: 500,
};

async function deployProject(clients: AwsClients): Promise<void> {
  const opts = options();
  const graph = await inspectProject(opts);
  const compiled = compilePipeline(graph, compileOptionsFrom(opts, project, graph));
  expect(compiled.ecsTasks?.map((t) => t.nodes)).toEqual([["flaky"], ["load"]]);
  const desired = desiredDeployment({
    stateMachineName: NAME,
    compiled,
    imageUri: await stack().putImage(NAME, "ecs-resume"),
    lambdaRoleArn: stack().roles.lambda,
    stateMachineRoleArn: stack().roles.stateMachine,
  });
  await deploy(clients, {
    ...desired,
    ecs: { executionRoleArn: stack().roles.lambda, taskRoleArn: stack().roles.lambda },
  });
}

/** The CLI table's row of one node, split on its padding. */
function row(table: string, node: string): string[] {
  const line = table.split("\n").find((l) => l.split(/\s{2,}/)[1] === node);
  if (!line) throw new Error(`no row for ${node} in:\n${table}`);
  return line.split(/\s{2,}/);
}

describe("ECS Tasks in run and resume reports (moto + the local ECS front on the host)", () => {
  test("run --state-machine lists and reports them; a resume shows the ECS Task it skipped as skipped", async () => {
    const clients = await stack().clients();
    await deployProject(clients);
    writeFileSync(flag, "");
    rmSync(ranLog, { force: true });

    // `kedro-sfn run --state-machine NAME`: the Tasks come from the deployed definition.
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCommand(options(), {
      sfn: clients.sfn,
      logs: clients.logs,
      out: (text) => out.push(text),
      err: (line) => err.push(line),
      sleep: deps.sleep,
      now: Date.now,
      env: {},
    });
    const table = out.join("");
    expect(code).toBe(1);
    expect(row(table, "load").slice(0, 2)).toEqual(["succeeded", "load"]);
    expect(row(table, "load")).toContain(FAMILY);
    expect(row(table, "flaky").slice(0, 2)).toEqual(["failed", "flaky"]);
    // The node's own error, read from the end of the ECS task's log (not only its exit code).
    expect(row(table, "flaky").at(-1)).toBe(
      "RuntimeError: Kedro node 'flaky' failed: broken.flag is there: the upstream export is not ready",
    );
    expect(row(table, "finish").slice(0, 2)).toEqual(["not started", "finish"]);
    expect(err.join("\n")).toContain("error: ");
    expect(ran()).toEqual(["load", "flaky"]);

    const { executions } = await clients.sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: `arn:aws:states:${stack().region}:${stack().accountId}:stateMachine:${NAME}`,
      }),
    );
    const failedArn = executions?.[0]?.executionArn ?? "";
    expect(executions?.[0]?.status).toBe("FAILED");

    // The fix, then the resume: `load` (ECS) is skipped, `flaky` (ECS) and `finish` (Lambda) run.
    rmSync(flag);
    rmSync(ranLog);
    // Through the action (`resume-execution`): the resume stage, its outputs and its summary.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: stack().endpoint,
      AWS_REGION: stack().region,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
    });
    const recorded = recordingIO();
    const job = await runJob({ ...options(), mode: "deploy", resumeExecution: failedArn }, recorded, {
      GITHUB_EVENT_NAME: "workflow_dispatch",
    });
    expect(job.failure).toBeUndefined();
    const run = job.run as RunReport;
    expect(run.status).toBe("SUCCEEDED");
    expect(run.resumedFrom?.skipped).toEqual(["load"]);
    const byNode = Object.fromEntries(run.nodes.map((n) => [n.node, n]));
    expect(byNode["load"]).toMatchObject({ status: "skipped", skippedFrom: failedArn, functionName: FAMILY });
    expect(byNode["flaky"]).toMatchObject({ status: "succeeded", functionName: FAMILY });
    expect(byNode["finish"]?.status).toBe("succeeded");
    // The skip was the container's: its task ran (and succeeded) without running the node.
    expect(ran()).toEqual(["flaky", "finish"]);
    expect(byNode["load"]?.startedAt).not.toBeNull();
    const statuses = JSON.parse(recorded.outputs.get("node-statuses") ?? "[]") as {
      node: string;
      status: string;
    }[];
    expect(statuses.map((n) => [n.node, n.status])).toEqual(
      expect.arrayContaining([
        ["load", "skipped"],
        ["flaky", "succeeded"],
        ["finish", "succeeded"],
      ]),
    );
    // The summary's flowchart draws the ECS Tasks (read from the definition) beside the Lambda one.
    const chart = job.summary.slice(job.summary.indexOf("**Pipeline**"));
    for (const node of ["load", "flaky", "finish"]) expect(chart).toContain(node);
    expect(job.summary).toContain("⏭️");
  }, 600_000);
});
