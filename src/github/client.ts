import { getOctokit } from "@actions/github";
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
export function createGitHubClient(token: string, apiUrl?: string): Octokit | null {
  if (token.trim() === "") return null;
  return getOctokit(token, apiUrl ? { baseUrl: apiUrl.replace(/\/+$/, "") } : {});
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
