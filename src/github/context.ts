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
  /** Whose code the event is about, for every event type: what the fork guard decides on. */
  head: HeadOrigin;
  /** The run's page, which shows the job summary. */
  runUrl: string | undefined;
  apiUrl: string;
  /** Things the action could not read; the run goes on without them. */
  warnings: string[];
}

/**
 * The repository of the code an event points at. Pull request events, reviews and review
 * comments carry `pull_request.head.repo`; `workflow_run` its `head_repository`; check suites
 * and runs a `head_branch` that is null for a fork's branch; a comment on a pull request only
 * a link to it. Events without a pull request or foreign head (push, dispatch, schedule,
 * release, merge_group: GitHub makes the merge queue's branch in this repository) run this
 * repository's code.
 */
export interface HeadOrigin {
  /** Where the payload names the head, e.g. `pull_request.head.repo`; null for events without one. */
  source: string | null;
  /** owner/name of the head repository when the payload names it. */
  repo: string | null;
  /** ours: proven this repository (by id, else name); foreign: another one; unknown: the payload cannot show it. */
  trust: "ours" | "foreign" | "unknown";
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
    head: readHeadOrigin(eventName, payload, env["GITHUB_REPOSITORY"] ?? ""),
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

type Payload = Record<string, unknown>;

/** Which repository's code the event is about (see HeadOrigin); never throws. */
export function readHeadOrigin(eventName: string, payload: Payload, thisRepo: string): HeadOrigin {
  const base = asObject(payload["repository"]);
  const baseRef = { id: base?.["id"], name: stringOr(base?.["full_name"], thisRepo) };
  const pr = asObject(payload["pull_request"]);
  if (pr !== undefined || isPullRequestEvent(eventName)) {
    // pull_request(_target), pull_request_review, pull_request_review_comment, ..._review_thread.
    const headRepo = asObject(asObject(pr?.["head"])?.["repo"]);
    const prBase = asObject(asObject(pr?.["base"])?.["repo"]) ?? base;
    return compare("pull_request.head.repo", headRepo, {
      id: prBase?.["id"],
      name: stringOr(prBase?.["full_name"], thisRepo),
    });
  }
  const issue = asObject(payload["issue"]);
  if (issue !== undefined && issue["pull_request"] !== undefined) {
    // issue_comment on a pull request: the payload links the pull request but not its head.
    return { source: "issue.pull_request", repo: null, trust: "unknown" };
  }
  const run = asObject(payload["workflow_run"]);
  if (run !== undefined) {
    const runRepo = asObject(run["repository"]) ?? base;
    return compare("workflow_run.head_repository", asObject(run["head_repository"]), {
      id: runRepo?.["id"],
      name: stringOr(runRepo?.["full_name"], thisRepo),
    });
  }
  const suite = asObject(payload["check_suite"]) ?? asObject(asObject(payload["check_run"])?.["check_suite"]);
  if (suite !== undefined || eventName === "check_suite" || eventName === "check_run") {
    return checkSuiteOrigin(eventName, suite, asObject(payload["check_run"]));
  }
  return { source: null, repo: baseRef.name || null, trust: "ours" };
}

/** GitHub: a check suite whose head branch is in a fork has head_branch null and no pull requests. */
function checkSuiteOrigin(
  eventName: string,
  suite: Payload | undefined,
  checkRun: Payload | undefined,
): HeadOrigin {
  const source = eventName === "check_run" ? "check_run.check_suite.head_branch" : "check_suite.head_branch";
  const branch = suite?.["head_branch"];
  if (typeof branch !== "string" || branch === "") return { source, repo: null, trust: "unknown" };
  const pulls = [
    ...(Array.isArray(suite?.["pull_requests"]) ? (suite["pull_requests"] as unknown[]) : []),
    ...(Array.isArray(checkRun?.["pull_requests"]) ? (checkRun["pull_requests"] as unknown[]) : []),
  ];
  for (const pull of pulls) {
    // These pull requests carry minimal repositories (id, name, url): compare ids.
    const head = asObject(asObject(asObject(pull)?.["head"])?.["repo"]);
    const base = asObject(asObject(asObject(pull)?.["base"])?.["repo"]);
    const origin = compare(`${source.replace(/head_branch$/, "pull_requests")}[].head.repo`, head, {
      id: base?.["id"],
      name: stringOr(base?.["full_name"], ""),
    });
    if (origin.trust !== "ours") return origin;
  }
  return { source, repo: null, trust: "ours" };
}

/** Ids survive renames; names are the fallback; a head the payload does not show is unknown. */
function compare(source: string, head: Payload | undefined, base: { id: unknown; name: string }): HeadOrigin {
  if (head === undefined) return { source, repo: null, trust: "unknown" };
  const headName = repositoryName(head);
  const headId = head["id"];
  if (typeof headId === "number" && typeof base.id === "number") {
    return { source, repo: headName, trust: headId === base.id ? "ours" : "foreign" };
  }
  if (headName === null || base.name === "") return { source, repo: headName, trust: "unknown" };
  return {
    source,
    repo: headName,
    trust: headName.toLowerCase() === base.name.toLowerCase() ? "ours" : "foreign",
  };
}

/** full_name, or owner/name from the API URL of the minimal repositories check suites carry. */
function repositoryName(repo: Payload): string | null {
  if (typeof repo["full_name"] === "string") return repo["full_name"];
  const url = typeof repo["url"] === "string" ? /\/repos\/([^/]+\/[^/]+)$/.exec(repo["url"]) : null;
  return url?.[1] ?? null;
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === "string" && value !== "" ? value : fallback;
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
