import type { NodeError } from "./types.js";

/** Lines of traceback kept per failure: enough to see the failing frame and the exception. */
export const TRACEBACK_TAIL_LINES = 25;
const MAX_MESSAGE_CHARS = 2000;

/** What the Lambda runtime puts in a function error's payload (the Task's `cause`). */
interface LambdaErrorPayload {
  errorType?: unknown;
  errorMessage?: unknown;
  stackTrace?: unknown;
  requestId?: unknown;
  trace?: unknown;
}

/**
 * Turns a Task failure's `error` and `cause` into a type, a message and the tail of
 * the traceback. For a Lambda function error the cause is the runtime's JSON
 * (`errorType`, `errorMessage`, `stackTrace`); for a Step Functions error
 * (`States.Timeout`, `Lambda.ServiceException`) it is plain text.
 */
export function parseTaskFailure(error: string | undefined, cause: string | undefined): NodeError {
  const payload = parseJsonObject(cause) as LambdaErrorPayload | undefined;
  if (!payload || (payload.errorType === undefined && payload.errorMessage === undefined)) {
    return { type: error || "Error", message: clip(cause ?? ""), traceback: [] };
  }
  const type =
    typeof payload.errorType === "string" && payload.errorType ? payload.errorType : error || "Error";
  const message =
    typeof payload.errorMessage === "string"
      ? payload.errorMessage
      : JSON.stringify(payload.errorMessage ?? "");
  return { type, message: clip(message), traceback: tracebackTail(payload.stackTrace ?? payload.trace) };
}

/** The Lambda request id from a failure cause or a Task's result, when there is one. */
export function requestIdOf(cause: string | undefined): string | null {
  const payload = parseJsonObject(cause);
  const id = payload?.["requestId"];
  return typeof id === "string" && id ? id : null;
}

/**
 * Python's runtime sends `stackTrace` as a list of preformatted frames
 * ("  File ..., line 3, in f\n    code\n"); other runtimes send one string per line.
 */
function tracebackTail(stack: unknown): string[] {
  let lines: string[];
  if (Array.isArray(stack)) {
    lines = stack.filter((f): f is string => typeof f === "string").flatMap((f) => f.split("\n"));
  } else if (typeof stack === "string") {
    lines = stack.split("\n");
  } else {
    return [];
  }
  lines = lines.map((l) => l.replace(/\s+$/, "")).filter((l) => l !== "");
  return lines.slice(-TRACEBACK_TAIL_LINES).map((l) => clip(l, 500));
}

export function parseJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (!text || !text.trimStart().startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function clip(text: string, max = MAX_MESSAGE_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Errors that mean the node ran out of time rather than raised. */
export function isTimeoutError(type: string): boolean {
  return type === "States.Timeout" || type === "States.HeartbeatTimeout" || /^Sandbox\.Timedout$/i.test(type);
}
