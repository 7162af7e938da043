import { setTimeout as sleep } from "node:timers/promises";

/** How an HTTP client retries what the other side may answer next time (429, 5xx, a reset). */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** The first wait; each next one doubles, with jitter, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  sleep: (ms: number) => Promise<void>;
}

export const DEFAULT_HTTP_RETRY: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  sleep: (ms) => sleep(ms),
};

/**
 * The wait before attempt `attempt + 1` (attempt counts from 1): the server's Retry-After when it
 * gives one (capped), else full jitter over an exponential backoff.
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number, retryAfter?: string | null): number {
  const seconds = retryAfter ? Number(retryAfter) : Number.NaN;
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, policy.maxDelayMs);
  const ceiling = Math.min(policy.baseDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** Statuses worth another attempt: rate limits and server errors that are not the request's fault. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

const RETRYABLE_CODES = new Set([
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "ECONNABORTED",
]);

/** A connection reset or timeout (not a refused connection: a wrong host or port stays wrong). */
export function isRetryableNetworkError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && RETRYABLE_CODES.has(code)) return true;
    if (e instanceof Error && /other side closed|socket hang up/i.test(e.message)) return true;
  }
  return false;
}
