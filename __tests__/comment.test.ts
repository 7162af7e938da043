import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { DEFAULT_HTTP_RETRY } from "../src/backoff.js";
import { createGitHubClient, type Octokit } from "../src/github/client.js";
import { formatMarker, parseMarker } from "../src/github/marker.js";
import {
  buildPlanComment,
  COMMENT_MAX_BYTES,
  setPlanCommentStatus,
  upsertPlanComment,
  type CommentResult,
} from "../src/github/stickyComment.js";
import { utf8Bytes } from "../src/report/markdown.js";
import type { PlanView } from "../src/report/planComment.js";
import type { CommentOnPr } from "../src/options.js";
import { FakeGithub } from "./harness/fakeGithub.js";
import {
  largePipeline,
  nodeAddedAndRemoved,
  noChanges,
  oneNodeChanged,
  REPO,
} from "./harness/planViewFixtures.js";

const PR = 7;
let fake: FakeGithub;
let octokit: Octokit;
let logs: string[];

async function startFake(options: ConstructorParameters<typeof FakeGithub>[0] = {}): Promise<void> {
  fake = await new FakeGithub(options).start();
  fake.addPullRequest(REPO.owner, REPO.repo, PR);
  // Retries without the real backoff's waits (http-retry.test.ts checks the retrying itself).
  const client = createGitHubClient("ghs_fake_token", fake.url, {
    ...DEFAULT_HTTP_RETRY,
    baseDelayMs: 1,
    maxDelayMs: 5,
  });
  if (client === null) throw new Error("no client");
  octokit = client;
}

function upsert(
  view: PlanView,
  commentOnPr: CommentOnPr = "true",
  issueNumber: number | null = PR,
): Promise<CommentResult> {
  return upsertPlanComment({
    octokit,
    repo: REPO,
    issueNumber: issueNumber ?? undefined,
    view,
    commentOnPr,
    log: (l) => logs.push(l),
  });
}

const ours = (): ReturnType<FakeGithub["commentsOn"]> =>
  fake.commentsOn(REPO.owner, REPO.repo, PR).filter((c) => parseMarker(c.body).state === "ok");

beforeEach(async () => {
  logs = [];
  await startFake();
});
afterEach(async () => {
  await fake.close();
});

describe("sticky plan comment through Octokit's HTTP path", () => {
  it("posts the first comment as the Actions bot when GET /user is forbidden", async () => {
    const result = await upsert(nodeAddedAndRemoved());
    expect(result).toMatchObject({ action: "created", level: "full" });
    expect(result.warning).toBeUndefined();
    const [comment] = fake.commentsOn(REPO.owner, REPO.repo, PR);
    expect(comment?.login).toBe("github-actions[bot]");
    expect(comment?.id).toBe(result.commentId);
    expect(parseMarker(comment?.body ?? "")).toEqual({
      state: "ok",
      marker: expect.objectContaining({ target: "spaceflights", planHash: "3".repeat(64) }),
    });
    expect(fake.count("GET", /^\/user$/)).toBe(1);
    expect(logs.join("\n")).toContain("github-actions[bot]");
  });

  it("updates the same comment in place on the next push, and leaves an identical one alone", async () => {
    const first = await upsert(noChanges());
    const second = await upsert(oneNodeChanged());
    expect(second).toMatchObject({ action: "updated", commentId: first.commentId });
    expect(fake.commentsOn(REPO.owner, REPO.repo, PR)).toHaveLength(1);
    expect(fake.commentsOn(REPO.owner, REPO.repo, PR)[0]?.body).toContain("1 to update");
    const third = await upsert(oneNodeChanged());
    expect(third).toMatchObject({ action: "unchanged", commentId: first.commentId });
    expect(fake.count("POST", /comments$/)).toBe(1);
    expect(fake.count("PATCH", /comments\/\d+$/)).toBe(1);
  });

  it("finds its comment behind more than 100 others, following the Link header", async () => {
    for (let i = 0; i < 230; i++) fake.addComment(REPO.owner, REPO.repo, PR, `chatter ${i}`, `user${i % 7}`);
    const mine = fake.addComment(REPO.owner, REPO.repo, PR, buildPlanComment(noChanges()).body);
    for (let i = 0; i < 20; i++) fake.addComment(REPO.owner, REPO.repo, PR, `more ${i}`, "someone");
    const result = await upsert(oneNodeChanged());
    expect(result).toMatchObject({ action: "updated", commentId: mine.id });
    const lists = fake.requests.filter(
      (r) => r.method === "GET" && r.path.endsWith(`/issues/${PR}/comments`),
    );
    expect(lists.map((r) => new URLSearchParams(r.query).get("page") ?? "1")).toEqual(["1", "2", "3"]);
    expect(lists.every((r) => new URLSearchParams(r.query).get("per_page") === "100")).toBe(true);
    expect(fake.count("POST", /comments$/)).toBe(0);
  });

  it("deletes duplicates from racing runs, keeping the oldest", async () => {
    fake.addComment(REPO.owner, REPO.repo, PR, "hello", "alice");
    const oldest = fake.addComment(REPO.owner, REPO.repo, PR, buildPlanComment(noChanges()).body);
    const dup1 = fake.addComment(REPO.owner, REPO.repo, PR, buildPlanComment(oneNodeChanged()).body);
    const dup2 = fake.addComment(REPO.owner, REPO.repo, PR, buildPlanComment(noChanges()).body);
    const result = await upsert(nodeAddedAndRemoved());
    expect(result).toMatchObject({ action: "updated", commentId: oldest.id, deleted: [dup1.id, dup2.id] });
    expect(ours().map((c) => c.id)).toEqual([oldest.id]);
    expect(fake.commentsOn(REPO.owner, REPO.repo, PR)).toHaveLength(2);
  });

  it("settles a race where another run posts while this one does", async () => {
    fake.beforeRequest = (method) => {
      if (method !== "POST") return;
      fake.beforeRequest = undefined;
      fake.addComment(REPO.owner, REPO.repo, PR, buildPlanComment(noChanges()).body);
    };
    const result = await upsert(oneNodeChanged());
    const left = ours();
    expect(left).toHaveLength(1);
    expect(result.commentId).toBe(left[0]?.id);
    expect(result.deleted).toHaveLength(1);
    expect(left[0]?.body).toContain("1 to update");
  });

  it("keeps one comment per target and ignores markers in comments by others", async () => {
    const staging = fake.addComment(
      REPO.owner,
      REPO.repo,
      PR,
      buildPlanComment({ ...noChanges(), target: "staging" }).body,
    );
    const copied = fake.addComment(REPO.owner, REPO.repo, PR, buildPlanComment(noChanges()).body, "mallory");
    const result = await upsert(oneNodeChanged());
    expect(result.action).toBe("created");
    expect(fake.comments.get(staging.id)?.body).toBe(staging.body);
    expect(fake.comments.get(copied.id)?.body).toBe(copied.body);
  });

  it("with a personal token, comments as the token's user from GET /user", async () => {
    await fake.close();
    await startFake({ login: "deploy-bot" });
    fake.addComment(REPO.owner, REPO.repo, PR, buildPlanComment(noChanges()).body, "github-actions[bot]");
    const result = await upsert(noChanges());
    expect(result.action).toBe("created");
    expect(fake.commentsOn(REPO.owner, REPO.repo, PR).map((c) => c.login)).toEqual([
      "github-actions[bot]",
      "deploy-bot",
    ]);
  });

  it("posts a new comment when a human damaged the marker, and does not touch the damaged one", async () => {
    const good = buildPlanComment(noChanges()).body;
    const damaged = fake.addComment(REPO.owner, REPO.repo, PR, good.replace('"target"', '"tar get'));
    const result = await upsert(oneNodeChanged());
    expect(result.action).toBe("created");
    expect(result.commentId).not.toBe(damaged.id);
    expect(fake.comments.get(damaged.id)?.body).toBe(damaged.body);
    expect(logs.join("\n")).toMatch(/damaged kedro-sfn marker \(the marker is not valid JSON\)/);
  });

  it("turns a 403 (fork, read-only token) into a warning", async () => {
    fake.readOnly = true;
    const result = await upsert(oneNodeChanged());
    expect(result.action).toBe("failed");
    expect(result.warning).toMatch(/^Could not comment on #7: 403 Resource not accessible by integration\./);
    expect(result.warning).toContain("fork");
    expect(result.warning).toContain("pull-requests: write");
    expect(result.warning).toContain("job summary");
  });

  it("turns any other API failure into a warning instead of throwing", async () => {
    // Past every retry (a 502 is retried with backoff).
    fake.fail("GET", /\/comments$/, 502, "Bad Gateway", DEFAULT_HTTP_RETRY.attempts);
    const result = await upsert(oneNodeChanged());
    expect(result).toMatchObject({ action: "failed" });
    expect(result.warning).toMatch(/^Could not list the comments of #7: 502 Bad Gateway\./);
  });

  it("never reaches GitHub's 422 'body is too long' for a 300-node pipeline", async () => {
    const result = await upsert(largePipeline(300));
    expect(result.action).toBe("created");
    expect(fake.requests.some((r) => r.status === 422)).toBe(false);
    const body = fake.commentsOn(REPO.owner, REPO.repo, PR)[0]?.body ?? "";
    expect(utf8Bytes(body)).toBeLessThanOrEqual(COMMENT_MAX_BYTES);
    expect(result.level).toBe("nodes");
    const huge = await upsert(largePipeline(3000));
    expect(huge).toMatchObject({ action: "updated", level: "counts" });
    expect(fake.requests.some((r) => r.status === 422)).toBe(false);
  });

  it("the fake does answer 422 past 65,536 characters, as GitHub does", async () => {
    const { body } = buildPlanComment(largePipeline(1000), 1_000_000);
    expect([...body].length).toBeGreaterThan(65_536);
    const raw = await octokit.rest.issues.createComment({ ...REPO, issue_number: PR, body }).then(
      () => 0,
      (e: { status: number }) => e.status,
    );
    expect(raw).toBe(422);
  });
});

describe("when not to comment", () => {
  it("comment-on-pr false: a warning, no request", async () => {
    const result = await upsert(oneNodeChanged(), "false");
    expect(result).toEqual({
      action: "skipped",
      warning: expect.stringContaining("'comment-on-pr' is false"),
    });
    expect(fake.requests).toHaveLength(0);
  });

  it("changes-only: no new comment for no changes, but an existing one is kept current", async () => {
    expect(await upsert(noChanges(), "changes-only")).toMatchObject({ action: "skipped" });
    expect(fake.count("POST", /comments$/)).toBe(0);
    await upsert(oneNodeChanged(), "changes-only");
    const result = await upsert(noChanges(), "changes-only");
    expect(result.action).toBe("updated");
    expect(ours()[0]?.body).toContain("**No changes.**");
  });

  it("no token or no pull request number: a warning, no request", async () => {
    const noToken = await upsertPlanComment({
      octokit: createGitHubClient("  ", fake.url),
      repo: REPO,
      issueNumber: PR,
      view: noChanges(),
      commentOnPr: "true",
      log: () => undefined,
    });
    expect(noToken.warning).toContain("'github-token' is empty");
    const noNumber = await upsert(noChanges(), "true", null);
    expect(noNumber.warning).toContain("no pull request number");
    expect(fake.requests).toHaveLength(0);
  });
});

describe("deploy status on the reviewed comment", () => {
  it("rewrites the comment with the status and links, keeping its marker", async () => {
    const created = await upsert(oneNodeChanged());
    const id = created.commentId ?? 0;
    await setPlanCommentStatus({
      octokit,
      repo: REPO,
      commentId: id,
      view: { ...oneNodeChanged(), status: "deploying" },
      log: () => undefined,
    });
    expect(fake.comments.get(id)?.body).toContain("🚀 **Deploying** this plan");
    const done = await setPlanCommentStatus({
      octokit,
      repo: REPO,
      commentId: id,
      view: {
        ...oneNodeChanged(),
        status: "deployed",
        links: [
          {
            text: "State machine",
            url: "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/statemachines/view/arn:aws:states:eu-west-1:123456789012:stateMachine:spaceflights",
          },
          { text: "evil", url: "javascript:alert(1)" },
        ],
      },
      log: () => undefined,
    });
    expect(done.action).toBe("updated");
    const body = fake.comments.get(id)?.body ?? "";
    expect(body).toContain(
      "✅ **Deployed.** [State machine](https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/statemachines/view/arn:aws:states:",
    );
    expect(body).not.toContain("javascript:");
    expect(parseMarker(body)).toMatchObject({ state: "ok", marker: { planHash: "2".repeat(64) } });
    const failed = await setPlanCommentStatus({
      octokit,
      repo: REPO,
      commentId: id,
      view: {
        ...oneNodeChanged(),
        status: "failed",
        statusDetail: "ResourceConflictException: @oncall see <b>logs</b>",
      },
      log: () => undefined,
    });
    expect(failed.action).toBe("updated");
    expect(fake.comments.get(id)?.body).toContain(
      "❌ **Deploy failed.** ResourceConflictException: @\u200boncall see &lt;b&gt;logs&lt;/b&gt;",
    );
  });

  it("a deleted comment gives a warning, not a throw", async () => {
    const result = await setPlanCommentStatus({
      octokit,
      repo: REPO,
      commentId: 999999,
      view: noChanges(),
      log: () => undefined,
    });
    expect(result.action).toBe("failed");
    expect(result.warning).toMatch(/404 Not Found/);
  });
});

describe("marker", () => {
  it("cannot be closed early by a hostile target", () => {
    const marker = formatMarker({ target: "x --> <b>&", planHash: "h" });
    expect(marker.indexOf("-->")).toBe(marker.length - 3);
    expect(parseMarker(`text\n${marker}\nmore`)).toEqual({
      state: "ok",
      marker: { target: "x --> <b>&", planHash: "h" },
    });
    expect(parseMarker("no marker")).toEqual({ state: "absent" });
    expect(parseMarker('<!-- kedro-sfn-action {"target":1} -->').state).toBe("damaged");
    expect(parseMarker("<!-- kedro-sfn-action {").state).toBe("damaged");
  });
});
