import { readFileSync } from "node:fs";
import { errorMessage } from "../errors.js";
import type { RepoRef } from "./client.js";

export const PULL_REQUEST_EVENTS = ["pull_request", "pull_request_target"] as const;

export interface PullRequestInfo {
  number: number;
  /** owner/name of the head and base repositories; head is null when the fork was deleted. */
  headRepo: string | null;
  baseRepo: string | null;
  /** Head in another repository (or unknown): the token is read-only and the code untrusted. */
  isFork: boolean;
  headSha: string | null;
}

/** What the run is about, read from the runner's environment and event payload. */
export interface EventContext {
  /** GITHUB_EVENT_NAME; "" outside Actions (the command line). */
  eventName: string;
  repo: RepoRef | null;
  sha: string;
  ref: string;
  /** GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT; "" outside Actions. They name the execution. */
  runId: string;
  runAttempt: string;
  /** Set on pull_request and pull_request_target events that carry a number. */
  pullRequest: PullRequestInfo | null;
  /** The run's page, which shows the job summary. */
  runUrl: string | undefined;
  apiUrl: string;
  /** Things the action could not read; the run goes on without them. */
  warnings: string[];
}

type Env = Record<string, string | undefined>;

export function isPullRequestEvent(eventName: string): boolean {
  return (PULL_REQUEST_EVENTS as readonly string[]).includes(eventName);
}

/** Reads GITHUB_* variables and the payload at GITHUB_EVENT_PATH; never throws. */
export function readEventContext(
  env: Env,
  readFile: (path: string) => string = (p) => readFileSync(p, "utf8"),
): EventContext {
  const warnings: string[] = [];
  const eventName = env["GITHUB_EVENT_NAME"] ?? "";
  const [owner, name] = (env["GITHUB_REPOSITORY"] ?? "").split("/");
  const repo = owner && name ? { owner, repo: name } : null;
  const server = (env["GITHUB_SERVER_URL"] ?? "https://github.com").replace(/\/+$/, "");
  const runId = env["GITHUB_RUN_ID"];
  const attempt = env["GITHUB_RUN_ATTEMPT"];
  const runUrl =
    repo && runId
      ? `${server}/${repo.owner}/${repo.repo}/actions/runs/${runId}${attempt && attempt !== "1" ? `/attempts/${attempt}` : ""}`
      : undefined;

  let payload: Record<string, unknown> = {};
  const path = env["GITHUB_EVENT_PATH"];
  if (path) {
    try {
      const parsed: unknown = JSON.parse(readFile(path));
      if (typeof parsed === "object" && parsed !== null) payload = parsed as Record<string, unknown>;
    } catch (error) {
      warnings.push(`Could not read the event payload ${path}: ${errorMessage(error)}.`);
    }
  }

  let pullRequest: PullRequestInfo | null = null;
  if (isPullRequestEvent(eventName)) {
    pullRequest = readPullRequest(payload);
    if (pullRequest === null) {
      warnings.push(
        `The ${eventName} event has no pull request number in its payload: no plan comment will be written (the plan is in the job summary).`,
      );
    }
  }
  return {
    eventName,
    repo,
    sha: env["GITHUB_SHA"] ?? "",
    ref: env["GITHUB_REF"] ?? "",
    runId: runId ?? "",
    runAttempt: attempt ?? "",
    pullRequest,
    runUrl,
    apiUrl: env["GITHUB_API_URL"] ?? "https://api.github.com",
    warnings,
  };
}

function readPullRequest(payload: Record<string, unknown>): PullRequestInfo | null {
  const pr = asObject(payload["pull_request"]);
  const number = pr?.["number"] ?? payload["number"];
  if (typeof number !== "number" || !Number.isInteger(number) || number <= 0) return null;
  const head = asObject(pr?.["head"]);
  const base = asObject(pr?.["base"]);
  const headRepo = asObject(head?.["repo"]);
  const baseRepo = asObject(base?.["repo"]) ?? asObject(payload["repository"]);
  const headName = typeof headRepo?.["full_name"] === "string" ? headRepo["full_name"] : null;
  const baseName = typeof baseRepo?.["full_name"] === "string" ? baseRepo["full_name"] : null;
  const headId = headRepo?.["id"];
  const baseId = baseRepo?.["id"];
  // Repository ids survive renames; names are the fallback. Unknown counts as a fork.
  const sameRepo =
    typeof headId === "number" && typeof baseId === "number"
      ? headId === baseId
      : headName !== null && baseName !== null && headName.toLowerCase() === baseName.toLowerCase();
  return {
    number,
    headRepo: headName,
    baseRepo: baseName,
    isFork: !sameRepo,
    headSha: typeof head?.["sha"] === "string" ? head["sha"] : null,
  };
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
