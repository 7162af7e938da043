/**
 * How an ECS Task's history reads. A `.sync` Task that failed carries the stopped task's
 * description (PascalCase, as Step Functions writes it) in its cause; the node's own error is the
 * last line the container wrote (python/kedro_sfn/ecs_entry.py), in the task's awslogs stream.
 */
import { ECS_CONTAINER_NAME } from "../compile/ecs.js";
import { ecsLogStream } from "../plan/taskDefinitions.js";
import { parseTaskFailure } from "./failure.js";
import type { NodeError } from "./types.js";

/** The task description inside a cause or an output (embedded in a longer message, locally). */
function taskDescription(text: string | undefined): Record<string, unknown> | null {
  if (!text) return null;
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  if (start < 0 || end <= start) return null;
  try {
    const parsed: unknown = JSON.parse(text.slice(start, end + 1));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** The log stream of the task a Task's output or failure cause describes. */
export function ecsLogStreamOf(text: string | undefined): string | null {
  const arn = taskDescription(text)?.["TaskArn"];
  return typeof arn === "string" && arn ? ecsLogStream(arn) : null;
}

/** "container kedro exited with code 1 (Essential container in task exited)", or the cause as is. */
export function parseEcsFailure(error: string | undefined, cause: string | undefined): NodeError {
  const task = taskDescription(cause);
  if (!task || typeof task["TaskArn"] !== "string") return parseTaskFailure(error, cause);
  const containers = Array.isArray(task["Containers"])
    ? (task["Containers"] as Record<string, unknown>[])
    : [];
  const container = containers.find((c) => c["Name"] === ECS_CONTAINER_NAME) ?? containers[0];
  const exit = container?.["ExitCode"];
  const reason = [task["StoppedReason"], container?.["Reason"]]
    .filter((r) => typeof r === "string" && r)
    .join("; ");
  const what =
    typeof exit === "number"
      ? `ECS task stopped: container ${ECS_CONTAINER_NAME} exited with code ${exit}`
      : `ECS task stopped before its container ran`;
  return {
    type: error || "States.TaskFailed",
    message: `${what}${reason ? ` (${reason})` : ""}; the node's error is at the end of the task's log.`,
    traceback: [],
  };
}

/** The node's error from the last lines of its task's log: the entry's `{errorType, errorMessage}` line. */
export function nodeErrorFromLog(lines: readonly string[], stopped: NodeError): NodeError {
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const line = (lines[i] ?? "").trim();
    if (!line.startsWith("{")) continue;
    try {
      const parsed = JSON.parse(line) as { errorType?: unknown; errorMessage?: unknown };
      if (typeof parsed.errorType === "string" && typeof parsed.errorMessage === "string") {
        const traceback = lines.slice(Math.max(0, i - 12), i).map((l) => l.trimEnd());
        return { type: parsed.errorType, message: parsed.errorMessage, traceback };
      }
    } catch {
      // Not the entry's error line: keep looking.
    }
  }
  return stopped;
}
