import type { DescribeExecutionOutput, SFNClient } from "@aws-sdk/client-sfn";
import { Output } from "../constants.js";
import { errorMessage } from "../errors.js";
import { logName } from "../report/escape.js";
import { formatDuration } from "./duration.js";
import { readNodeStatuses, type ExecutionHistory } from "./history.js";
import { executionConsoleUrl, locationOfArn } from "./links.js";
import { withParams } from "./params.js";
import { startExecution, type StartedExecution } from "./start.js";
import type { ExecutionStatus, NodeStatus, ResumedFrom, RunTask, TaskRun } from "./types.js";
import { waitForExecution } from "./wait.js";

export type FailureReason =
  "execution-failed" | "execution-timed-out" | "execution-aborted" | "wait-timed-out" | "execution-mismatch";

export interface ExecuteRequest {
  /** The version ARN just published (or a state machine ARN). */
  stateMachineArn: string;
  name: string;
  /** JSON text of the execution input. */
  input: string;
  wait: boolean;
  timeoutMs: number;
  /** The deployed Tasks (FunctionSpec[] fits): history events map to Kedro nodes through them. */
  tasks: readonly RunTask[];
  failOnExecutionFailure: boolean;
  /** Started through an alias (`stateMachineArn`): the version it should route to, checked as a version ARN is. */
  versionArn?: string | null;
}

export interface RunDeps {
  log: (line: string) => void;
  warn: (line: string) => void;
  sleep: (ms: number) => Promise<void>;
  /** Epoch ms. */
  now: () => number;
  /** Poll tuning for tests; defaults suit real executions. */
  pollMs?: number;
  maxPollMs?: number;
}

/** Everything the outputs, the job summary and the terminal table need about one execution. */
export interface RunReport {
  executionArn: string;
  name: string;
  stateMachineArn: string;
  /** Version the execution runs, when it started a version. */
  stateMachineVersionArn: string | null;
  consoleUrl: string;
  /** The last status seen: RUNNING when not waited for or the wait timed out. */
  status: ExecutionStatus;
  waited: boolean;
  waitTimedOut: boolean;
  startedAt: string;
  stoppedAt: string | null;
  durationMs: number | null;
  /** Execution-level error and cause (from DescribeExecution or the history). */
  error: string | null;
  cause: string | null;
  /** Empty when the history could not be read or the execution was not waited for. */
  tasks: TaskRun[];
  nodes: NodeStatus[];
  historyEvents: number;
  /** Set when the step must fail. */
  failure: { reason: FailureReason; message: string } | null;
  /** Set when this execution resumes a failed one (src/run/resume.ts). */
  resumedFrom?: ResumedFrom;
}

/** Start -> wait -> history -> per-node status -> verdict. Throws only when the start fails. */
export async function executePipeline(
  sfn: SFNClient,
  request: ExecuteRequest,
  deps: RunDeps,
): Promise<RunReport> {
  const started = await startExecution(sfn, {
    stateMachineArn: request.stateMachineArn,
    name: request.name,
    input: withParams(request.input),
  });
  const consoleUrl = executionConsoleUrl(started.executionArn);
  deps.log(`Started execution ${started.name}: ${consoleUrl}`);

  const report: RunReport = {
    executionArn: started.executionArn,
    name: started.name,
    stateMachineArn: request.stateMachineArn,
    stateMachineVersionArn:
      request.versionArn ?? (isVersionArn(request.stateMachineArn) ? request.stateMachineArn : null),
    consoleUrl,
    status: "RUNNING",
    waited: request.wait,
    waitTimedOut: false,
    startedAt: started.startDate.toISOString(),
    stoppedAt: null,
    durationMs: null,
    error: null,
    cause: null,
    tasks: [],
    nodes: [],
    historyEvents: 0,
    failure: null,
  };
  if (!request.wait) return report;

  const waited = await waitForExecution(sfn, started.executionArn, {
    timeoutMs: request.timeoutMs,
    sleep: deps.sleep,
    now: deps.now,
    log: deps.log,
    tasks: request.tasks,
    ...(deps.pollMs !== undefined ? { pollMs: deps.pollMs } : {}),
    ...(deps.maxPollMs !== undefined ? { maxPollMs: deps.maxPollMs } : {}),
  });
  const description = waited.description;
  report.status = waited.status;
  report.waitTimedOut = waited.waitTimedOut;
  report.stoppedAt = description.stopDate ? description.stopDate.toISOString() : null;
  report.durationMs = description.stopDate
    ? description.stopDate.getTime() - started.startDate.getTime()
    : null;
  report.error = description.error ?? null;
  report.cause = description.cause ?? null;
  if (description.stateMachineVersionArn) report.stateMachineVersionArn = description.stateMachineVersionArn;

  let history: ExecutionHistory | undefined;
  try {
    history = await readNodeStatuses(sfn, started.executionArn, request.tasks, {
      location: locationOfArn(started.executionArn),
      settled: {
        status: report.status,
        stopMs: description.stopDate ? description.stopDate.getTime() : null,
      },
    });
  } catch (error) {
    deps.warn(`Could not read the execution history, so per-node status is missing: ${errorMessage(error)}`);
  }
  if (history) {
    report.tasks = history.tasks;
    report.nodes = history.nodes;
    report.historyEvents = history.eventCount;
    report.error ??= history.execution.error;
    report.cause ??= history.execution.cause;
  }

  const expected = request.versionArn ? { ...started, stateMachineArn: request.versionArn } : started;
  const mismatch = report.status === "SUCCEEDED" ? identityProblem(description, expected) : null;
  report.failure = verdict(report, request.failOnExecutionFailure, mismatch);
  deps.log(headline(report));
  if (report.failure && !request.failOnExecutionFailure) deps.warn(report.failure.message);
  if (!report.failure && report.status !== "SUCCEEDED" && report.status !== "RUNNING") {
    deps.warn(
      `The execution ended ${report.status}; 'fail-on-execution-failure' is false, so the step goes on.`,
    );
  }
  return report;
}

/** `arn:aws:states:r:a:stateMachine:NAME:7` is a version; without the number it is the machine. */
export function isVersionArn(arn: string): boolean {
  return /:stateMachine:[^:]+:\d+$/.test(arn);
}

/**
 * A succeeded execution only counts if it is ours: same ARN, same start (a
 * StartExecution that found an older execution of the same name would return
 * that one's date) and the version we deployed.
 */
export function identityProblem(
  description: DescribeExecutionOutput,
  started: StartedExecution,
): string | null {
  if (description.executionArn && description.executionArn !== started.executionArn) {
    return `DescribeExecution answered for ${description.executionArn}, not ${started.executionArn}.`;
  }
  if (
    description.startDate &&
    Math.abs(description.startDate.getTime() - started.startDate.getTime()) > 1000
  ) {
    return `The execution named ${started.name} started at ${description.startDate.toISOString()}, before this step started it (${started.startDate.toISOString()}).`;
  }
  if (isVersionArn(started.stateMachineArn) && description.stateMachineVersionArn !== undefined) {
    if (description.stateMachineVersionArn !== started.stateMachineArn) {
      return `The execution ran ${description.stateMachineVersionArn}, not the version just deployed (${started.stateMachineArn}).`;
    }
  }
  return null;
}

function verdict(report: RunReport, failOnFailure: boolean, mismatch: string | null): RunReport["failure"] {
  if (mismatch) {
    return {
      reason: "execution-mismatch",
      message: `The succeeded execution is not the one this step started: ${mismatch}`,
    };
  }
  if (!failOnFailure) return null;
  const failed = failedNodesText(report.tasks);
  switch (report.status) {
    case "FAILED":
      return {
        reason: "execution-failed",
        message: `The execution failed${failed ? `: ${failed}` : report.error ? `: ${report.error}` : ""}. See ${report.consoleUrl}`,
      };
    case "TIMED_OUT":
      return {
        reason: "execution-timed-out",
        message: `The execution timed out (the state machine's TimeoutSeconds)${runningText(report.tasks)}. See ${report.consoleUrl}`,
      };
    case "ABORTED":
      return {
        reason: "execution-aborted",
        message:
          `The execution was stopped by someone else while this step waited` +
          `${report.error || report.cause ? ` (${[report.error, report.cause].filter(Boolean).join(": ")})` : ""}. ` +
          `See ${report.consoleUrl}`,
      };
    default:
      if (report.waitTimedOut) {
        return {
          reason: "wait-timed-out",
          message:
            `The execution was still ${report.status} when the step stopped waiting, so its result is unknown. ` +
            `Raise 'execution-timeout-minutes' or set 'wait-for-execution: false'. See ${report.consoleUrl}`,
        };
      }
      return null;
  }
}

function failedNodesText(tasks: readonly TaskRun[]): string {
  const failed = tasks.filter((t) => t.status === "failed" || t.status === "timed-out");
  if (failed.length === 0) return "";
  const first = failed[0] as TaskRun;
  const what = first.nodes.map(logName).join(", ");
  const why = first.error
    ? ` (${logName(first.error.type)}: ${logName(first.error.message.split(/\r\n|\r|\n/, 1)[0] ?? "")})`
    : "";
  const more = failed.length > 1 ? ` and ${failed.length - 1} more task(s)` : "";
  return `${first.status === "timed-out" ? "timed out" : "failed"} in ${what}${why}${more}`;
}

function runningText(tasks: readonly TaskRun[]): string {
  const cut = tasks.filter((t) => t.status === "timed-out" || t.status === "aborted").flatMap((t) => t.nodes);
  if (cut.length === 0) return "";
  return `; cut short: ${cut.slice(0, 5).map(logName).join(", ")}${cut.length > 5 ? ` and ${cut.length - 5} more` : ""}`;
}

function headline(report: RunReport): string {
  const took = report.durationMs !== null ? ` in ${formatDuration(report.durationMs)}` : "";
  const counts = new Map<string, number>();
  for (const t of report.tasks) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
  const tally = [...counts].map(([status, n]) => `${n} ${status}`).join(", ");
  return `Execution ${report.status}${took}${tally ? ` (tasks: ${tally})` : ""}.`;
}

/** The action outputs of a run, for main.ts to set. */
export function executionOutputs(report: RunReport): [Output, string][] {
  const outputs: [Output, string][] = [
    [Output.ExecutionArn, report.executionArn],
    [Output.ExecutionStatus, report.status],
    [Output.NodeStatuses, JSON.stringify(report.nodes)],
  ];
  if (report.failure) outputs.push([Output.FailureReason, report.failure.reason]);
  return outputs;
}
