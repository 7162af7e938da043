/** waitForExecution with aws-sdk-client-mock and a fake clock: backoff, progress, throttling, timeouts. */
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  type DescribeExecutionOutput,
  type HistoryEvent,
} from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../src/errors.js";
import type { RunTask } from "../src/run/types.js";
import { waitForExecution, type WaitOptions } from "../src/run/wait.js";

const sfnMock = mockClient(SFNClient);
const sfn = new SFNClient({ region: "us-east-1" });
const ARN = "arn:aws:states:us-east-1:123456789012:execution:spaceflights:run-1";

let clock = 0;
let sleeps: number[] = [];
let lines: string[] = [];

function options(extra: Partial<WaitOptions> = {}): WaitOptions {
  return {
    timeoutMs: 60 * 60_000,
    now: () => clock,
    sleep: (ms) => {
      sleeps.push(ms);
      clock += ms;
      return Promise.resolve();
    },
    log: (line) => lines.push(line),
    ...extra,
  };
}

function described(
  status: DescribeExecutionOutput["status"],
  extra: Partial<DescribeExecutionOutput> = {},
): DescribeExecutionOutput {
  return { executionArn: ARN, stateMachineArn: "arn:sm", status, startDate: new Date(0), ...extra };
}

const throttle = (): Error =>
  Object.assign(new Error("Rate exceeded"), {
    name: "ThrottlingException",
    $metadata: { httpStatusCode: 400 },
  });

beforeEach(() => {
  sfnMock.reset();
  clock = 1_000_000;
  sleeps = [];
  lines = [];
});

test("polls with growing intervals up to the cap and returns the final status", async () => {
  const mock = sfnMock.on(DescribeExecutionCommand);
  for (let i = 0; i < 9; i++) mock.resolvesOnce(described("RUNNING"));
  mock.resolves(described("SUCCEEDED", { stopDate: new Date(60_000) }));
  const result = await waitForExecution(sfn, ARN, options());
  expect(result).toMatchObject({ status: "SUCCEEDED", waitTimedOut: false, polls: 10, throttled: 0 });
  expect(sleeps).toEqual([2000, 3000, 4500, 6750, 10125, 15188, 20000, 20000, 20000]);
  // No progress lines asked for, nothing to say: not one line per poll.
  expect(lines).toEqual([]);
});

test("throttling slows polling down, is said once, and does not fail the wait", async () => {
  sfnMock
    .on(DescribeExecutionCommand)
    .rejectsOnce(throttle())
    .rejectsOnce(throttle())
    .rejectsOnce(throttle())
    .resolves(described("FAILED", { error: "NodeFailed" }));
  const result = await waitForExecution(sfn, ARN, options());
  expect(result).toMatchObject({ status: "FAILED", throttled: 3 });
  expect(sleeps).toEqual([4000, 8000, 16000]);
  expect(lines).toEqual([
    "DescribeExecution is throttled (ThrottlingException); polling every 4.0 s for now.",
    "DescribeExecution answers again after 3 throttled poll(s).",
  ]);
});

test("passing server errors are retried; five in a row fail with the execution named", async () => {
  const serverError = Object.assign(new Error("Internal"), {
    name: "InternalServerError",
    $metadata: { httpStatusCode: 500 },
  });
  sfnMock.on(DescribeExecutionCommand).rejectsOnce(serverError).resolves(described("SUCCEEDED"));
  await expect(waitForExecution(sfn, ARN, options())).resolves.toMatchObject({ status: "SUCCEEDED" });
  expect(lines).toEqual(["DescribeExecution failed (Internal); trying again."]);

  sfnMock.reset();
  sfnMock.on(DescribeExecutionCommand).rejects(serverError);
  await expect(waitForExecution(sfn, ARN, options())).rejects.toThrow(
    `Could not read the status of ${ARN}: Internal`,
  );
});

test("an execution that disappears is a UserError; an access error is not retried", async () => {
  sfnMock
    .on(DescribeExecutionCommand)
    .rejects(Object.assign(new Error("gone"), { name: "ExecutionDoesNotExist" }));
  const error = await waitForExecution(sfn, ARN, options()).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UserError);
  expect((error as UserError).message).toContain("does not exist any more");

  sfnMock.reset();
  sfnMock
    .on(DescribeExecutionCommand)
    .rejects(Object.assign(new Error("denied"), { name: "AccessDeniedException" }));
  await expect(waitForExecution(sfn, ARN, options())).rejects.toThrow("denied");
  expect(sfnMock.commandCalls(DescribeExecutionCommand)).toHaveLength(1);
});

test("stops waiting at the timeout, leaves the execution alone and says where to follow it", async () => {
  sfnMock.on(DescribeExecutionCommand).resolves(described("RUNNING"));
  const result = await waitForExecution(sfn, ARN, options({ timeoutMs: 60_000 }));
  expect(result).toMatchObject({ status: "RUNNING", waitTimedOut: true });
  // Never sleeps past the deadline.
  expect(sleeps.reduce((a, b) => a + b, 0)).toBe(60_000);
  expect(lines.at(-1)).toBe(
    "Stopped waiting after 1m 00s ('execution-timeout-minutes'): the execution is still RUNNING and goes on without this step. " +
      `Follow it at https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/${ARN}`,
  );
  expect(sfnMock.calls().every((c) => c.args[0] instanceof DescribeExecutionCommand)).toBe(true);
});

test("a quiet long run logs a heartbeat every five minutes, not every poll", async () => {
  sfnMock.on(DescribeExecutionCommand).resolves(described("RUNNING"));
  await waitForExecution(sfn, ARN, options({ timeoutMs: 16 * 60_000 }));
  const heartbeats = lines.filter((l) => l.startsWith("… still RUNNING"));
  expect(heartbeats).toHaveLength(3);
  expect(heartbeats[0]).toMatch(/^… still RUNNING after 5m \d\ds\.$/);
});

describe("progress from the history", () => {
  const f = JSON.parse(
    readFileSync(join(process.cwd(), "__tests__", "fixtures", "history", "failed.json"), "utf8"),
  ) as {
    tasks: RunTask[];
    events: (HistoryEvent & { timestamp: string })[];
  };
  const events: HistoryEvent[] = f.events.map((e) => ({ ...e, timestamp: new Date(e.timestamp) }));

  test("one line per finished Task, numbered in the order they ended", async () => {
    // Each poll sees a longer prefix of the recorded history, newest first as asked.
    const cuts = [3, 11, 13, 20, 25, 29, events.length];
    let poll = 0;
    sfnMock.on(DescribeExecutionCommand).callsFake(() => {
      poll++;
      return Promise.resolve(described(poll < cuts.length ? "RUNNING" : "FAILED", { error: "NodeFailed" }));
    });
    sfnMock.on(GetExecutionHistoryCommand).callsFake((input: { reverseOrder?: boolean }) => {
      expect(input.reverseOrder).toBe(true);
      return Promise.resolve({ events: events.slice(0, cuts[poll - 1]).reverse() });
    });
    const result = await waitForExecution(sfn, ARN, options({ tasks: f.tasks }));
    expect(result.status).toBe("FAILED");
    expect(lines).toEqual([
      expect.stringMatching(/^\[1\/6\] ✓ data_processing\.preprocess_companies_node succeeded in \d+ ms$/),
      expect.stringMatching(/^\[2\/6\] ✓ data_processing\.preprocess_shuttles_node succeeded in \d+ ms$/),
      expect.stringMatching(/^\[3\/6\] ✓ data_processing\.create_model_input_table_node succeeded/),
      expect.stringMatching(/^\[4\/6\] ✓ data_science\.split_data_node succeeded/),
      expect.stringMatching(
        /^\[5\/6\] ✗ data_science\.train_model_node failed in \d+ ms: ValueError: Input contains NaN, infinity or a value too large for dtype\('float64'\)\.$/,
      ),
    ]);
  });

  test("a history read that fails only costs the progress lines", async () => {
    sfnMock.on(DescribeExecutionCommand).resolvesOnce(described("RUNNING")).resolves(described("SUCCEEDED"));
    sfnMock
      .on(GetExecutionHistoryCommand)
      .rejectsOnce(
        Object.assign(new Error("boom"), { name: "InternalServerError", $metadata: { httpStatusCode: 500 } }),
      )
      .resolves({ events });
    const result = await waitForExecution(sfn, ARN, options({ tasks: f.tasks }));
    expect(result.status).toBe("SUCCEEDED");
    expect(lines[0]).toBe("Could not read the execution history for progress (boom); still waiting.");
    expect(lines.filter((l) => l.includes("✓"))).toHaveLength(4);
  });

  test("a retry in flight is announced with its attempt number", async () => {
    const retried = JSON.parse(
      readFileSync(join(process.cwd(), "__tests__", "fixtures", "history", "retried.json"), "utf8"),
    ) as {
      tasks: RunTask[];
      events: (HistoryEvent & { timestamp: string })[];
    };
    const all: HistoryEvent[] = retried.events.map((e) => ({ ...e, timestamp: new Date(e.timestamp) }));
    const secondAttempt = all.findIndex((e) => e.id === 26); // TaskStarted of attempt 2
    const cuts = [secondAttempt + 1, all.length];
    let poll = 0;
    sfnMock
      .on(DescribeExecutionCommand)
      .callsFake(() => Promise.resolve(described(++poll < cuts.length ? "RUNNING" : "SUCCEEDED")));
    sfnMock
      .on(GetExecutionHistoryCommand)
      .callsFake(() => Promise.resolve({ events: all.slice(0, cuts[poll - 1]).reverse() }));
    await waitForExecution(sfn, ARN, options({ tasks: retried.tasks }));
    expect(lines).toContain("↻ data_science.split_data_node: attempt 2 after ConnectionError: S3 went away");
    expect(lines).toContainEqual(
      expect.stringMatching(/✓ data_science\.split_data_node succeeded in .* after 2 attempts$/),
    );
  });
});
