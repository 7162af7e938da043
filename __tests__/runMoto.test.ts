/**
 * The run stage against moto server with real execution: a state machine shaped
 * like the compiled spaceflights pipeline runs, and its real history maps to
 * Kedro nodes. moto comes from the shared harness (scripts/local_stack.py) with
 * MOTO_PORT on a small Lambda front of this file, which answers each invoke the
 * way a test asks (echo, a Python error, a delay), as FACTS.md describes, and
 * forwards every other request to moto.
 *
 * RECORD_HISTORY=1 writes the histories to __tests__/fixtures/history/ for the
 * aws-sdk-client-mock tests.
 */
import { CreateFunctionCommand, LambdaClient } from "@aws-sdk/client-lambda";
import {
  CreateStateMachineCommand,
  GetExecutionHistoryCommand,
  StopExecutionCommand,
  SFNClient,
  type HistoryEvent,
} from "@aws-sdk/client-sfn";
import { mkdirSync, writeFileSync } from "node:fs";
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createAwsClients, type AwsClients } from "../src/aws/clients.js";
import { compilePipeline } from "../src/compile/index.js";
import type { PipelineGraph } from "../src/graph/types.js";
import type { AslDefinition, AslState } from "../src/compile/types.js";
import { parseOptions } from "../src/options.js";
import { renderNodeTableText } from "../src/report/nodeTable.js";
import { renderRunSummary } from "../src/report/summary.js";
import { runCommand } from "../src/stages/runDeployed.js";
import { executePipeline, type RunReport } from "../src/run/execute.js";
import { pipelineTasksFromDefinition, pipelineTasksFromGraph } from "../src/run/tasks.js";
import type { RunTask } from "../src/run/types.js";
import { readSucceededRuns } from "../src/aws/learnedDurations.js";
import { learnedDurationsOf } from "../src/run/durationsLearned.js";
import { deploy, type DeployRun } from "./harness/deploy.js";
import { TEST_CREDENTIALS, useLocalStack } from "./harness/localStack.js";
import { FUNCTION_DEFAULTS, desiredDeployment } from "./harness/pipelines.js";

const FIXTURES = join(process.cwd(), "__tests__", "fixtures", "history");
const RECORD = process.env["RECORD_HISTORY"] === "1";

type Behaviour =
  | { kind: "echo"; delayMs?: number }
  | { kind: "fail"; errorType: string; errorMessage: string; stackTrace?: string[]; delayMs?: number };

/** What each function does on its next invocations (default: echo at once). */
const behaviours = new Map<string, Behaviour[]>();

function nextBehaviour(fn: string): Behaviour {
  const queue = behaviours.get(fn);
  if (queue && queue.length > 1) return queue.shift() as Behaviour;
  return queue?.[0] ?? { kind: "echo" };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const FRONT_PORT = await freePort();
const stack = useLocalStack({ invokePort: FRONT_PORT });
let front: Server | undefined;
let clients: AwsClients;
let sfn: SFNClient;
let setup: { sfn: SFNClient; lambda: LambdaClient } | undefined;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Answers Lambda invokes as the test says; forwards everything else to moto. */
async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? "");
  if (req.method === "POST" && invoke) {
    const raw = decodeURIComponent(invoke[1] as string);
    const fn = raw.startsWith("arn:") ? (raw.split(":")[6] as string) : (raw.split(":")[0] as string);
    const behaviour = nextBehaviour(fn);
    // unref: a call still sleeping when the tests end must not hold jest open.
    if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs).unref());
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      "X-Amz-Executed-Version": "$LATEST",
    };
    let reply: string;
    if (behaviour.kind === "fail") {
      headers["X-Amz-Function-Error"] = "Unhandled";
      reply = JSON.stringify({
        errorMessage: behaviour.errorMessage,
        errorType: behaviour.errorType,
        requestId: "req-0001",
        stackTrace: behaviour.stackTrace ?? [],
      });
    } else {
      const payload = JSON.parse(body.toString() || "{}") as Record<string, unknown>;
      reply = JSON.stringify({ ...payload, log_stream_name: `2026/01/01/[$LATEST]${fn}` });
    }
    res.writeHead(200, { ...headers, "Content-Length": Buffer.byteLength(reply) });
    res.end(reply);
    return;
  }
  const moto = new URL(stack().motoEndpoint);
  const upstream = httpRequest(
    { host: moto.hostname, port: moto.port, path: req.url, method: req.method, headers: req.headers },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  upstream.on("error", () => {
    res.writeHead(502);
    res.end();
  });
  upstream.end(body);
}

beforeAll(async () => {
  front = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => front?.listen(FRONT_PORT, "127.0.0.1", resolve));
  clients = await stack().clients();
  sfn = clients.sfn;
  // Setup and "someone else" use unrecorded clients: the recorded actions are the run stage's own.
  const unrecorded = { region: stack().region, endpoint: stack().endpoint, credentials: TEST_CREDENTIALS };
  setup = { sfn: new SFNClient(unrecorded), lambda: new LambdaClient(unrecorded) };
});

afterAll(async () => {
  setup?.sfn.destroy();
  setup?.lambda.destroy();
  front?.closeAllConnections();
  await new Promise<void>((resolve) => (front ? front.close(() => resolve()) : resolve()));
});

const NODES = [
  "data_processing.preprocess_companies_node",
  "data_processing.preprocess_shuttles_node",
  "data_processing.create_model_input_table_node",
  "data_science.split_data_node",
  "data_science.train_model_node",
  "data_science.evaluate_model_node",
];

let machineCount = 0;

interface Machine {
  /** moto 5.2.5 cannot start a version ARN with real execution on (AttributeError, a 500): tests start the machine. */
  arn: string;
  versionArn: string;
  tasks: RunTask[];
  definition: AslDefinition;
}

/**
 * Six one-node Tasks shaped as the compiler shapes spaceflights: the two
 * preprocess nodes in a Parallel, then a chain. Each Task catches into a Fail
 * state, as compiled machines do; `retry` adds a Retry to the named node.
 */
async function deployMachine(
  options: {
    timeoutSeconds?: number;
    retry?: { node: string; intervalSeconds: number };
    taskTimeout?: Record<string, number>;
  } = {},
): Promise<Machine> {
  const id = ++machineCount;
  const { lambda: lambdaRole, stateMachine: roleArn } = stack().roles;
  const image = await stack().putImage("spaceflights", `run-test-${id}`);
  const tasks: RunTask[] = NODES.map((node, i) => ({
    stateName: node.replace(/[^A-Za-z0-9_.-]/g, "_"),
    functionName: `sf${id}-${i}-${node.split(".")[1]?.replace(/_node$/, "")}`.slice(0, 64),
    nodes: [node],
  }));
  for (const t of tasks) {
    await setup?.lambda.send(
      new CreateFunctionCommand({
        FunctionName: t.functionName,
        Role: lambdaRole,
        PackageType: "Image",
        Code: { ImageUri: image },
        Timeout: 900,
        MemorySize: 1024,
      }),
    );
  }
  const retry = options.retry;
  const task = (t: RunTask, next: string | null, failState: string): AslState => ({
    Type: "Task",
    Resource: "arn:aws:states:::lambda:invoke",
    Parameters: {
      FunctionName: t.functionName,
      Payload: { nodes: t.nodes, "run_id.$": "$$.Execution.Name", "params.$": "$.params" },
    },
    ResultPath: null,
    ...(options.taskTimeout?.[t.nodes[0] as string]
      ? { TimeoutSeconds: options.taskTimeout[t.nodes[0] as string] }
      : {}),
    ...(retry && retry.node === t.nodes[0]
      ? {
          Retry: [
            {
              ErrorEquals: ["States.ALL"],
              IntervalSeconds: retry.intervalSeconds,
              MaxAttempts: 2,
              BackoffRate: 1,
            },
          ],
        }
      : {}),
    Catch: [{ ErrorEquals: ["States.ALL"], Next: failState }],
    ...(next ? { Next: next } : { End: true }),
  });
  const [a, b, c, d, e, f] = tasks as [RunTask, RunTask, RunTask, RunTask, RunTask, RunTask];
  const branch = (t: RunTask): Record<string, unknown> => ({
    StartAt: t.stateName,
    States: {
      [t.stateName]: task(t, null, "BranchFailed"),
      BranchFailed: { Type: "Fail", Error: "NodeFailed" },
    },
  });
  const definition: AslDefinition = {
    Comment: "kedro-sfn test machine",
    StartAt: "data_processing",
    ...(options.timeoutSeconds ? { TimeoutSeconds: options.timeoutSeconds } : {}),
    States: {
      data_processing: {
        Type: "Parallel",
        Branches: [branch(a), branch(b)],
        ResultPath: null,
        Next: c.stateName,
      },
      [c.stateName]: task(c, d.stateName, "Failed"),
      [d.stateName]: task(d, e.stateName, "Failed"),
      [e.stateName]: task(e, f.stateName, "Failed"),
      [f.stateName]: task(f, null, "Failed"),
      Failed: { Type: "Fail", Error: "NodeFailed" },
    },
  };
  const created = await (setup as { sfn: SFNClient }).sfn.send(
    new CreateStateMachineCommand({
      name: `spaceflights-${id}`,
      roleArn,
      definition: JSON.stringify(definition),
      publish: true,
    }),
  );
  expect(created.stateMachineVersionArn).toMatch(/:stateMachine:spaceflights-\d+:1$/);
  return {
    arn: created.stateMachineArn as string,
    versionArn: created.stateMachineVersionArn as string,
    tasks,
    definition,
  };
}

const logs: string[] = [];
const warnings: string[] = [];

async function run(
  machine: Machine,
  name: string,
  extra: { timeoutMs?: number; whileWaiting?: (arn: string) => Promise<void> } = {},
): Promise<RunReport> {
  logs.length = 0;
  warnings.length = 0;
  let hooked = false;
  return executePipeline(
    sfn,
    {
      stateMachineArn: machine.arn,
      name,
      input: JSON.stringify({ params: { "model_options.test_size": 0.3 } }),
      wait: true,
      timeoutMs: extra.timeoutMs ?? 60_000,
      tasks: machine.tasks,
      failOnExecutionFailure: true,
    },
    {
      log: (line) => {
        logs.push(line);
        const arn = /^Started execution \S+: .*details\/(\S+)$/.exec(line)?.[1];
        if (arn && extra.whileWaiting && !hooked) {
          hooked = true;
          setTimeout(() => void extra.whileWaiting?.(arn), 300);
        }
      },
      warn: (line) => warnings.push(line),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      now: () => Date.now(),
      pollMs: 100,
      maxPollMs: 300,
    },
  );
}

async function record(name: string, report: RunReport, machine: Machine): Promise<void> {
  if (!RECORD) return;
  const page = await (setup as { sfn: SFNClient }).sfn.send(
    new GetExecutionHistoryCommand({ executionArn: report.executionArn, includeExecutionData: true }),
  );
  mkdirSync(FIXTURES, { recursive: true });
  const events = (page.events ?? []).map((e: HistoryEvent) => ({
    ...e,
    timestamp: e.timestamp?.toISOString(),
  }));
  writeFileSync(
    join(FIXTURES, `${name}.json`),
    JSON.stringify(
      {
        recordedWith: "moto[server]==5.2.5",
        executionArn: report.executionArn,
        tasks: machine.tasks,
        events,
      },
      null,
      2,
    ) + "\n",
  );
}

function byNode(report: RunReport): Map<string, RunReport["nodes"][number]> {
  return new Map(report.nodes.map((n) => [n.node, n]));
}

test("a deployed pipeline runs and its history maps to six succeeded nodes", async () => {
  const machine = await deployMachine();
  behaviours.clear();
  const report = await run(machine, "ok-run-1");
  await record("succeeded", report, machine);
  expect(report.status).toBe("SUCCEEDED");
  expect(report.failure).toBeNull();
  expect(report.nodes).toHaveLength(6);
  expect(report.nodes.map((n) => n.status)).toEqual(Array(6).fill("succeeded"));
  for (const n of report.nodes) {
    expect(n.attempts).toBe(1);
    expect(n.durationMs).not.toBeNull();
    expect(n.logUrl).toContain("log-events");
  }
  // One progress line per finished task, not one per poll.
  expect(logs.filter((l) => /^\[\d\/6\] ✓/.test(l))).toHaveLength(6);
  // The deployed definition gives the same tasks back (what `kedro-sfn run` uses).
  expect(pipelineTasksFromDefinition(machine.definition).map((t) => t.stateName)).toEqual(
    machine.tasks.map((t) => t.stateName),
  );
  const summary = renderRunSummary({
    run: report,
    pipeline: pipelineTasksFromDefinition(machine.definition),
  });
  expect(summary.level).toBe("full");
  expect(summary.markdown).toContain("✅ Pipeline run succeeded");
});

test("a Lambda error fails its node, shows the error, and fails the step", async () => {
  const machine = await deployMachine();
  behaviours.clear();
  const train = machine.tasks[4] as RunTask;
  behaviours.set(train.functionName, [
    {
      kind: "fail",
      errorType: "ValueError",
      errorMessage: "Input contains NaN, infinity or a value too large for dtype('float64').",
      stackTrace: [
        '  File "/var/task/kedro_sfn/handler.py", line 42, in handler\n    session.run(node_names=nodes)\n',
        '  File "/var/task/spaceflights/pipelines/data_science/nodes.py", line 38, in train_model\n    regressor.fit(X_train, y_train)\n',
      ],
    },
  ]);
  const report = await run(machine, "fail-run-1");
  await record("failed", report, machine);
  expect(report.status).toBe("FAILED");
  expect(report.failure?.reason).toBe("execution-failed");
  expect(report.failure?.message).toContain("data_science.train_model_node");
  const nodes = byNode(report);
  expect(nodes.get("data_science.train_model_node")).toMatchObject({
    status: "failed",
    attempts: 1,
    error: { type: "ValueError", message: expect.stringContaining("NaN") as unknown },
  });
  expect(nodes.get("data_science.train_model_node")?.error?.traceback.at(-1)).toContain("regressor.fit");
  expect(nodes.get("data_science.evaluate_model_node")?.status).toBe("not-started");
  expect(nodes.get("data_science.split_data_node")?.status).toBe("succeeded");
  expect(
    logs.some((l) => l.includes("✗ data_science.train_model_node failed") && l.includes("ValueError")),
  ).toBe(true);
  const table = renderNodeTableText(report.nodes);
  expect(table).toMatch(/failed\s+data_science\.train_model_node/);
  expect(table).toContain("ValueError: Input contains NaN");
  const summary = renderRunSummary({
    run: report,
    pipeline: pipelineTasksFromDefinition(machine.definition),
  }).markdown;
  expect(summary).toContain("❌ Pipeline run failed");
  expect(summary).toContain("<details><summary>❌ <code>data_science.train_model_node</code>: ValueError");
});

test("a node that fails once and succeeds on retry is marked retried with two attempts", async () => {
  const machine = await deployMachine({
    retry: { node: "data_science.split_data_node", intervalSeconds: 1 },
  });
  behaviours.clear();
  const split = machine.tasks[3] as RunTask;
  behaviours.set(split.functionName, [
    { kind: "fail", errorType: "ConnectionError", errorMessage: "S3 went away" },
    { kind: "echo" },
  ]);
  const report = await run(machine, "retry-run-1");
  await record("retried", report, machine);
  expect(report.status).toBe("SUCCEEDED");
  expect(byNode(report).get("data_science.split_data_node")).toMatchObject({
    status: "retried",
    attempts: 2,
    error: { type: "ConnectionError" },
  });
  // "↻ ...: attempt 2" shows when a poll falls between the attempts; the finish line always counts them.
  expect(logs.some((l) => /✓ data_science\.split_data_node succeeded in .* after 2 attempts$/.test(l))).toBe(
    true,
  );
}, 30_000);

test("an execution stopped by someone else while waiting is aborted, and the step fails", async () => {
  // moto finishes a Lambda call in flight before it records the abort, so the
  // node caught open here is one waiting to retry after a failed attempt.
  const machine = await deployMachine({
    retry: { node: "data_processing.create_model_input_table_node", intervalSeconds: 4 },
  });
  behaviours.clear();
  const table = machine.tasks[2] as RunTask;
  behaviours.set(table.functionName, [
    { kind: "fail", errorType: "OSError", errorMessage: "disk full" },
    { kind: "echo" },
  ]);
  const report = await run(machine, "abort-run-1", {
    whileWaiting: async (arn) => {
      await new Promise((r) => setTimeout(r, 1200));
      await setup?.sfn.send(
        new StopExecutionCommand({ executionArn: arn, error: "Manual", cause: "stopped from the console" }),
      );
    },
  });
  await record("aborted", report, machine);
  expect(report.status).toBe("ABORTED");
  expect(report.failure?.reason).toBe("execution-aborted");
  expect(report.failure?.message).toContain("stopped by someone else");
  const nodes = byNode(report);
  expect(nodes.get("data_processing.preprocess_companies_node")?.status).toBe("succeeded");
  expect(nodes.get("data_processing.create_model_input_table_node")).toMatchObject({
    status: "aborted",
    attempts: 1,
    error: { type: "OSError" },
  });
  expect(nodes.get("data_science.evaluate_model_node")?.status).toBe("not-started");
  expect(logs.some((l) => l.includes("■ data_processing.create_model_input_table_node aborted"))).toBe(true);
}, 30_000);

test("an execution that hits the state machine's TimeoutSeconds is timed out", async () => {
  const machine = await deployMachine({ timeoutSeconds: 1 });
  behaviours.clear();
  behaviours.set((machine.tasks[2] as RunTask).functionName, [{ kind: "echo", delayMs: 3000 }]);
  const report = await run(machine, "timeout-run-1");
  await record("timed-out", report, machine);
  expect(report.status).toBe("TIMED_OUT");
  expect(report.failure?.reason).toBe("execution-timed-out");
  expect(byNode(report).get("data_processing.create_model_input_table_node")?.status).toBe("timed-out");
}, 30_000);

test("a Task's own TimeoutSeconds gives a timed-out node with States.Timeout", async () => {
  const machine = await deployMachine({ taskTimeout: { "data_science.evaluate_model_node": 1 } });
  behaviours.clear();
  behaviours.set((machine.tasks[5] as RunTask).functionName, [{ kind: "echo", delayMs: 3000 }]);
  const report = await run(machine, "task-timeout-run-1");
  await record("task-timed-out", report, machine);
  expect(report.status).toBe("FAILED");
  expect(byNode(report).get("data_science.evaluate_model_node")).toMatchObject({
    status: "timed-out",
    error: { type: "States.Timeout" },
  });
}, 30_000);

test("the step stops waiting at its own timeout and leaves the execution running", async () => {
  const machine = await deployMachine();
  behaviours.clear();
  behaviours.set((machine.tasks[3] as RunTask).functionName, [{ kind: "echo", delayMs: 4000 }]);
  const report = await run(machine, "wait-timeout-run-1", { timeoutMs: 1000 });
  expect(report.waitTimedOut).toBe(true);
  expect(report.status).toBe("RUNNING");
  expect(report.failure?.reason).toBe("wait-timed-out");
  expect(logs.some((l) => l.startsWith("Stopped waiting after 1.0 s"))).toBe(true);
  const nodes = byNode(report);
  expect(nodes.get("data_science.split_data_node")?.status).toBe("running");
  expect(nodes.get("data_science.evaluate_model_node")?.status).toBe("not-started");
  await setup?.sfn.send(new StopExecutionCommand({ executionArn: report.executionArn }));
}, 30_000);

test("kedro-sfn run finds the machine by name, reads its Tasks from the definition, waits and prints the table", async () => {
  const machine = await deployMachine();
  behaviours.clear();
  const flags: Record<string, string> = {
    "state-machine-name": `spaceflights-${machineCount}`,
    "execution-input": "{}",
  };
  const options = parseOptions((name) => flags[name] ?? "");
  let out = "";
  const err: string[] = [];
  const code = await runCommand(options, {
    sfn,
    out: (text) => (out += text),
    err: (line) => err.push(line),
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 200))),
    now: () => Date.now(),
    env: { GITHUB_SHA: "3f2a1b9c0d1e2f3a4b5c", GITHUB_RUN_ID: "123456789", GITHUB_RUN_ATTEMPT: "2" },
  });
  expect(err.filter((l) => l.startsWith("error") || l.startsWith("warning"))).toEqual([]);
  expect(code).toBe(0);
  // Input without params still runs: the Tasks read $.params, so run adds an empty object.
  expect(out).toMatch(/^SUCCEEDED {2}\d{4}-\d\d-\d\dT\d\d\.\d\d\.\d\d\.\d{3}Z-3f2a1b9c0d1e-run123456789-2\n/);
  for (const t of machine.tasks)
    expect(out).toMatch(new RegExp(`succeeded\\s+${t.nodes[0]?.replace(/\./g, "\\.")}\\s`));
});

// learn-durations, end to end on moto: real executions (the front delays one node) leave a
// history the reads turn into per-node times. The median, the 5% rule and explicit durations
// winning are unit-tested on constructed runs in durationsLearned.test.ts.
test("learned durations: the last successful executions' histories give each node its time", async () => {
  const machine = await deployMachine();
  behaviours.clear();
  const slow = machine.tasks[4] as RunTask;
  behaviours.set(slow.functionName, [{ kind: "echo", delayMs: 1500 }]);
  for (const name of ["learn-1", "learn-2"]) expect((await run(machine, name)).status).toBe("SUCCEEDED");
  const read = await readSucceededRuns(sfn, machine.arn, machine.tasks);
  // One ListExecutions, one history page per execution.
  expect(read.executions).toHaveLength(2);
  expect(read.calls).toBe(3);
  const learned = learnedDurationsOf(read.executions);
  expect(Object.keys(learned).sort()).toEqual([...NODES].sort());
  const slowSeconds = learned[slow.nodes[0] as string] as number;
  expect(slowSeconds).toBeGreaterThanOrEqual(1.4);
  for (const node of NODES) if (node !== slow.nodes[0]) expect(learned[node]).toBeLessThan(slowSeconds);
}, 60_000);

describe("a spaceflights pipeline compiled and deployed by the product", () => {
  const graph: PipelineGraph = {
    schema: "kedro-sfn/graph@1",
    project: { name: "spaceflights", package: "spaceflights" },
    pipeline: "__default__",
    nodes: [
      {
        name: NODES[0] as string,
        namespace: "data_processing",
        tags: [],
        inputs: ["companies"],
        outputs: ["preprocessed_companies"],
      },
      {
        name: NODES[1] as string,
        namespace: "data_processing",
        tags: [],
        inputs: ["shuttles"],
        outputs: ["preprocessed_shuttles"],
      },
      {
        name: NODES[2] as string,
        namespace: "data_processing",
        tags: [],
        inputs: ["preprocessed_shuttles", "preprocessed_companies", "reviews"],
        outputs: ["model_input_table"],
      },
      {
        name: NODES[3] as string,
        namespace: "data_science",
        tags: [],
        inputs: ["model_input_table", "params:model_options"],
        outputs: ["X_train", "X_test", "y_train", "y_test"],
      },
      {
        name: NODES[4] as string,
        namespace: "data_science",
        tags: [],
        inputs: ["X_train", "y_train"],
        outputs: ["regressor"],
      },
      {
        name: NODES[5] as string,
        namespace: "data_science",
        tags: [],
        inputs: ["regressor", "X_test", "y_test"],
        outputs: ["metrics"],
      },
    ],
    parameters: ["model_options"],
  };

  test("runs: six succeeded nodes; a Lambda error queued for one node fails it and the step", async () => {
    const compiled = compilePipeline(graph, {
      stateMachineName: "spaceflights-e2e",
      groupBy: [],
      structure: "dag",
      functionDefaults: FUNCTION_DEFAULTS,
    });
    const roles = stack().roles;
    const desired = desiredDeployment({
      stateMachineName: "spaceflights-e2e",
      compiled,
      imageUri: await stack().putImage("spaceflights", "e2e"),
      lambdaRoleArn: roles.lambda,
      stateMachineRoleArn: roles.stateMachine,
    });
    const deployClients = await createAwsClients({
      region: stack().region,
      endpoint: stack().endpoint,
      credentials: TEST_CREDENTIALS,
      lambdaLimiter: null,
    });
    let deployed: DeployRun;
    try {
      deployed = await deploy(deployClients, desired);
    } finally {
      deployClients.destroy();
    }
    const machine: Machine = {
      arn: deployed.result.stateMachineArn,
      versionArn: deployed.result.stateMachineVersionArn ?? "",
      tasks: compiled.functions,
      definition: compiled.definition,
    };
    behaviours.clear();
    const ok = await run(machine, "e2e-ok");
    expect(ok.status).toBe("SUCCEEDED");
    expect(ok.nodes.map((n) => [n.node, n.status]).sort()).toEqual(NODES.map((n) => [n, "succeeded"]).sort());

    const train = compiled.functions.find((f) => f.nodes.includes("data_science.train_model_node"));
    behaviours.set(train?.functionName as string, [
      { kind: "fail", errorType: "KeyError", errorMessage: "'engines'" },
    ]);
    const failed = await run(machine, "e2e-fail");
    expect(failed.status).toBe("FAILED");
    expect(failed.failure?.reason).toBe("execution-failed");
    expect(new Map(failed.nodes.map((n) => [n.node, n.status]))).toEqual(
      new Map([
        ...NODES.slice(0, 4).map((n) => [n, "succeeded"] as const),
        ["data_science.train_model_node", "failed"],
        ["data_science.evaluate_model_node", "not-started"],
      ]),
    );
    const summary = renderRunSummary({
      run: failed,
      pipeline: pipelineTasksFromGraph(compiled.functions, graph),
    }).markdown;
    expect(summary).toContain("<code>data_science.train_model_node</code>: KeyError: 'engines'");
  }, 60_000);
});
