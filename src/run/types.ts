/** Plain data of the run stage: what an execution did, per Task state and per Kedro node. */

/** Step Functions execution statuses, as DescribeExecution returns them. */
export type ExecutionStatus =
  "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED" | "PENDING_REDRIVE";

/**
 * What happened to one Task (and so to every Kedro node it runs).
 * `retried` means it succeeded after more than one attempt; `aborted` means the
 * execution stopped (or a sibling branch failed) while it was still running.
 */
export type NodeState =
  | "succeeded"
  | "retried"
  | "failed"
  | "timed-out"
  | "aborted"
  | "running"
  | "not-started"
  /** A resume did not run it: it succeeded in the execution resumed (`skippedFrom`). */
  | "skipped";

/** The part of a FunctionSpec the run stage needs: a FunctionSpec[] fits as is. */
export interface RunTask {
  /** Task state name in the state machine. */
  stateName: string;
  /** Lambda function name (its CloudWatch log group is /aws/lambda/<name>). */
  functionName: string;
  /** Kedro node names the Task runs, in order. */
  nodes: string[];
  /** Set for a Task run on ECS: its tasks' CloudWatch log group (else /aws/lambda/<functionName>). */
  logGroup?: string;
}

/** A Task with the Tasks it waits for: what the pipeline flowchart draws. */
export interface PipelineTask extends RunTask {
  /** State names of the Tasks that must finish first. */
  dependsOn: string[];
}

export interface NodeError {
  /** The Lambda error type (`ValueError`) or the Step Functions error (`States.Timeout`). */
  type: string;
  message: string;
  /** The last lines of the Python traceback from the cause; empty when there is none. */
  traceback: string[];
}

/** How one Task ran, folded from the execution history. */
export interface TaskRun {
  stateName: string;
  functionName: string;
  nodes: string[];
  status: NodeState;
  /** Epoch ms the state was (last) entered; null when not started. */
  startMs: number | null;
  /** Epoch ms it finished; null while running or not started. */
  endMs: number | null;
  /** Lambda invocations scheduled (retries included). */
  attempts: number;
  /** The last failure, also set on a task that succeeded after retries. */
  error: NodeError | null;
  /** Lambda request id of the last attempt, when the history shows it. */
  requestId: string | null;
  /** CloudWatch log stream of the last attempt, when the handler reports it. */
  logStream: string | null;
  /** Seconds each node took inside the Task, when the handler reports them (`nodes: [{name, seconds}]`). */
  nodeSeconds: Record<string, number> | null;
  /** Status `skipped`: the execution (ARN) the resume skipped it for, as the handler reported it. */
  skippedFrom?: string;
  /** Set for a Task run on ECS (see RunTask). */
  logGroup?: string;
}

/** One entry of the `node-statuses` output: one per Kedro node. */
export interface NodeStatus {
  node: string;
  /** Task state that runs the node. */
  task: string;
  functionName: string;
  /** Nodes that run in the same Lambda invocation (this one included): they share the status below. */
  taskNodes: number;
  status: NodeState;
  /** ISO 8601 start of the Task; null when not started. */
  startedAt: string | null;
  /** The node's own time when the handler reported it, else the Task's. */
  durationMs: number | null;
  attempts: number;
  error: NodeError | null;
  /** CloudWatch Logs console link for the node's Lambda (the stream when known, else the group filtered). */
  logUrl: string | null;
  /** Status `skipped`: the execution it succeeded in (see TaskRun). */
  skippedFrom?: string;
}

/** What a resumed run's summary says about the execution it resumes (src/run/resume.ts). */
export interface ResumedFrom {
  executionArn: string;
  name: string;
  consoleUrl: string;
  /** The first run's id, kept by the resume: datasets are read and saved under it. */
  runId: string;
  /** Nodes skipped because they succeeded there. */
  skipped: string[];
  /** Nodes run again. */
  rerun: string[];
}

/** Where the run happened, for console links. */
export interface RunLocation {
  region: string;
  accountId: string;
  partition: string;
}
