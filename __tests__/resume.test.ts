/**
 * Resume against the local stack: moto server runs the compiled state machine, and the local
 * Lambda front in host mode (scripts/lambda_front.py) answers every invoke by running the real
 * handler (`python -m kedro_sfn.handler`) on a real Kedro project: no image is built. One node
 * fails while a flag file exists; the flag is removed ("the fix"), the failed execution is
 * resumed, and the test checks from the node functions' own log and the resumed execution's
 * history that only the failed node and its descendants ran, reading the first run's outputs
 * (a versioned dataset and the run store under data-location, on moto's S3).
 */
import { CreateBucketCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import {
  DeleteStateMachineVersionCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
} from "@aws-sdk/client-sfn";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createAwsClients, type AwsClients } from "../src/aws/clients.js";
import { runCli } from "../src/cli/main.js";
import { compilePipeline } from "../src/compile/index.js";
import { UserError } from "../src/errors.js";
import { inspectProject } from "../src/kedro/inspect.js";
import { parseOptions, type Options } from "../src/options.js";
import { runJob, type JobIO } from "../src/job.js";
import { executePipeline, type RunReport } from "../src/run/execute.js";
import { resumeExecution, type ResumeRequest } from "../src/run/resume.js";
import { compileOptionsFrom } from "../src/stages/compileSettings.js";
import { deploy } from "./harness/deploy.js";
import { TEST_CREDENTIALS, useLocalStack } from "./harness/localStack.js";
import { desiredDeployment } from "./harness/pipelines.js";
import { PYTHON, makeProject } from "./harness/python.js";

const NAME = "resumable";
const RUNS_BUCKET = "kedro-sfn-runs";

/** `load` -> `double` -> `flaky` -> `finish`, and `side` beside them; `flaky` fails while broken.flag exists. */
const NODES_PY = `
import json
import uuid
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def _ran(name):
    with open(PROJECT / "ran.log", "a") as log:
        log.write(name + "\\n")


def load(raw):
    _ran("load")
    return {"token": uuid.uuid4().hex, "values": raw}


def double(base):
    _ran("double")
    return [v * 2 for v in base["values"]]


def flaky(doubled, base):
    _ran("flaky")
    if (PROJECT / "broken.flag").exists():
        raise RuntimeError("broken.flag is there: the upstream export is not ready")
    return {"token": base["token"], "sum": sum(doubled)}


def finish(checked):
    _ran("finish")
    return checked


def side(base):
    _ran("side")
    return {"token": base["token"], "count": len(base["values"])}
`;

const REGISTRY_PY = `
from kedro.pipeline import node, pipeline

from .nodes import double, finish, flaky, load, side


def register_pipelines():
    return {"__default__": pipeline([
        node(load, "raw", "base", name="load"),
        node(double, "base", "doubled", name="double"),
        node(flaky, ["doubled", "base"], "checked", name="flaky"),
        node(finish, "checked", "final", name="finish"),
        node(side, "base", "side_out", name="side"),
    ])}
`;

/** \`doubled\` and \`checked\` are in memory: they cross Lambdas through the run store. */
const AWS_CATALOG = `
raw:
  type: json.JSONDataset
  filepath: data/raw.json
base:
  type: json.JSONDataset
  filepath: data/base.json
  versioned: true
final:
  type: json.JSONDataset
  filepath: data/final.json
  versioned: true
side_out:
  type: json.JSONDataset
  filepath: data/side.json
  versioned: true
`;

function writeProject(): string {
  const dir = makeProject("runnable");
  const pkg = join(dir, "src", "demo_runnable");
  writeFileSync(join(pkg, "nodes.py"), NODES_PY);
  writeFileSync(join(pkg, "pipeline_registry.py"), REGISTRY_PY);
  writeFileSync(join(dir, "conf", "aws", "catalog.yml"), AWS_CATALOG);
  return dir;
}

const project = writeProject();
const stack = useLocalStack({ hostLambda: { project, python: PYTHON } });
const flag = join(project, "broken.flag");
const ranLog = join(project, "ran.log");

/**
 * Clients for the test's own setup and checks, outside the recorded calls: the IAM test wants
 * every recorded call documented in the deploy policy, and these are not the product's.
 */
let setupClients: AwsClients | undefined;
async function setup(): Promise<AwsClients> {
  setupClients ??= await createAwsClients({
    region: stack().region,
    endpoint: stack().endpoint,
    credentials: TEST_CREDENTIALS,
    lambdaLimiter: null,
  });
  return setupClients;
}
afterAll(() => setupClients?.destroy());

function ran(): string[] {
  return existsSync(ranLog) ? readFileSync(ranLog, "utf8").trim().split("\n").filter(Boolean) : [];
}

function options(): Options {
  const inputs: Record<string, string> = {
    "project-path": project,
    python: PYTHON,
    "state-machine-name": NAME,
    "data-location": `s3://${RUNS_BUCKET}/team`,
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

function request(executionArn: string, over: Partial<ResumeRequest> = {}): ResumeRequest {
  return {
    executionArn,
    inputName: "resume-execution",
    stateMachineName: NAME,
    wait: true,
    timeoutMs: 300_000,
    failOnExecutionFailure: true,
    ...over,
  };
}

/** Deploys the project's compiled machine (functions on a stand-in image: the host front runs the handler). */
async function deployProject(
  clients: AwsClients,
  memoryMb?: number,
): Promise<{ versionArn: string; tasks: { stateName: string; functionName: string; nodes: string[] }[] }> {
  const opts = options();
  const graph = await inspectProject(opts);
  const compiled = compilePipeline(graph, compileOptionsFrom(opts, project, graph));
  // The handler runs on this host: s3fs must reach moto's S3 for the run store.
  for (const fn of compiled.functions) {
    if (memoryMb !== undefined) fn.memoryMb = memoryMb;
    Object.assign(fn.environment, {
      AWS_ENDPOINT_URL: stack().motoEndpoint,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_DEFAULT_REGION: stack().region,
    });
  }
  const imageUri = await stack().putImage(NAME, "resume-test");
  const desired = desiredDeployment({
    stateMachineName: NAME,
    compiled,
    imageUri,
    lambdaRoleArn: stack().roles.lambda,
    stateMachineRoleArn: stack().roles.stateMachine,
  });
  const { result } = await deploy(clients, desired);
  if (!result.stateMachineVersionArn) throw new Error("the deploy published no version");
  return { versionArn: result.stateMachineVersionArn, tasks: compiled.functions };
}

describe("resume a failed execution (moto + the real handler on the host)", () => {
  let clients: AwsClients;

  beforeEach(async () => {
    clients = await stack().clients();
    await (await setup()).s3.send(new CreateBucketCommand({ Bucket: RUNS_BUCKET }));
    rmSync(ranLog, { force: true });
    rmSync(join(project, "data", "base.json"), { recursive: true, force: true });
    rmSync(join(project, "data", "final.json"), { recursive: true, force: true });
    rmSync(join(project, "data", "side.json"), { recursive: true, force: true });
  });

  test("only the failed node and its descendants run, reading what the first run saved", async () => {
    const { versionArn, tasks } = await deployProject(clients);
    writeFileSync(flag, "");
    const first = await executePipeline(
      clients.sfn,
      {
        stateMachineArn: versionArn,
        name: "2026-12-02T04.00.00.000Z-first",
        input: '{"params": {}}',
        wait: true,
        timeoutMs: 300_000,
        tasks,
        failOnExecutionFailure: true,
      },
      deps,
    );
    expect(first.status).toBe("FAILED");
    const statusOf = (nodes: typeof first.nodes): Record<string, string> =>
      Object.fromEntries(nodes.map((n) => [n.node, n.status]));
    expect(statusOf(first.nodes)).toMatchObject({
      load: "succeeded",
      double: "succeeded",
      flaky: "failed",
      finish: "not-started",
    });
    const firstRan = ran();
    expect(firstRan).not.toContain("finish");
    expect(firstRan.filter((n) => n === "flaky")).toHaveLength(1);
    // `side` ran beside `flaky` (it succeeded, or was cut short when flaky failed): the resume skips it only if it succeeded.
    const sideSucceeded = statusOf(first.nodes)["side"] === "succeeded";

    rmSync(flag); // the fix
    rmSync(ranLog);
    // Through the action: `resume-execution` with `state-machine-name`, nothing inspected or deployed.
    useStackEnv();
    const outputs = new Map<string, string>();
    const job = await runJob(
      { ...options(), mode: "deploy", resumeExecution: first.executionArn },
      quietIO(outputs),
      {
        GITHUB_EVENT_NAME: "workflow_dispatch",
      },
    );
    expect(job.failure).toBeUndefined();
    expect(job.timings.map(([stage]) => stage)).toEqual(["resume"]);
    expect(outputs.get("execution-status")).toBe("SUCCEEDED");
    const run = job.run as RunReport;
    expect(run.status).toBe("SUCCEEDED");
    expect(run.failure).toBeNull();

    // What the node functions ran: the failed node and its descendant, plus `side` only when it had not succeeded.
    expect(ran().sort()).toEqual(["finish", "flaky", ...(sideSucceeded ? [] : ["side"])].sort());
    // What the resumed execution's history says, per node (the handler answered "skipped").
    const resumed = statusOf(run.nodes);
    expect(resumed).toMatchObject({
      load: "skipped",
      double: "skipped",
      flaky: "succeeded",
      finish: "succeeded",
    });
    expect(resumed["side"]).toBe(sideSucceeded ? "skipped" : "succeeded");
    for (const n of run.nodes.filter((x) => x.status === "skipped"))
      expect(n.skippedFrom).toBe(first.executionArn);
    expect(run.resumedFrom).toMatchObject({ executionArn: first.executionArn, runId: first.name });
    expect(run.resumedFrom?.rerun).toEqual(expect.arrayContaining(["flaky", "finish"]));

    // Same version of the state machine as the failed execution.
    const described = await (
      await setup()
    ).sfn.send(new DescribeExecutionCommand({ executionArn: run.executionArn }));
    expect(described.stateMachineVersionArn).toBe(versionArn);
    // The Lambda invokes moto made for the resumed execution: every Task was invoked, the skipped ones answered at once.
    const history = await (
      await setup()
    ).sfn.send(
      new GetExecutionHistoryCommand({
        executionArn: run.executionArn,
        includeExecutionData: true,
        maxResults: 1000,
      }),
    );
    const skippedPayloads = (history.events ?? [])
      .filter((e) => e.type === "TaskSucceeded")
      .map(
        (e) => JSON.parse(e.taskSucceededEventDetails?.output ?? "{}") as { Payload?: { skipped?: unknown } },
      )
      .filter((o) => o.Payload?.skipped);
    expect(skippedPayloads.length).toBe(sideSucceeded ? 3 : 2);

    // The resumed nodes read the first run's outputs: the token `load` made in the first run
    // reached `final` through `flaky` (versioned `base` and the run store's `doubled`).
    const version = "2026-12-02T04.00.00.000Z";
    const base = JSON.parse(
      readFileSync(join(project, "data", "base.json", version, "base.json"), "utf8"),
    ) as { token: string };
    const final = JSON.parse(
      readFileSync(join(project, "data", "final.json", version, "final.json"), "utf8"),
    ) as { token: string; sum: number };
    expect(final).toEqual({ token: base.token, sum: 12 });
    const stored = await (
      await setup()
    ).s3.send(new ListObjectsV2Command({ Bucket: RUNS_BUCKET, Prefix: `team/${NAME}/${first.name}/` }));
    expect((stored.Contents ?? []).map((o) => o.Key).sort()).toEqual([
      `team/${NAME}/${first.name}/checked/data.pkl`,
      `team/${NAME}/${first.name}/checked/kedro-sfn.json`,
      `team/${NAME}/${first.name}/doubled/data.pkl`,
      `team/${NAME}/${first.name}/doubled/kedro-sfn.json`,
    ]);

    // The summary says what was skipped and why, and links the first execution.
    const summary = job.summary;
    expect(summary).toContain(`**Resumes** <a href="${run.resumedFrom?.consoleUrl ?? ""}">${first.name}</a>`);
    expect(summary).toContain("skipped because they succeeded there");
    expect(summary).toContain("⏭️");

    // Resuming what succeeded is refused, and starts nothing.
    await expect(resumeExecution(clients.sfn, request(run.executionArn), deps)).rejects.toThrow(
      /succeeded, so there is nothing to resume/,
    );
    await expect(
      resumeExecution(clients.sfn, request(first.executionArn, { stateMachineName: "other" }), deps),
    ).rejects.toThrow(/is an execution of state machine 'resumable', not of 'other'/);
  }, 600_000);
});

describe("a resume's bad input: a UserError naming the input, and nothing started", () => {
  async function executions(): Promise<number> {
    const { stateMachines } = await (await setup()).sfn.send(new ListStateMachinesCommand({}));
    let count = 0;
    for (const machine of stateMachines ?? []) {
      const listed = await (
        await setup()
      ).sfn.send(new ListExecutionsCommand({ stateMachineArn: machine.stateMachineArn }));
      count += listed.executions?.length ?? 0;
    }
    return count;
  }

  async function refused(clients: AwsClients, req: ResumeRequest, message: RegExp): Promise<void> {
    const before = await executions();
    const error = await resumeExecution(clients.sfn, req, deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain("'resume-execution'");
    expect(await executions()).toBe(before);
  }

  test("a malformed ARN, an execution that does not exist, one still running, one whose version is gone", async () => {
    const clients = await stack().clients();
    await (await setup()).s3.send(new CreateBucketCommand({ Bucket: RUNS_BUCKET }));
    await refused(
      clients,
      request("arn:aws:states:us-east-1:123456789012:stateMachine:x"),
      /is not a Step Functions execution ARN/,
    );
    const prefix = `arn:aws:states:${stack().region}:${stack().accountId}:execution:${NAME}`;
    await refused(clients, request(`${prefix}:nope`), /no execution/);
    // The command line names its own flag; exit code 2 is "fix your input".
    useStackEnv();
    const cli = await runCliCaptured(["resume", "--execution", `${prefix}:nope`, "--state-machine", NAME]);
    expect(cli.code).toBe(2);
    expect(cli.err).toContain(`error: Input '--execution': no execution ${prefix}:nope`);
    expect((await runCliCaptured(["resume", "--execution", "run-1"])).err).toContain(
      "Input '--execution' is not a Step Functions execution ARN: 'run-1'",
    );
    // Plan mode never starts anything.
    const planned = await runJob(
      { ...options(), mode: "plan", resumeExecution: `${prefix}:nope` },
      quietIO(new Map()),
      { GITHUB_EVENT_NAME: "workflow_dispatch" },
    );
    expect(planned.failure?.message).toContain(
      "Input 'resume-execution' starts an execution, which plan mode never does.",
    );

    const { versionArn, tasks } = await deployProject(clients);
    writeFileSync(flag, "");
    const started = await executePipeline(
      clients.sfn,
      {
        stateMachineArn: versionArn,
        name: "running-one",
        input: "{}",
        wait: false,
        timeoutMs: 1,
        tasks,
        failOnExecutionFailure: true,
      },
      deps,
    );
    await refused(clients, request(started.executionArn), /is still RUNNING/);
    // Let it fail, then make its version go: a second deploy publishes another, the first is deleted.
    await waitForEnd(clients, started.executionArn);
    await deployProject(clients, 2048);
    await (
      await setup()
    ).sfn.send(new DeleteStateMachineVersionCommand({ stateMachineVersionArn: versionArn }));
    await refused(
      clients,
      request(started.executionArn),
      /the state machine version the execution ran, .* no longer exists/,
    );
    rmSync(flag);
  }, 300_000);

  test("an execution of a definition an older kedro-sfn deployed (no run context in its Tasks)", async () => {
    const clients = await stack().clients();
    const imageUri = await stack().putImage(NAME, "old-shape");
    // The harness's hand-made definition passes run_id from $$.Execution.Name, as kedro-sfn did before resume.
    const desired = desiredDeployment({
      stateMachineName: NAME,
      nodes: ["load", "not_a_node"],
      imageUri,
      lambdaRoleArn: stack().roles.lambda,
      stateMachineRoleArn: stack().roles.stateMachine,
    });
    const { result } = await deploy(clients, desired);
    const failed = await executePipeline(
      clients.sfn,
      {
        stateMachineArn: result.stateMachineVersionArn ?? "",
        name: "old-shape",
        input: "{}",
        wait: true,
        timeoutMs: 120_000,
        tasks: desired.compiled.functions,
        failOnExecutionFailure: false,
      },
      deps,
    );
    expect(failed.status).toBe("FAILED");
    await refused(clients, request(failed.executionArn), /deployed by an older kedro-sfn/);
  }, 300_000);
});

/** The SDK's own endpoint resolution finds the stack (as configure-aws-credentials would set it). */
function useStackEnv(): void {
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: stack().endpoint,
    AWS_REGION: stack().region,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
  });
}

function quietIO(outputs: Map<string, string>): JobIO {
  return {
    info: () => undefined,
    debug: () => undefined,
    warning: () => undefined,
    error: () => undefined,
    group: (_name, work) => work(),
    setOutput: (name, value) => outputs.set(name, value),
    setSecret: () => undefined,
  };
}

async function runCliCaptured(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const chunks = { out: [] as string[], err: [] as string[] };
  const sink = (into: string[]): Writable =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        into.push(chunk.toString());
        done();
      },
    });
  const code = await runCli(
    args,
    sink(chunks.out) as unknown as typeof process.stdout,
    sink(chunks.err) as unknown as typeof process.stderr,
  );
  return { code, out: chunks.out.join(""), err: chunks.err.join("") };
}

async function waitForEnd(clients: AwsClients, executionArn: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const { status } = await (await setup()).sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (status !== "RUNNING") return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${executionArn} did not end`);
}
