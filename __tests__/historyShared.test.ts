/**
 * The history fold when one function serves several Tasks (function-sharing: by-settings):
 * status stays per Task state, also for a TaskScheduled whose chain to its state is broken,
 * where the function name alone would not say which Task it was (its payload's nodes do).
 */
import type { HistoryEvent } from "@aws-sdk/client-sfn";
import { foldHistory, nodeStatusesOf } from "../src/run/historyFold.js";
import { locationOfArn } from "../src/run/links.js";
import type { RunTask } from "../src/run/types.js";

const SHARED = "sf-shared-1024mb-0123abcd";
const TASKS: RunTask[] = [
  { stateName: "left", functionName: SHARED, nodes: ["left"] },
  { stateName: "right", functionName: SHARED, nodes: ["right"] },
];
const t0 = Date.parse("2026-12-02T07:00:00Z");
const at = (s: number): Date => new Date(t0 + s * 1000);

/** left succeeds, right fails; both TaskScheduled events point at an event the fold never saw. */
function events(): HistoryEvent[] {
  const scheduled = (id: number, node: string): HistoryEvent => ({
    id,
    previousEventId: 999_999,
    type: "TaskScheduled",
    timestamp: at(id),
    taskScheduledEventDetails: {
      resourceType: "lambda",
      resource: "invoke",
      region: "eu-west-1",
      parameters: JSON.stringify({
        FunctionName: `arn:aws:lambda:eu-west-1:123456789012:function:${SHARED}:4`,
        Payload: { nodes: [node], "run_id.$": "$.kedro_sfn.run_id" },
      }),
    },
  });
  return [
    { id: 1, previousEventId: 0, type: "ExecutionStarted", timestamp: at(0) },
    { id: 2, previousEventId: 1, type: "ParallelStateEntered", timestamp: at(1) },
    // The right Task is scheduled first: a function-name lookup would give it to whichever Task came last.
    scheduled(3, "right"),
    { id: 4, previousEventId: 3, type: "TaskStarted", timestamp: at(4) },
    scheduled(5, "left"),
    { id: 6, previousEventId: 5, type: "TaskStarted", timestamp: at(6) },
    {
      id: 7,
      previousEventId: 6,
      type: "TaskSucceeded",
      timestamp: at(7),
      taskSucceededEventDetails: {
        resourceType: "lambda",
        resource: "invoke",
        output: JSON.stringify({ Payload: { nodes: [{ name: "left", seconds: 1 }] } }),
      },
    },
    {
      id: 8,
      previousEventId: 4,
      type: "TaskFailed",
      timestamp: at(8),
      taskFailedEventDetails: {
        resourceType: "lambda",
        resource: "invoke",
        error: "ValueError",
        cause: JSON.stringify({ errorMessage: "right broke", errorType: "ValueError" }),
      },
    },
    {
      id: 9,
      previousEventId: 8,
      type: "ExecutionFailed",
      timestamp: at(9),
      executionFailedEventDetails: { error: "ValueError", cause: "right broke" },
    },
  ];
}

describe("history fold with a shared function", () => {
  test("each Task of one function gets its own status, told apart by its payload's nodes", () => {
    const runs = foldHistory(events(), TASKS).runs();
    expect(runs.map((r) => [r.stateName, r.functionName, r.status, r.attempts])).toEqual([
      ["left", SHARED, "succeeded", 1],
      ["right", SHARED, "failed", 1],
    ]);
    expect(runs[1]?.error?.message).toContain("right broke");
    const statuses = nodeStatusesOf(
      runs,
      locationOfArn("arn:aws:states:eu-west-1:123456789012:execution:sf:run-1"),
    );
    expect(statuses.map((s) => [s.node, s.task, s.status, s.taskNodes])).toEqual([
      ["left", "left", "succeeded", 1],
      ["right", "right", "failed", 1],
    ]);
  });
});
