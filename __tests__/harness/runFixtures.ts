/** Run reports for summary tests: built by hand, or folded from histories recorded from moto. */
import type { HistoryEvent } from "@aws-sdk/client-sfn";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunSummaryInput } from "../../src/report/summary.js";
import type { RunReport } from "../../src/run/execute.js";
import { foldHistory, nodeStatusesOf } from "../../src/run/historyFold.js";
import { locationOfArn } from "../../src/run/links.js";
import type { NodeState, PipelineTask, RunTask, TaskRun } from "../../src/run/types.js";

export const EXEC =
  "arn:aws:states:eu-west-1:123456789012:execution:spaceflights:2026-01-31T09.15.02.123Z-3f2a1b9c0d1e-run1-1";
export const T0 = Date.parse("2026-01-31T09:15:02.200Z");
export const IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/spaceflights@sha256:" + "ab".repeat(32);

export function report(runs: TaskRun[], extra: Partial<RunReport> = {}): RunReport {
  const ends = runs.map((r) => r.endMs ?? T0);
  return {
    executionArn: EXEC,
    name: "2026-01-31T09.15.02.123Z-3f2a1b9c0d1e-run1-1",
    stateMachineArn: "arn:aws:states:eu-west-1:123456789012:stateMachine:spaceflights:7",
    stateMachineVersionArn: "arn:aws:states:eu-west-1:123456789012:stateMachine:spaceflights:7",
    consoleUrl: `https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${EXEC}`,
    status: "SUCCEEDED",
    waited: true,
    waitTimedOut: false,
    startedAt: new Date(T0).toISOString(),
    stoppedAt: new Date(Math.max(T0, ...ends)).toISOString(),
    durationMs: Math.max(T0, ...ends) - T0,
    error: null,
    cause: null,
    tasks: runs,
    nodes: nodeStatusesOf(runs, locationOfArn(EXEC)),
    historyEvents: 0,
    failure: null,
    ...extra,
  };
}

export function run(
  task: RunTask,
  status: NodeState,
  startOffset: number,
  duration: number,
  extra: Partial<TaskRun> = {},
): TaskRun {
  const started = status !== "not-started";
  return {
    ...task,
    status,
    startMs: started ? T0 + startOffset : null,
    endMs: started && status !== "running" ? T0 + startOffset + duration : null,
    attempts: started ? 1 : 0,
    error: null,
    requestId: started ? `req-${task.functionName}` : null,
    logStream: null,
    nodeSeconds: null,
    ...extra,
  };
}

export const asPipeline = (tasks: RunTask[], chain = true): PipelineTask[] =>
  tasks.map((t, i) => ({ ...t, dependsOn: chain && i > 0 ? [(tasks[i - 1] as RunTask).stateName] : [] }));

export const HISTORY_FIXTURES = [
  "succeeded",
  "failed",
  "retried",
  "aborted",
  "timed-out",
  "task-timed-out",
] as const;

/** A history recorded from moto (__tests__/fixtures/history), folded into task runs. */
export function loadRecorded(name: string): { tasks: RunTask[]; runs: TaskRun[] } {
  const f = JSON.parse(
    readFileSync(join(process.cwd(), "__tests__", "fixtures", "history", `${name}.json`), "utf8"),
  ) as {
    tasks: RunTask[];
    events: (HistoryEvent & { timestamp: string })[];
  };
  const events = f.events.map((e) => ({ ...e, timestamp: new Date(e.timestamp) }));
  return { tasks: f.tasks, runs: foldHistory(events, f.tasks).runs() };
}

/** `n` nodes in 12 namespaces, each after the two before it; every `failEvery`-th fails. */
export function bigPipeline(n: number, failEvery: number, tracebackLines = 25): RunSummaryInput {
  const tasks: RunTask[] = Array.from({ length: n }, (_, i) => {
    const node = `namespace_${i % 12}.a_reasonably_long_kedro_node_name_${String(i).padStart(4, "0")}`;
    return { stateName: node, functionName: `spaceflights-namespace-${i % 12}-node-${i}`, nodes: [node] };
  });
  const runs = tasks.map((t, i) =>
    i % failEvery === failEvery - 1
      ? run(t, "failed", i * 500, 30_000, {
          error: {
            type: "ValueError",
            message: `node ${i} could not parse its input`,
            traceback: Array.from(
              { length: tracebackLines },
              (_, k) => `  File "/var/task/pkg/module_${k}.py", line ${k * 10}, in function_${k}`,
            ),
          },
        })
      : run(t, "succeeded", i * 500, 20_000),
  );
  const pipeline = tasks.map((t, i) => ({
    ...t,
    dependsOn: i >= 2 ? [(tasks[i - 1] as RunTask).stateName, (tasks[i - 2] as RunTask).stateName] : [],
  }));
  return { run: report(runs, { status: "FAILED" }), pipeline, image: IMAGE };
}
