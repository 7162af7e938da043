import type { HistoryEvent } from "@aws-sdk/client-sfn";
import { functionNameOf } from "../compile/names.js";
import { isTimeoutError, parseJsonObject, parseTaskFailure, requestIdOf } from "./failure.js";
import { cloudWatchLogsUrl, lambdaLogGroup } from "./links.js";
import { ecsLogStreamOf, parseEcsFailure } from "./ecsFailure.js";
import { ecsSkippedFrom, resumeSkipContextOf, type ResumeSkipContext } from "./ecsSkip.js";
import type {
  ExecutionStatus,
  NodeError,
  NodeState,
  NodeStatus,
  RunLocation,
  RunTask,
  TaskRun,
} from "./types.js";

type AttemptState = "scheduled" | "started" | "succeeded" | "failed" | "timed-out";

interface TaskProgress {
  task: RunTask;
  entered: boolean;
  exited: boolean;
  aborted: boolean;
  startMs: number | null;
  endMs: number | null;
  attempts: number;
  last: AttemptState | null;
  error: NodeError | null;
  requestId: string | null;
  logStream: string | null;
  nodeSeconds: Record<string, number> | null;
  /** Set when the handler answered "skipped" (a resume): the execution it succeeded in, or "". */
  skippedFrom: string | null;
}

/** What the execution-level events said. */
export interface ExecutionEvents {
  status: ExecutionStatus;
  startMs: number | null;
  stopMs: number | null;
  error: string | null;
  cause: string | null;
}

const EXECUTION_END: Partial<Record<string, ExecutionStatus>> = {
  ExecutionSucceeded: "SUCCEEDED",
  ExecutionFailed: "FAILED",
  ExecutionAborted: "ABORTED",
  ExecutionTimedOut: "TIMED_OUT",
};

/**
 * Folds history events, in id order, into one TaskRun per Task state. An event
 * belongs to the state its `previousEventId` chain leads back to (that is how
 * Step Functions threads Parallel branches); a TaskScheduled whose chain is
 * broken is matched by the function it invokes.
 */
export class HistoryFolder {
  readonly execution: ExecutionEvents = {
    status: "RUNNING",
    startMs: null,
    stopMs: null,
    error: null,
    cause: null,
  };
  private readonly byState = new Map<string, TaskProgress>();
  private readonly byFunction = new Map<string, TaskProgress>();
  private readonly stateOfEvent = new Map<number, string>();
  /** Payload.nodes -> Task state: a shared function's name does not say which Task it ran. */
  private readonly byNodes: ReadonlyMap<string, string>;
  private lastId = 0;
  /** A resume's skip list, from the execution's input: how an ECS Task's skip is known (ecsSkip.ts). */
  private resumeSkip: ResumeSkipContext | null = null;

  constructor(tasks: readonly RunTask[]) {
    for (const task of tasks) {
      const progress: TaskProgress = {
        task,
        entered: false,
        exited: false,
        aborted: false,
        startMs: null,
        endMs: null,
        attempts: 0,
        last: null,
        error: null,
        requestId: null,
        logStream: null,
        nodeSeconds: null,
        skippedFrom: null,
      };
      this.byState.set(task.stateName, progress);
      this.byFunction.set(task.functionName, progress);
    }
    this.byNodes = tasksByNodes(tasks);
  }

  /**
   * Takes the execution's end from DescribeExecution when the history does not
   * show it (yet): the two are read at different moments.
   */
  settle(status: ExecutionStatus, stopMs: number | null): void {
    if (this.execution.status !== "RUNNING" || status === "RUNNING") return;
    this.execution.status = status;
    this.execution.stopMs ??= stopMs;
  }

  /** Id of the newest event folded so far. */
  get lastEventId(): number {
    return this.lastId;
  }

  /** Folds one event; returns the Task state it changed, if any. Events already seen are ignored. */
  add(event: HistoryEvent): string | undefined {
    const id = event.id ?? 0;
    if (id !== 0 && id <= this.lastId) return undefined;
    this.lastId = Math.max(this.lastId, id);
    const type = event.type ?? "";
    const ts = event.timestamp ? new Date(event.timestamp).getTime() : null;

    if (type === "ExecutionStarted") {
      this.execution.startMs = ts;
      this.resumeSkip = resumeSkipContextOf(event.executionStartedEventDetails?.input);
    }
    const end = EXECUTION_END[type];
    if (end) {
      this.execution.status = end;
      this.execution.stopMs = ts;
      const details =
        event.executionFailedEventDetails ??
        event.executionAbortedEventDetails ??
        event.executionTimedOutEventDetails;
      this.execution.error = details?.error ?? null;
      this.execution.cause = details?.cause ?? null;
      return undefined;
    }
    if (type === "ExecutionRedriven") {
      this.execution.status = "RUNNING";
      this.execution.stopMs = null;
    }

    const state = this.stateFor(event, type);
    if (state !== undefined && id !== 0) this.stateOfEvent.set(id, state);
    const t = state === undefined ? undefined : this.byState.get(state);
    if (!t) return undefined;

    switch (type) {
      case "TaskStateEntered":
        // A redriven execution enters a failed state again: attempts keep counting.
        Object.assign(t, {
          entered: true,
          exited: false,
          aborted: false,
          startMs: ts,
          endMs: null,
          last: null,
        });
        break;
      case "TaskStateExited":
        t.exited = true;
        t.endMs = ts;
        break;
      case "TaskStateAborted":
        t.aborted = true;
        t.endMs = ts;
        break;
      case "TaskScheduled":
        t.entered = true;
        t.startMs ??= ts;
        t.attempts += 1;
        t.last = "scheduled";
        break;
      case "TaskStarted":
        t.last = "started";
        break;
      case "TaskSucceeded": {
        t.last = "succeeded";
        t.endMs = ts;
        const output = parseJsonObject(event.taskSucceededEventDetails?.output);
        t.requestId = lambdaRequestId(output) ?? t.requestId;
        t.logStream = logStreamOf(output?.["Payload"]) ?? t.logStream;
        t.nodeSeconds = nodeSecondsOf(output?.["Payload"]);
        t.skippedFrom = skippedFromOf(output?.["Payload"]);
        if (t.task.logGroup) {
          t.logStream = ecsLogStreamOf(event.taskSucceededEventDetails?.output) ?? t.logStream;
          t.skippedFrom = ecsSkippedFrom(t.task, this.resumeSkip);
        }
        break;
      }
      case "TaskFailed":
      case "TaskStartFailed":
      case "TaskSubmitFailed": {
        const details =
          event.taskFailedEventDetails ??
          event.taskStartFailedEventDetails ??
          event.taskSubmitFailedEventDetails;
        t.error = parseTaskFailure(details?.error, details?.cause);
        t.last = isTimeoutError(t.error.type) ? "timed-out" : "failed";
        t.endMs = ts;
        t.requestId = requestIdOf(details?.cause) ?? t.requestId;
        t.logStream = logStreamOf(parseJsonObject(details?.cause)) ?? t.logStream;
        if (t.task.logGroup) {
          t.error = parseEcsFailure(details?.error, details?.cause);
          t.logStream = ecsLogStreamOf(details?.cause) ?? t.logStream;
        }
        break;
      }
      case "TaskTimedOut": {
        const details = event.taskTimedOutEventDetails;
        t.error = parseTaskFailure(details?.error ?? "States.Timeout", details?.cause);
        t.last = "timed-out";
        t.endMs = ts;
        break;
      }
      default:
        return undefined;
    }
    return t.task.stateName;
  }

  private stateFor(event: HistoryEvent, type: string): string | undefined {
    if (type.endsWith("StateEntered")) return event.stateEnteredEventDetails?.name;
    if (type.endsWith("StateExited")) return event.stateExitedEventDetails?.name;
    const previous = event.previousEventId ? this.stateOfEvent.get(event.previousEventId) : undefined;
    if (previous !== undefined || type !== "TaskScheduled") return previous;
    const parameters = parseJsonObject(event.taskScheduledEventDetails?.parameters);
    const byNodes = scheduledTaskByNodes(parameters, this.byNodes);
    if (byNodes !== undefined) return byNodes;
    const fn = parameters?.["FunctionName"];
    return typeof fn === "string" ? this.byFunction.get(functionNameOf(fn))?.task.stateName : undefined;
  }

  /** The run of one Task state as it stands, given the execution's status. */
  run(stateName: string): TaskRun | undefined {
    const t = this.byState.get(stateName);
    return t ? this.toRun(t) : undefined;
  }

  /** Every Task, in the order they were given. */
  runs(): TaskRun[] {
    return [...this.byState.values()].map((t) => this.toRun(t));
  }

  private toRun(t: TaskProgress): TaskRun {
    const status = taskStatus(t, this.execution.status);
    const endMs = status === "running" ? null : (t.endMs ?? this.execution.stopMs);
    return {
      stateName: t.task.stateName,
      functionName: t.task.functionName,
      nodes: t.task.nodes,
      status,
      startMs: t.entered ? t.startMs : null,
      endMs: t.entered ? endMs : null,
      attempts: t.attempts,
      error: t.error,
      requestId: t.requestId,
      logStream: t.logStream,
      nodeSeconds: t.nodeSeconds,
      ...(status === "skipped" ? { skippedFrom: t.skippedFrom ?? "" } : {}),
      ...(t.task.logGroup ? { logGroup: t.task.logGroup } : {}),
    };
  }
}

function taskStatus(t: TaskProgress, execution: ExecutionStatus): NodeState {
  if (!t.entered) return "not-started";
  if (t.aborted) return "aborted";
  if (t.last === "succeeded") {
    if (t.skippedFrom !== null) return "skipped";
    return t.attempts > 1 ? "retried" : "succeeded";
  }
  if (t.exited) {
    if (t.last === "failed" || t.last === "timed-out") return t.last;
    return "succeeded";
  }
  // Still open: a failed attempt may yet be retried, so the execution's state decides.
  switch (execution) {
    case "RUNNING":
    case "PENDING_REDRIVE":
      return "running";
    case "TIMED_OUT":
      return "timed-out";
    case "ABORTED":
      return "aborted";
    default:
      // A failure that no Catch handled ends the execution with this Task open;
      // a Task in flight in another branch is cancelled with it.
      return t.last === "failed" || t.last === "timed-out" ? t.last : "aborted";
  }
}

function lambdaRequestId(output: Record<string, unknown> | undefined): string | null {
  const metadata = output?.["SdkResponseMetadata"];
  if (typeof metadata === "object" && metadata !== null) {
    const id = (metadata as Record<string, unknown>)["RequestId"];
    if (typeof id === "string" && id) return id;
  }
  return null;
}

/** The handler may report where it logged (`log_stream_name`, as the Lambda context calls it). */
function logStreamOf(value: unknown): string | null {
  if (typeof value !== "object" || value === null) return null;
  const record = value as Record<string, unknown>;
  for (const key of ["log_stream_name", "logStreamName", "log_stream"]) {
    const v = record[key];
    if (typeof v === "string" && v) return v;
  }
  return null;
}

/** The handler's result lists `nodes: [{name, seconds}]`: each node's own time inside a grouped Task. */
function nodeSecondsOf(payload: unknown): Record<string, number> | null {
  if (typeof payload !== "object" || payload === null) return null;
  const nodes = (payload as Record<string, unknown>)["nodes"];
  if (!Array.isArray(nodes)) return null;
  const seconds: Record<string, number> = {};
  for (const entry of nodes) {
    if (typeof entry !== "object" || entry === null) continue;
    const { name, seconds: s } = entry as Record<string, unknown>;
    if (typeof name === "string" && typeof s === "number" && Number.isFinite(s) && s >= 0) seconds[name] = s;
  }
  return Object.keys(seconds).length > 0 ? seconds : null;
}

/** The handler answers a resume's skipped Task with `skipped: {reason, execution}` (python/kedro_sfn/resume.py). */
function skippedFromOf(payload: unknown): string | null {
  if (typeof payload !== "object" || payload === null) return null;
  const skipped = (payload as Record<string, unknown>)["skipped"];
  if (typeof skipped !== "object" || skipped === null) return null;
  const execution = (skipped as Record<string, unknown>)["execution"];
  return typeof execution === "string" ? execution : "";
}

/** Folds a whole history. */
export function foldHistory(events: readonly HistoryEvent[], tasks: readonly RunTask[]): HistoryFolder {
  const folder = new HistoryFolder(tasks);
  const ordered = [...events].sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
  for (const event of ordered) folder.add(event);
  return folder;
}

/** One status per Kedro node: every node of a Task shares the Task's status. */
export function nodeStatusesOf(runs: readonly TaskRun[], location: RunLocation): NodeStatus[] {
  return runs.flatMap((run) => {
    const logUrl =
      run.startMs === null
        ? null
        : cloudWatchLogsUrl(location, {
            logGroup: run.logGroup ?? lambdaLogGroup(run.functionName),
            logStream: run.logStream,
            filter: run.requestId,
            startMs: run.startMs,
            endMs: run.endMs,
          });
    return run.nodes.map((node): NodeStatus => ({
      node,
      task: run.stateName,
      functionName: run.functionName,
      taskNodes: run.nodes.length,
      status: run.status,
      startedAt: run.startMs === null ? null : new Date(run.startMs).toISOString(),
      durationMs: nodeDuration(run, node),
      attempts: run.attempts,
      error: run.error,
      logUrl,
      ...(run.skippedFrom !== undefined ? { skippedFrom: run.skippedFrom } : {}),
    }));
  });
}

function nodeDuration(run: TaskRun, node: string): number | null {
  const own = run.nodes.length > 1 ? run.nodeSeconds?.[node] : undefined;
  if (own !== undefined) return Math.round(own * 1000);
  return run.startMs !== null && run.endMs !== null ? run.endMs - run.startMs : null;
}

/**
 * Shared functions (function-sharing: by-settings): several Tasks invoke one function, so a
 * TaskScheduled event not linked to its state is told apart by the nodes its payload names.
 */
function tasksByNodes(tasks: readonly RunTask[]): Map<string, string> {
  return new Map(tasks.map((task) => [task.nodes.join("\n"), task.stateName]));
}

function scheduledTaskByNodes(
  parameters: Record<string, unknown> | null | undefined,
  byNodes: ReadonlyMap<string, string>,
): string | undefined {
  const nodes = (parameters?.["Payload"] as { nodes?: unknown } | undefined)?.nodes;
  if (!Array.isArray(nodes) || !nodes.every((n) => typeof n === "string")) return undefined;
  return byNodes.get(nodes.join("\n"));
}
