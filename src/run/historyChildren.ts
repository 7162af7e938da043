import type { HistoryEvent } from "@aws-sdk/client-sfn";
import { parseJsonObject } from "./failure.js";
import { foldHistory, type ExecutionEvents } from "./historyFold.js";
import type { ExecutionStatus, RunTask, TaskRun } from "./types.js";

/**
 * The child executions a split pipeline's parent started, in the order it started them. A
 * `startExecution.sync:2` Task's TaskSubmitted output is StartExecution's answer (ExecutionArn);
 * its TaskSucceeded output and its TaskFailed cause are the child's DescribeExecution
 * (executionArn): whichever the history holds names the child.
 */
export function childExecutionArns(events: readonly HistoryEvent[]): string[] {
  const arns: string[] = [];
  const add = (value: unknown): void => {
    if (typeof value === "string" && value.includes(":execution:") && !arns.includes(value)) arns.push(value);
  };
  for (const event of [...events].sort((a, b) => (a.id ?? 0) - (b.id ?? 0))) {
    if (event.taskSubmittedEventDetails?.resourceType === "states") {
      const output = parseJsonObject(event.taskSubmittedEventDetails.output);
      add(output?.["ExecutionArn"] ?? output?.["executionArn"]);
    } else if (event.taskSucceededEventDetails?.resourceType === "states") {
      add(parseJsonObject(event.taskSucceededEventDetails.output)?.["ExecutionArn"]);
      add(parseJsonObject(event.taskSucceededEventDetails.output)?.["executionArn"]);
    } else if (event.taskFailedEventDetails?.resourceType === "states") {
      add(parseJsonObject(event.taskFailedEventDetails.cause)?.["ExecutionArn"]);
      add(parseJsonObject(event.taskFailedEventDetails.cause)?.["executionArn"]);
    }
  }
  return arns;
}

/**
 * One run per Task across the children's histories: a Task is in exactly one child, so the
 * child where it was entered has its run; a Task no child entered stays not started. The
 * execution's error is the failed child's (the node's error), not the parent's States.TaskFailed
 * wrapper around it.
 */
export function foldChildren(
  children: readonly (readonly HistoryEvent[])[],
  tasks: readonly RunTask[],
  parent: ExecutionEvents,
): { runs: TaskRun[]; error: string | null; cause: string | null } {
  const folders = children.map((events) => {
    const folder = foldHistory(events, tasks);
    // A child still open when the parent ended was stopped with it.
    if (parent.status !== "RUNNING") folder.settle(childEnd(parent.status), parent.stopMs);
    return folder;
  });
  const all = folders.map((f) => f.runs());
  const runs = tasks.map((_, i) => {
    for (const childRuns of all) {
      const run = childRuns[i] as TaskRun;
      if (run.status !== "not-started") return run;
    }
    return (all[0]?.[i] ?? null) as TaskRun;
  });
  const failed = folders.find((f) => f.execution.status === "FAILED" && f.execution.error !== null);
  return { runs, error: failed?.execution.error ?? null, cause: failed?.execution.cause ?? null };
}

function childEnd(parent: ExecutionStatus): ExecutionStatus {
  return parent === "SUCCEEDED" ? "SUCCEEDED" : parent === "FAILED" ? "ABORTED" : parent;
}
