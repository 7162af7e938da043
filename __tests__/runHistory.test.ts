/**
 * History -> per-node status with aws-sdk-client-mock: the event shapes moto
 * recorded (fixtures/history/), AWS paging, retries, redrive, a 25,000-event
 * history and a 300-node pipeline.
 */
import { GetExecutionHistoryCommand, SFNClient, type HistoryEvent } from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseTaskFailure } from "../src/run/failure.js";
import { functionNameOf } from "../src/compile/names.js";
import { MAX_HISTORY_EVENTS, readExecutionHistory, readNodeStatuses } from "../src/run/history.js";
import { foldHistory } from "../src/run/historyFold.js";
import { cloudWatchLogsUrl, executionConsoleUrl, locationOfArn } from "../src/run/links.js";
import type { RunTask } from "../src/run/types.js";

const sfnMock = mockClient(SFNClient);
const sfn = new SFNClient({ region: "us-east-1" });
const ARN =
  "arn:aws:states:eu-west-1:123456789012:execution:spaceflights:2026-01-31T09.15.02.123Z-3f2a1b9c0d1e-run1-1";
const LOCATION = locationOfArn(ARN);

beforeEach(() => sfnMock.reset());

interface Fixture {
  executionArn: string;
  tasks: RunTask[];
  events: HistoryEvent[];
}

function fixture(name: string): Fixture {
  const raw = JSON.parse(
    readFileSync(join(process.cwd(), "__tests__", "fixtures", "history", `${name}.json`), "utf8"),
  ) as {
    executionArn: string;
    tasks: RunTask[];
    events: (HistoryEvent & { timestamp: string })[];
  };
  return { ...raw, events: raw.events.map((e) => ({ ...e, timestamp: new Date(e.timestamp) })) };
}

/** Serves events as GetExecutionHistory pages of `pageSize` with opaque tokens. */
/** Requests as they were sent: the SDK's paginator reuses one input object from page to page. */
let requests: Record<string, unknown>[] = [];

function servePages(events: HistoryEvent[], pageSize: number): void {
  requests = [];
  sfnMock.on(GetExecutionHistoryCommand).callsFake((input: { nextToken?: string; maxResults?: number }) => {
    requests.push({ ...input });
    const start = input.nextToken ? Number(input.nextToken.slice(4)) : 0;
    const size = Math.min(pageSize, input.maxResults ?? pageSize);
    const page = events.slice(start, start + size);
    const end = start + page.length;
    return Promise.resolve({ events: page, ...(end < events.length ? { nextToken: `tok-${end}` } : {}) });
  });
}

describe("recorded moto histories", () => {
  test("six succeeded nodes, each with start, duration, one attempt and a log stream link", () => {
    const f = fixture("succeeded");
    const folder = foldHistory(f.events, f.tasks);
    const runs = folder.runs();
    expect(folder.execution.status).toBe("SUCCEEDED");
    expect(runs.map((r) => r.status)).toEqual(Array(6).fill("succeeded"));
    for (const r of runs) {
      expect(r.attempts).toBe(1);
      expect(r.startMs).not.toBeNull();
      expect(r.endMs as number).toBeGreaterThanOrEqual(r.startMs as number);
      // The test front reports log_stream_name in its payload, as a handler may.
      expect(r.logStream).toMatch(/^2026\/01\/01\/\[\$LATEST\]/);
    }
  });

  test("a failed node carries the Lambda error type, message and traceback tail", () => {
    const f = fixture("failed");
    const runs = foldHistory(f.events, f.tasks).runs();
    const train = runs.find((r) => r.nodes[0] === "data_science.train_model_node");
    expect(train).toMatchObject({ status: "failed", attempts: 1, requestId: "req-0001" });
    expect(train?.error?.type).toBe("ValueError");
    expect(train?.error?.traceback).toEqual([
      '  File "/var/task/kedro_sfn/handler.py", line 42, in handler',
      "    session.run(node_names=nodes)",
      '  File "/var/task/spaceflights/pipelines/data_science/nodes.py", line 38, in train_model',
      "    regressor.fit(X_train, y_train)",
    ]);
    expect(runs.find((r) => r.nodes[0] === "data_science.evaluate_model_node")?.status).toBe("not-started");
  });

  test("retried, aborted, timed-out and task-timed-out histories", () => {
    const retried = fixture("retried");
    expect(
      foldHistory(retried.events, retried.tasks)
        .runs()
        .find((r) => r.nodes[0] === "data_science.split_data_node"),
    ).toMatchObject({
      status: "retried",
      attempts: 2,
      error: { type: "ConnectionError", message: "S3 went away" },
    });

    const aborted = fixture("aborted");
    const abortedRuns = foldHistory(aborted.events, aborted.tasks).runs();
    expect(abortedRuns.map((r) => r.status)).toEqual([
      "succeeded",
      "succeeded",
      "aborted",
      "not-started",
      "not-started",
      "not-started",
    ]);

    // moto's history of a timed-out execution has no ExecutionTimedOut event when
    // DescribeExecution already says TIMED_OUT: the described end settles it.
    const timedOut = fixture("timed-out");
    const folder = foldHistory(timedOut.events, timedOut.tasks);
    expect(folder.run(timedOut.tasks[2]?.stateName as string)?.status).toBe("running");
    folder.settle("TIMED_OUT", Date.parse("2030-01-01T00:00:00Z"));
    expect(folder.runs().map((r) => r.status)).toEqual([
      "succeeded",
      "succeeded",
      "timed-out",
      "not-started",
      "not-started",
      "not-started",
    ]);

    const taskTimeout = fixture("task-timed-out");
    expect(foldHistory(taskTimeout.events, taskTimeout.tasks).runs().at(-1)).toMatchObject({
      status: "timed-out",
      error: { type: "States.Timeout" },
    });
  });
});

describe("paging GetExecutionHistory", () => {
  test("follows nextToken to the end, asking for 1000 events a page with execution data", async () => {
    const f = fixture("succeeded");
    servePages(f.events, 7);
    const events = await readExecutionHistory(sfn, ARN, {});
    expect(events.map((e) => e.id)).toEqual(f.events.map((e) => e.id));
    expect(requests).toHaveLength(Math.ceil(f.events.length / 7));
    expect(requests[0]).toEqual({
      executionArn: ARN,
      maxResults: 1000,
      includeExecutionData: true,
    });
    expect(requests[1]).toMatchObject({ nextToken: "tok-7" });
  });

  test("a mocked throttle (no SDK retry behind it) fails at once: nothing stacked on the SDK", async () => {
    sfnMock
      .on(GetExecutionHistoryCommand)
      .rejects(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }));
    await expect(readExecutionHistory(sfn, ARN)).rejects.toThrow("Rate exceeded");
    expect(sfnMock.commandCalls(GetExecutionHistoryCommand)).toHaveLength(1);
  });

  test("other errors are not swallowed", async () => {
    sfnMock
      .on(GetExecutionHistoryCommand)
      .rejects(Object.assign(new Error("no such execution"), { name: "ExecutionDoesNotExist" }));
    await expect(readExecutionHistory(sfn, ARN, {})).rejects.toThrow("no such execution");
  });

  test("a server that never stops paging is cut off past the 25,000-event limit", async () => {
    sfnMock.on(GetExecutionHistoryCommand).callsFake(() =>
      Promise.resolve({
        events: [{ id: 1, type: "PassStateEntered", timestamp: new Date() }],
        nextToken: "again",
      }),
    );
    const events = await readExecutionHistory(sfn, ARN, { maxEvents: 50 });
    expect(events).toHaveLength(50);
    expect(MAX_HISTORY_EVENTS).toBe(25_000);
  });
});

/**
 * An AWS-shaped history: Tasks in parallel branches whose events interleave by
 * time, each chained to its own previous event; `attempts[i]` failed attempts
 * before success (or `fail` to end failed).
 */
function synthesize(
  tasks: RunTask[],
  options: {
    failedAttempts?: (i: number) => number;
    failTask?: number;
    t0?: number;
    requestIds?: boolean;
  } = {},
): HistoryEvent[] {
  const t0 = options.t0 ?? Date.parse("2026-01-31T09:15:02Z");
  type Body = Omit<HistoryEvent, "id" | "previousEventId" | "timestamp">;
  const pending: { event: Body; chain: number; at: number }[] = [];
  tasks.forEach((task, i) => {
    let at = t0 + 100 + (i % 50) * 7;
    const push = (event: Body): void => {
      pending.push({ event, chain: i, at });
      at += 3;
    };
    push({ type: "TaskStateEntered", stateEnteredEventDetails: { name: task.stateName, input: "{}" } });
    const failures = options.failedAttempts?.(i) ?? 0;
    for (let a = 0; a <= failures; a++) {
      push({
        type: "TaskScheduled",
        taskScheduledEventDetails: {
          resourceType: "lambda",
          resource: "invoke",
          region: "eu-west-1",
          parameters: JSON.stringify({
            FunctionName: `arn:aws:lambda:eu-west-1:123456789012:function:${task.functionName}:3`,
            Payload: { nodes: task.nodes },
          }),
        },
      });
      push({ type: "TaskStarted", taskStartedEventDetails: { resourceType: "lambda", resource: "invoke" } });
      const last = a === failures;
      if (!last || options.failTask === i) {
        push({
          type: "TaskFailed",
          taskFailedEventDetails: {
            resourceType: "lambda",
            resource: "invoke",
            error: "RuntimeError",
            cause: JSON.stringify({
              errorMessage: `attempt ${a + 1} broke`,
              errorType: "RuntimeError",
              requestId: `req-${i}-${a}`,
              stackTrace: [],
            }),
          },
        });
      } else {
        const output = {
          ExecutedVersion: "3",
          // The handler's result: each node's own seconds.
          Payload: { nodes: task.nodes.map((name, k) => ({ name, seconds: 1.5 + k })), run_id: "r" },
          SdkHttpMetadata: { HttpStatusCode: 200 },
          SdkResponseMetadata: { RequestId: `req-${i}-${a}` },
          StatusCode: 200,
        };
        push({
          type: "TaskSucceeded",
          taskSucceededEventDetails: {
            resourceType: "lambda",
            resource: "invoke",
            output: JSON.stringify(output),
          },
        });
      }
    }
    if (options.failTask !== i)
      push({ type: "TaskStateExited", stateExitedEventDetails: { name: task.stateName, output: "{}" } });
  });
  pending.sort((a, b) => a.at - b.at || a.chain - b.chain);
  const events: HistoryEvent[] = [
    {
      id: 1,
      previousEventId: 0,
      type: "ExecutionStarted",
      timestamp: new Date(t0),
      executionStartedEventDetails: { input: "{}" },
    },
    {
      id: 2,
      previousEventId: 1,
      type: "ParallelStateEntered",
      timestamp: new Date(t0 + 1),
      stateEnteredEventDetails: { name: "all" },
    },
    { id: 3, previousEventId: 2, type: "ParallelStateStarted", timestamp: new Date(t0 + 2) },
  ];
  const lastOfChain = new Map<number, number>();
  for (const p of pending) {
    const id = events.length + 1;
    events.push({
      ...p.event,
      id,
      timestamp: new Date(p.at),
      previousEventId: lastOfChain.get(p.chain) ?? 3,
    });
    lastOfChain.set(p.chain, id);
  }
  const end = events.at(-1)?.timestamp as Date;
  const failed = options.failTask !== undefined;
  events.push({
    id: events.length + 1,
    previousEventId: events.length,
    type: failed ? "ExecutionFailed" : "ExecutionSucceeded",
    timestamp: new Date(end.getTime() + 1),
    ...(failed ? { executionFailedEventDetails: { error: "RuntimeError", cause: "a node failed" } } : {}),
  });
  return events;
}

function manyTasks(n: number): RunTask[] {
  return Array.from({ length: n }, (_, i) => {
    const node = `ns${i % 7}.node_${String(i).padStart(3, "0")}`;
    return { stateName: node, functionName: `sf-node-${i}`, nodes: [node] };
  });
}

describe("AWS-shaped histories", () => {
  test("interleaved parallel branches are told apart by their previousEventId chains", () => {
    const tasks = manyTasks(12);
    const events = synthesize(tasks, { failedAttempts: (i) => (i === 4 ? 2 : 0), failTask: 9 });
    // Branches really interleave: some Task's events are not contiguous.
    expect(events.slice(3, 20).map((e) => e.previousEventId)).not.toEqual(
      events.slice(3, 20).map((e) => (e.id as number) - 1),
    );
    const folder = foldHistory(events, tasks);
    const runs = folder.runs();
    expect(runs[4]).toMatchObject({ status: "retried", attempts: 3, requestId: "req-4-2" });
    expect(runs[9]).toMatchObject({
      status: "failed",
      attempts: 1,
      error: { type: "RuntimeError", message: "attempt 1 broke" },
    });
    expect(runs.filter((r) => r.status === "succeeded")).toHaveLength(10);
    expect(folder.execution).toMatchObject({
      status: "FAILED",
      error: "RuntimeError",
      cause: "a node failed",
    });
  });

  test("events given out of order are folded in id order", () => {
    const tasks = manyTasks(3);
    const events = synthesize(tasks);
    const shuffled = [...events].reverse();
    expect(
      foldHistory(shuffled, tasks)
        .runs()
        .map((r) => r.status),
    ).toEqual(["succeeded", "succeeded", "succeeded"]);
  });

  test("a TaskScheduled with a broken chain is matched by the function it invokes", () => {
    const tasks = manyTasks(2);
    const events = synthesize(tasks).map((e) =>
      e.type === "TaskScheduled" ? { ...e, previousEventId: 999_999 } : e,
    );
    const runs = foldHistory(events, tasks).runs();
    expect(runs.map((r) => [r.status, r.attempts])).toEqual([
      ["succeeded", 1],
      ["succeeded", 1],
    ]);
    expect(functionNameOf("arn:aws:lambda:eu-west-1:1:function:sf-node-1:3")).toBe("sf-node-1");
    expect(functionNameOf("sf-node-1:live")).toBe("sf-node-1");
  });

  test("a Task in flight in another branch when the execution fails is aborted; TaskStateAborted too", () => {
    const tasks = manyTasks(3);
    const t0 = Date.parse("2026-01-31T09:15:02Z");
    const at = (ms: number): Date => new Date(t0 + ms);
    const events: HistoryEvent[] = [
      { id: 1, previousEventId: 0, type: "ExecutionStarted", timestamp: at(0) },
      {
        id: 2,
        previousEventId: 1,
        type: "TaskStateEntered",
        timestamp: at(1),
        stateEnteredEventDetails: { name: tasks[0]?.stateName },
      },
      {
        id: 3,
        previousEventId: 1,
        type: "TaskStateEntered",
        timestamp: at(1),
        stateEnteredEventDetails: { name: tasks[1]?.stateName },
      },
      {
        id: 4,
        previousEventId: 1,
        type: "TaskStateEntered",
        timestamp: at(1),
        stateEnteredEventDetails: { name: tasks[2]?.stateName },
      },
      { id: 5, previousEventId: 2, type: "TaskScheduled", timestamp: at(2) },
      { id: 6, previousEventId: 3, type: "TaskScheduled", timestamp: at(2) },
      { id: 7, previousEventId: 4, type: "TaskScheduled", timestamp: at(2) },
      {
        id: 8,
        previousEventId: 5,
        type: "TaskFailed",
        timestamp: at(50),
        taskFailedEventDetails: {
          resourceType: "lambda",
          resource: "invoke",
          error: "KeyError",
          cause: "plain text cause",
        },
      },
      { id: 9, previousEventId: 7, type: "TaskStateAborted", timestamp: at(51) },
      {
        id: 10,
        previousEventId: 8,
        type: "ExecutionFailed",
        timestamp: at(52),
        executionFailedEventDetails: { error: "KeyError" },
      },
    ];
    const runs = foldHistory(events, tasks).runs();
    expect(runs.map((r) => r.status)).toEqual(["failed", "aborted", "aborted"]);
    expect(runs[0]?.error).toEqual({ type: "KeyError", message: "plain text cause", traceback: [] });
    // The cancelled Task ends with the execution.
    expect(runs[1]?.endMs).toBe(t0 + 52);
    expect(runs[2]?.endMs).toBe(t0 + 51);
  });

  test("a redriven execution keeps counting attempts and ends with the new result", () => {
    const [task] = manyTasks(1) as [RunTask];
    const t0 = Date.parse("2026-01-31T09:15:02Z");
    const at = (ms: number): Date => new Date(t0 + ms);
    const events: HistoryEvent[] = [
      { id: 1, previousEventId: 0, type: "ExecutionStarted", timestamp: at(0) },
      {
        id: 2,
        previousEventId: 1,
        type: "TaskStateEntered",
        timestamp: at(1),
        stateEnteredEventDetails: { name: task.stateName },
      },
      { id: 3, previousEventId: 2, type: "TaskScheduled", timestamp: at(2) },
      {
        id: 4,
        previousEventId: 3,
        type: "TaskFailed",
        timestamp: at(3),
        taskFailedEventDetails: { resourceType: "lambda", resource: "invoke", error: "E", cause: "x" },
      },
      { id: 5, previousEventId: 4, type: "ExecutionFailed", timestamp: at(4) },
      { id: 6, previousEventId: 5, type: "ExecutionRedriven", timestamp: at(1000) },
      {
        id: 7,
        previousEventId: 6,
        type: "TaskStateEntered",
        timestamp: at(1001),
        stateEnteredEventDetails: { name: task.stateName },
      },
      { id: 8, previousEventId: 7, type: "TaskScheduled", timestamp: at(1002) },
      {
        id: 9,
        previousEventId: 8,
        type: "TaskSucceeded",
        timestamp: at(1500),
        taskSucceededEventDetails: { resourceType: "lambda", resource: "invoke", output: "{}" },
      },
      {
        id: 10,
        previousEventId: 9,
        type: "TaskStateExited",
        timestamp: at(1501),
        stateExitedEventDetails: { name: task.stateName },
      },
      { id: 11, previousEventId: 10, type: "ExecutionSucceeded", timestamp: at(1502) },
    ];
    const folder = foldHistory(events, [task]);
    expect(folder.execution.status).toBe("SUCCEEDED");
    expect(folder.runs()[0]).toMatchObject({
      status: "retried",
      attempts: 2,
      startMs: t0 + 1001,
      endMs: t0 + 1501,
    });
  });

  test("a 25,000-event history of a 300-node pipeline pages in 25 calls and maps every node", async () => {
    const tasks = manyTasks(300);
    // 26 failed attempts then success: 2 + 27 x 3 = 83 events a Task, 24,904 in all.
    const events = synthesize(tasks, { failedAttempts: () => 26 });
    expect(events.length).toBeGreaterThan(24_900);
    expect(events.length).toBeLessThanOrEqual(MAX_HISTORY_EVENTS);
    servePages(events, 1000);
    const started = performance.now();
    const history = await readNodeStatuses(sfn, ARN, tasks, { location: LOCATION });
    const took = performance.now() - started;
    expect(sfnMock.commandCalls(GetExecutionHistoryCommand)).toHaveLength(25);
    expect(history.eventCount).toBe(events.length);
    expect(history.nodes).toHaveLength(300);
    expect(history.nodes.every((n) => n.status === "retried" && n.attempts === 27)).toBe(true);
    expect(history.execution.status).toBe("SUCCEEDED");
    expect(took).toBeLessThan(5000);
    process.stdout.write(
      `figure: read + mapped ${events.length} events / 300 nodes in ${took.toFixed(0)} ms\n`,
    );
  });
});

describe("per-node statuses", () => {
  test("nodes of one Task share its status, and say how many share it", async () => {
    const tasks: RunTask[] = [
      { stateName: "grouped", functionName: "sf-grouped", nodes: ["a.one", "a.two", "a.three"] },
      { stateName: "solo", functionName: "sf-solo", nodes: ["b.solo"] },
    ];
    servePages(synthesize(tasks, { failTask: 1 }), 1000);
    const { nodes } = await readNodeStatuses(sfn, ARN, tasks, { location: LOCATION });
    expect(nodes.map((n) => [n.node, n.task, n.taskNodes, n.status])).toEqual([
      ["a.one", "grouped", 3, "succeeded"],
      ["a.two", "grouped", 3, "succeeded"],
      ["a.three", "grouped", 3, "succeeded"],
      ["b.solo", "solo", 1, "failed"],
    ]);
    expect(nodes[0]?.startedAt).toMatch(/^2026-01-31T09:15:02\.\d{3}Z$/);
    // The request id filters the function's log group around the Task's time.
    expect(nodes[0]?.logUrl).toContain(
      "/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Faws$252Flambda$252Fsf-grouped/log-events$3FfilterPattern$3D$2522req-0-0$2522$26start$3D",
    );
    expect(nodes[3]?.error?.message).toBe("attempt 1 broke");
    // Grouped nodes get their own durations from the handler's result; a lone node the Task's.
    expect(nodes.map((n) => n.durationMs)).toEqual([1500, 2500, 3500, 9]);
  });
});

describe("links and failure causes", () => {
  test("console links for each partition", () => {
    expect(executionConsoleUrl(ARN)).toBe(
      `https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${ARN}`,
    );
    expect(executionConsoleUrl("arn:aws-cn:states:cn-north-1:1:execution:m:e")).toMatch(
      /^https:\/\/cn-north-1\.console\.amazonaws\.cn\//,
    );
    expect(
      cloudWatchLogsUrl(LOCATION, { logGroup: "/aws/lambda/f", logStream: "2026/01/31/[$LATEST]abc" }),
    ).toBe(
      "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Faws$252Flambda$252Ff/log-events/2026$252F01$252F31$252F$255B$2524LATEST$255Dabc",
    );
    expect(() => locationOfArn("not-an-arn")).toThrow("Not an ARN");
  });

  test("causes: Lambda JSON, plain text, string traces, long messages", () => {
    expect(parseTaskFailure("States.Timeout", undefined)).toEqual({
      type: "States.Timeout",
      message: "",
      traceback: [],
    });
    expect(parseTaskFailure("Lambda.ServiceException", "Rate exceeded")).toEqual({
      type: "Lambda.ServiceException",
      message: "Rate exceeded",
      traceback: [],
    });
    const frames = Array.from({ length: 40 }, (_, i) => `  File "x.py", line ${i}, in f\n    call_${i}()\n`);
    const parsed = parseTaskFailure(
      "ValueError",
      JSON.stringify({ errorType: "ValueError", errorMessage: "m".repeat(5000), stackTrace: frames }),
    );
    expect(parsed.message.length).toBe(2000);
    expect(parsed.traceback).toHaveLength(25);
    expect(parsed.traceback.at(-1)).toBe("    call_39()");
    expect(
      parseTaskFailure("E", JSON.stringify({ errorMessage: "x", trace: "line1\nline2" })).traceback,
    ).toEqual(["line1", "line2"]);
    expect(parseTaskFailure("E", "{not json")).toEqual({ type: "E", message: "{not json", traceback: [] });
  });
});
