/** Start, verdict and outputs of a run (aws-sdk-client-mock); names, params and Tasks (pure). */
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
  type HistoryEvent,
} from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { AslDefinition } from "../src/compile/types.js";
import { Output } from "../src/constants.js";
import { UserError } from "../src/errors.js";
import type { PipelineGraph } from "../src/graph/types.js";
import {
  executePipeline,
  executionOutputs,
  identityProblem,
  isVersionArn,
  type ExecuteRequest,
  type RunDeps,
} from "../src/run/execute.js";
import { checkParams, withParams } from "../src/run/params.js";
import { executionName, startExecution } from "../src/run/start.js";
import { pipelineTasksFromDefinition, pipelineTasksFromGraph } from "../src/run/tasks.js";
import type { RunTask } from "../src/run/types.js";

const sfnMock = mockClient(SFNClient);
const sfn = new SFNClient({ region: "eu-west-1" });
const VERSION = "arn:aws:states:eu-west-1:123456789012:stateMachine:spaceflights:7";
const EXEC =
  "arn:aws:states:eu-west-1:123456789012:execution:spaceflights:2026-01-31T09.15.02.123Z-3f2a1b9c0d1e-run1-1";
const STARTED = new Date("2026-01-31T09:15:02.200Z");

beforeEach(() => sfnMock.reset());

describe("executionName", () => {
  const parts = {
    commitSha: "3f2a1b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a",
    runId: "9876543210",
    runAttempt: "2",
    now: Date.parse("2026-01-31T09:15:02.123Z"),
  };

  test("time in Kedro's version format, commit, run and attempt", () => {
    expect(executionName(parts)).toBe("2026-01-31T09.15.02.123Z-3f2a1b9c0d1e-run9876543210-2");
  });

  test("unique per attempt, valid for AWS, at most 80 characters, sorted by time", () => {
    const names = [
      executionName(parts),
      executionName({ ...parts, runAttempt: "3" }),
      executionName({ ...parts, now: parts.now + 1 }),
    ];
    expect(new Set(names).size).toBe(3);
    const hostile = executionName({
      commitSha: "a b<c>{d}",
      runId: "x".repeat(200) + "/;:$",
      runAttempt: "1 0",
      now: parts.now,
    });
    for (const name of [...names, hostile]) {
      expect(name.length).toBeLessThanOrEqual(80);
      expect(name).toMatch(/^[A-Za-z0-9._-]{1,80}$/);
    }
    expect(hostile.endsWith("-10")).toBe(true);
    expect([...names].sort()[0]).toBe(names[0]);
    expect(executionName({ commitSha: "", runId: "", runAttempt: "", now: parts.now })).toBe(
      "2026-01-31T09.15.02.123Z-local",
    );
  });
});

describe("startExecution", () => {
  const request = { stateMachineArn: VERSION, name: "n1", input: '{"params":{}}' };

  test("starts the version with the name and input, keeping the recorded start date", async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: EXEC, startDate: STARTED });
    const started = await startExecution(sfn, request);
    expect(started).toEqual({
      executionArn: EXEC,
      startDate: STARTED,
      name: "n1",
      stateMachineArn: VERSION,
      input: '{"params":{}}',
    });
    expect(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input).toEqual(request);
  });

  test.each([
    ["ExecutionAlreadyExists", /already exists/, /re-run the workflow/],
    ["StateMachineDoesNotExist", /does not exist/, /Deploy first/],
    ["InvalidExecutionInput", /execution-input/, /256 KiB/],
    ["AccessDeniedException", /Not allowed/, /states:StartExecution/],
  ])("%s becomes a UserError with a hint", async (name, message, hint) => {
    sfnMock.on(StartExecutionCommand).rejects(Object.assign(new Error("aws says no"), { name }));
    const error = (await startExecution(sfn, request).catch((e: unknown) => e)) as UserError;
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(message);
    expect(error.hint).toMatch(hint);
  });

  test("anything else keeps its cause and names the state machine", async () => {
    sfnMock.on(StartExecutionCommand).rejects(Object.assign(new Error("socket hang up"), { name: "Error" }));
    await expect(startExecution(sfn, request)).rejects.toThrow(
      `Could not start an execution of ${VERSION}: socket hang up`,
    );
  });
});

describe("executePipeline", () => {
  const f = JSON.parse(
    readFileSync(join(process.cwd(), "__tests__", "fixtures", "history", "failed.json"), "utf8"),
  ) as {
    tasks: RunTask[];
    events: (HistoryEvent & { timestamp: string })[];
  };
  const failedEvents: HistoryEvent[] = f.events.map((e) => ({ ...e, timestamp: new Date(e.timestamp) }));
  let logs: string[];
  let warnings: string[];
  let deps: RunDeps;
  const request = (extra: Partial<ExecuteRequest> = {}): ExecuteRequest => ({
    stateMachineArn: VERSION,
    name: "n1",
    input: "{}",
    wait: true,
    timeoutMs: 60_000,
    tasks: f.tasks,
    failOnExecutionFailure: true,
    ...extra,
  });

  beforeEach(() => {
    logs = [];
    warnings = [];
    let clock = 0;
    deps = {
      log: (l) => logs.push(l),
      warn: (l) => warnings.push(l),
      sleep: (ms) => ((clock += ms), Promise.resolve()),
      now: () => clock,
    };
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: EXEC, startDate: STARTED });
  });

  test("a failed execution fails the step with the node and its error, and sets the outputs", async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({
      executionArn: EXEC,
      stateMachineArn: "arn:sm",
      stateMachineVersionArn: VERSION,
      status: "FAILED",
      startDate: STARTED,
      stopDate: new Date(STARTED.getTime() + 5000),
      error: "NodeFailed",
    });
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: failedEvents });
    const report = await executePipeline(sfn, request(), deps);
    // An input without params gets an empty object: compiled Tasks read $.params.
    expect(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input).toBe('{"params":{}}');
    expect(report).toMatchObject({
      status: "FAILED",
      durationMs: 5000,
      error: "NodeFailed",
      stateMachineVersionArn: VERSION,
    });
    expect(report.failure?.reason).toBe("execution-failed");
    expect(report.failure?.message).toMatch(
      /^The execution failed: failed in data_science\.train_model_node \(ValueError: Input contains NaN/,
    );
    const outputs = new Map(executionOutputs(report));
    expect(outputs.get(Output.ExecutionArn)).toBe(EXEC);
    expect(outputs.get(Output.ExecutionStatus)).toBe("FAILED");
    expect(outputs.get(Output.FailureReason)).toBe("execution-failed");
    const nodes = JSON.parse(outputs.get(Output.NodeStatuses) as string) as {
      node: string;
      status: string;
    }[];
    expect(nodes.map((n) => n.status)).toEqual([
      "succeeded",
      "succeeded",
      "succeeded",
      "succeeded",
      "failed",
      "not-started",
    ]);
    expect(logs[0]).toMatch(
      /^Started execution n1: https:\/\/eu-west-1\.console\.aws\.amazon\.com\/states\//,
    );
    expect(logs.at(-1)).toBe("Execution FAILED in 5.0 s (tasks: 4 succeeded, 1 failed, 1 not-started).");
  });

  test("with fail-on-execution-failure false the step goes on, with a warning", async () => {
    sfnMock
      .on(DescribeExecutionCommand)
      .resolves({ executionArn: EXEC, stateMachineArn: "arn:sm", status: "TIMED_OUT", startDate: STARTED });
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [] });
    const report = await executePipeline(sfn, request({ failOnExecutionFailure: false }), deps);
    expect(report.failure).toBeNull();
    expect(warnings).toEqual([
      "The execution ended TIMED_OUT; 'fail-on-execution-failure' is false, so the step goes on.",
    ]);
    expect(executionOutputs(report).map(([k]) => k)).not.toContain(Output.FailureReason);
  });

  test("an aborted execution says someone else stopped it, with their error and cause", async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({
      executionArn: EXEC,
      stateMachineArn: "arn:sm",
      status: "ABORTED",
      startDate: STARTED,
      error: "Manual",
      cause: "stopped from the console",
    });
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [] });
    const report = await executePipeline(sfn, request(), deps);
    expect(report.failure).toEqual({
      reason: "execution-aborted",
      message: `The execution was stopped by someone else while this step waited (Manual: stopped from the console). See ${report.consoleUrl}`,
    });
  });

  test("a succeeded execution that is not the one started fails the step", async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({
      executionArn: EXEC,
      stateMachineArn: "arn:sm",
      stateMachineVersionArn: VERSION.replace(/7$/, "6"),
      status: "SUCCEEDED",
      startDate: STARTED,
    });
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [] });
    const report = await executePipeline(sfn, request({ failOnExecutionFailure: false }), deps);
    expect(report.failure?.reason).toBe("execution-mismatch");
    expect(report.failure?.message).toContain("not the version just deployed");
  });

  test("identity: other ARN, earlier start, other version", () => {
    const started = {
      executionArn: EXEC,
      startDate: STARTED,
      name: "n1",
      stateMachineArn: VERSION,
      input: "{}",
    };
    const base = {
      executionArn: EXEC,
      stateMachineArn: "arn:sm",
      status: "SUCCEEDED" as const,
      startDate: STARTED,
    };
    expect(identityProblem({ ...base, stateMachineVersionArn: VERSION }, started)).toBeNull();
    expect(identityProblem({ ...base, executionArn: `${EXEC}x` }, started)).toContain(
      "DescribeExecution answered for",
    );
    expect(
      identityProblem({ ...base, startDate: new Date(STARTED.getTime() - 3_600_000) }, started),
    ).toContain("before this step started it");
    expect(isVersionArn(VERSION)).toBe(true);
    expect(isVersionArn(VERSION.replace(/:7$/, ""))).toBe(false);
  });

  test("not waiting: the execution ARN and RUNNING, no history read", async () => {
    const report = await executePipeline(sfn, request({ wait: false }), deps);
    expect(report).toMatchObject({
      executionArn: EXEC,
      status: "RUNNING",
      waited: false,
      nodes: [],
      failure: null,
    });
    expect(sfnMock.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
  });

  test("a history that cannot be read leaves per-node status empty with a warning, not a crash", async () => {
    sfnMock
      .on(DescribeExecutionCommand)
      .resolves({ executionArn: EXEC, stateMachineArn: "arn:sm", status: "SUCCEEDED", startDate: STARTED });
    sfnMock
      .on(GetExecutionHistoryCommand)
      .rejects(Object.assign(new Error("denied"), { name: "AccessDeniedException" }));
    const report = await executePipeline(sfn, request({ tasks: [] }), deps);
    expect(report.status).toBe("SUCCEEDED");
    expect(report.nodes).toEqual([]);
    expect(warnings).toEqual(["Could not read the execution history, so per-node status is missing: denied"]);
  });
});

describe("params", () => {
  const known = ["model_options", "features.numeric"];

  test("keys the project does not define are listed in one warning", () => {
    const input = JSON.stringify({
      params: {
        model_options: { test_size: 0.3 },
        "model_options.random_state": 1,
        model_optoins: 1,
        features: { numeric: [1], extra: 2 },
        "a.b": { c: 1 },
      },
    });
    expect(checkParams(input, known)).toEqual([
      "Input 'execution-input': params not defined in the project's parameters: model_optoins, features.extra, a.b.c. " +
        "Kedro adds them as new parameters, so a misspelt key leaves the configured value in place. " +
        "Project parameters: features.numeric, model_options.",
    ]);
  });

  test("nothing to say without params, without known keys, or when all are known", () => {
    expect(checkParams("{}", known)).toEqual([]);
    expect(checkParams('{"params": {"x": 1}}', undefined)).toEqual([]);
    expect(checkParams('{"params": {"features": {}}}', known)).toEqual([]);
    expect(checkParams("not json", known)).toEqual([]);
  });

  test("withParams adds an empty params object only when missing", () => {
    expect(withParams("{}")).toBe('{"params":{}}');
    expect(withParams('{"x": 1}')).toBe('{"x":1,"params":{}}');
    expect(withParams('{ "params": {"a": 1} }')).toBe('{ "params": {"a": 1} }');
    expect(withParams("")).toBe('{"params":{}}');
  });
});

describe("Tasks of a pipeline", () => {
  const task = (fn: string, nodes: string[], next?: string): Record<string, unknown> => ({
    Type: "Task",
    Resource: "arn:aws:states:::lambda:invoke",
    Parameters: {
      FunctionName: `arn:aws:lambda:eu-west-1:1:function:${fn}:4`,
      Payload: { nodes, "run_id.$": "$$.Execution.Name" },
    },
    ResultPath: null,
    ...(next ? { Next: next } : { End: true }),
  });

  test("read back from a definition: Parallel branches, chains, nested Parallels", () => {
    const definition = {
      StartAt: "prep",
      States: {
        prep: {
          Type: "Parallel",
          Branches: [
            { StartAt: "a", States: { a: task("fa", ["n.a"]) } },
            {
              StartAt: "b",
              States: {
                b: task("fb", ["n.b"], "inner"),
                inner: {
                  Type: "Parallel",
                  Branches: [{ StartAt: "c", States: { c: task("fc", ["n.c1", "n.c2"]) } }],
                  End: true,
                },
              },
            },
          ],
          Next: "pass",
        },
        pass: { Type: "Pass", Next: "d" },
        d: task("fd", ["n.d"], "done"),
        done: { Type: "Succeed" },
      },
    } as unknown as AslDefinition;
    expect(pipelineTasksFromDefinition(definition)).toEqual([
      { stateName: "a", functionName: "fa", nodes: ["n.a"], dependsOn: [] },
      { stateName: "b", functionName: "fb", nodes: ["n.b"], dependsOn: [] },
      { stateName: "c", functionName: "fc", nodes: ["n.c1", "n.c2"], dependsOn: ["b"] },
      { stateName: "d", functionName: "fd", nodes: ["n.d"], dependsOn: ["a", "c"] },
    ]);
  });

  test("from the graph: a Task waits for the Tasks whose nodes write its inputs", () => {
    const graph: PipelineGraph = {
      schema: "kedro-sfn/graph@1",
      nodes: [
        { name: "x", namespace: null, tags: [], inputs: ["raw"], outputs: ["a"] },
        { name: "y", namespace: null, tags: [], inputs: ["a"], outputs: ["b"] },
        { name: "z", namespace: null, tags: [], inputs: ["a", "b"], outputs: ["c"] },
      ],
    };
    const tasks: RunTask[] = [
      { stateName: "T1", functionName: "f1", nodes: ["x", "y"] },
      { stateName: "T2", functionName: "f2", nodes: ["z"] },
    ];
    expect(pipelineTasksFromGraph(tasks, graph)).toEqual([
      { stateName: "T1", functionName: "f1", nodes: ["x", "y"], dependsOn: [] },
      { stateName: "T2", functionName: "f2", nodes: ["z"], dependsOn: ["T1"] },
    ]);
  });
});
