/** AWS SDK v3 errors carry `name`, `$metadata.httpStatusCode` and `$retryable.throttling`. */
interface AwsErrorShape {
  name?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $retryable?: { throttling?: unknown };
}

const THROTTLING_NAMES = new Set([
  "ThrottlingException",
  "Throttling",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "ProvisionedThroughputExceededException",
]);

export function isThrottling(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as AwsErrorShape;
  return (
    (typeof e.name === "string" && THROTTLING_NAMES.has(e.name)) ||
    e.$metadata?.httpStatusCode === 429 ||
    e.$retryable?.throttling === true
  );
}

/** Server-side and network errors worth another try: 5xx, resets, timeouts. */
export function isTransient(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as AwsErrorShape & { code?: unknown };
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === "number" && status >= 500) return true;
  const code = typeof e.code === "string" ? e.code : typeof e.name === "string" ? e.name : "";
  return ["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "TimeoutError", "InternalServerError"].includes(
    code,
  );
}

export function errorName(error: unknown): string {
  if (typeof error === "object" && error !== null && typeof (error as { name?: unknown }).name === "string") {
    return (error as { name: string }).name;
  }
  return "Error";
}
