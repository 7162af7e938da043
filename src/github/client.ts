import { getOctokit } from "@actions/github";
import {
  DEFAULT_HTTP_RETRY,
  isRetryableNetworkError,
  isRetryableStatus,
  retryDelayMs,
  type RetryPolicy,
} from "../backoff.js";
import { errorMessage } from "../errors.js";

/** The Octokit of @actions/github (REST methods and pagination). */
export type Octokit = ReturnType<typeof getOctokit>;

export interface RepoRef {
  owner: string;
  repo: string;
}

/** Where GitHub helpers report progress; the action passes core.info, tests an array push. */
export type Log = (line: string) => void;

/**
 * An Octokit for `token` against `apiUrl` (GITHUB_API_URL on a runner, a fake in
 * tests), or null without a token: callers then skip GitHub with a warning.
 */
export function createGitHubClient(
  token: string,
  apiUrl?: string,
  retry: RetryPolicy = DEFAULT_HTTP_RETRY,
): Octokit | null {
  if (token.trim() === "") return null;
  // Not @octokit/plugin-retry and -throttling (not installed): the same idea in one hook.
  return getOctokit(token, apiUrl ? { baseUrl: apiUrl.replace(/\/+$/, "") } : {}, retryPlugin(retry));
}

type OctokitPlugin = Parameters<typeof getOctokit>[2];

/**
 * Retries rate limits (429, and 403 with retry-after or an exhausted x-ratelimit-remaining:
 * GitHub's secondary limits), server errors and connection resets, with backoff; waits for the
 * reset GitHub names, up to the policy's longest wait. Other answers go straight to the caller.
 */
export function retryPlugin(policy: RetryPolicy): NonNullable<OctokitPlugin> {
  return (octokit) => {
    octokit.hook.wrap("request", async (request, options) => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await request(options);
        } catch (error) {
          const wait = attempt < policy.attempts ? retryWait(error, policy, attempt) : null;
          if (wait === null) throw error;
          await policy.sleep(wait);
        }
      }
    });
  };
}

/** Milliseconds to wait before trying again, or null when another attempt would not help. */
function retryWait(error: unknown, policy: RetryPolicy, attempt: number): number | null {
  const status = httpStatus(error);
  if (status === undefined) return isRetryableNetworkError(error) ? retryDelayMs(policy, attempt) : null;
  const headers =
    (error as { response?: { headers?: Record<string, string | undefined> } }).response?.headers ?? {};
  const retryAfter = headers["retry-after"];
  if (status === 403 || status === 429) {
    if (retryAfter) return retryDelayMs(policy, attempt, retryAfter);
    const reset = Number(headers["x-ratelimit-reset"]);
    if (headers["x-ratelimit-remaining"] === "0" && Number.isFinite(reset)) {
      return Math.min(Math.max(reset * 1000 - Date.now(), 0) + 1000, policy.maxDelayMs);
    }
    return status === 429 ? retryDelayMs(policy, attempt) : null;
  }
  return isRetryableStatus(status) ? retryDelayMs(policy, attempt, retryAfter) : null;
}

/** The HTTP status of an Octokit RequestError, if it is one. */
export function httpStatus(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : undefined;
}

/** "403 Resource not accessible by integration" rather than a stack. */
export function describeGitHubError(error: unknown): string {
  const status = httpStatus(error);
  const message = errorMessage(error).split(" - ")[0] ?? "";
  return status === undefined ? message : `${status} ${message}`;
}
