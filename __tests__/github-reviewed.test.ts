import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { createGitHubClient, type Octokit } from "../src/github/client.js";
import { comparePlans, describeDifferences, markerFor, DIGEST_MAX_BYTES } from "../src/github/marker.js";
import { findMergedPullRequest } from "../src/github/pullRequests.js";
import { checkReviewedPlan } from "../src/github/reviewedPlan.js";
import { buildPlanComment, buildNoPlanComment, setPlanCommentStatus } from "../src/github/stickyComment.js";
import { renderPlanDifferences, type PlanView } from "../src/report/planComment.js";
import { FakeGithub, type FakePullRequest } from "./harness/fakeGithub.js";
import { largePipeline, nodeAddedAndRemoved, oneNodeChanged, REPO } from "./harness/planViewFixtures.js";

const MERGE_SHA = "9f2c4e1d0b7a6c5e4f3a2b1c0d9e8f7a6b5c4d3e";
let fake: FakeGithub;
let octokit: Octokit;
const log = (): void => undefined;

function pull(number: number, merged: string | null, mergeSha: string | null): FakePullRequest {
  return {
    number,
    state: merged ? "closed" : "open",
    merged_at: merged,
    merge_commit_sha: mergeSha,
    title: `PR ${number}`,
    base: { ref: "main" },
    head: { ref: `b${number}`, sha: `h${number}` },
  };
}

beforeEach(async () => {
  fake = await new FakeGithub().start();
  const client = createGitHubClient("ghs_fake", fake.url);
  if (!client) throw new Error("no client");
  octokit = client;
});
afterEach(async () => {
  await fake.close();
});

function reviewOn(number: number, view: PlanView): number {
  fake.pullsByCommit.set(MERGE_SHA, [pull(3, null, null), pull(number, "2025-01-02T10:00:00Z", MERGE_SHA)]);
  fake.addComment(REPO.owner, REPO.repo, number, "LGTM", "alice");
  return fake.addComment(REPO.owner, REPO.repo, number, buildPlanComment(view).body).id;
}

describe("findMergedPullRequest", () => {
  it("prefers the pull request whose merge commit is the pushed commit", async () => {
    fake.pullsByCommit.set(MERGE_SHA, [
      pull(5, "2025-01-03T00:00:00Z", "other"),
      pull(3, null, null),
      pull(4, "2025-01-01T00:00:00Z", MERGE_SHA),
    ]);
    expect(await findMergedPullRequest(octokit, REPO, MERGE_SHA)).toMatchObject({
      number: 4,
      mergeCommitSha: MERGE_SHA,
    });
    expect(fake.requests[0]?.path).toBe(`/repos/octo/spaceflights/commits/${MERGE_SHA}/pulls`);
  });

  it("falls back to the latest merged one (rebase merges), or null", async () => {
    fake.pullsByCommit.set(MERGE_SHA, [
      pull(5, "2025-01-01T00:00:00Z", "x"),
      pull(6, "2025-01-02T00:00:00Z", "y"),
    ]);
    expect((await findMergedPullRequest(octokit, REPO, MERGE_SHA))?.number).toBe(6);
    fake.pullsByCommit.set(MERGE_SHA, [pull(3, null, null)]);
    expect(await findMergedPullRequest(octokit, REPO, MERGE_SHA)).toBeNull();
  });
});

describe("checkReviewedPlan", () => {
  it("accepts the plan whose hash the merged pull request's comment carries", async () => {
    const id = reviewOn(12, oneNodeChanged());
    const check = await checkReviewedPlan({
      octokit,
      repo: REPO,
      sha: MERGE_SHA,
      view: oneNodeChanged(),
      log,
    });
    expect(check).toMatchObject({ ok: true, reviewed: { commentId: id, pullRequest: { number: 12 } } });
  });

  it("refuses a plan that changed since review, showing what differs", async () => {
    reviewOn(12, oneNodeChanged());
    const check = await checkReviewedPlan({
      octokit,
      repo: REPO,
      sha: MERGE_SHA,
      view: nodeAddedAndRemoved(),
      log,
    });
    expect(check.ok).toBe(false);
    if (check.ok || check.reason !== "plan-changed") throw new Error(`unexpected ${JSON.stringify(check)}`);
    expect(check.message).toMatch(
      /^The plan differs from the one reviewed on pull request #12 \(reviewed 222222222222, now 333333333333\)/,
    );
    expect(describeDifferences(check.differences)).toEqual([
      "function spaceflights-data_science-evaluate_model_node: reviewed no change, now delete",
      "function spaceflights-data_science-explain_model_node: reviewed no change, now create 2048 MB 600 s",
      "function spaceflights-data_science-train_model_node: reviewed update-code 3008 MB 900 s, now no change",
      "state machine spaceflights: reviewed noop, now update (definition diff 5b5e8cdb1fe3)",
    ]);
    expect(renderPlanDifferences(check.differences, check.reviewed.url)).toMatchSnapshot();
    // The refusal itself shows what changed: in the message (the log, the annotation) and the summary.
    expect(check.message).toContain(
      "What changed:\n- function spaceflights-data_science-evaluate_model_node: reviewed no change, now delete\n",
    );
    expect(check.summary).toBe(renderPlanDifferences(check.differences, check.reviewed.url));
  });

  it("does not take a comment that says there is no plan (pre-flight failed) for a reviewed plan", async () => {
    fake.pullsByCommit.set(MERGE_SHA, [pull(12, "2025-01-02T10:00:00Z", MERGE_SHA)]);
    const view = oneNodeChanged();
    const preflight = buildNoPlanComment({
      target: view.target,
      failure: { reason: "preflight", message: "Pre-flight found 1 error(s)" },
      findings: view.findings,
    });
    fake.addComment(REPO.owner, REPO.repo, 12, preflight.body);
    const check = await checkReviewedPlan({ octokit, repo: REPO, sha: MERGE_SHA, view, log });
    expect(check).toMatchObject({ ok: false, reason: "plan-not-reviewed" });
    expect(check.ok ? "" : check.message).toMatch(
      /says its last job failed before planning \(pre-flight or another failure\), so no plan was reviewed/,
    );
  });

  it("names the hashes when the difference is outside what the comment recorded", () => {
    const view = oneNodeChanged();
    expect(comparePlans(markerFor(view), { ...view, planHash: "9".repeat(64) })).toEqual([
      { kind: "plan", name: "hash", reviewed: "2".repeat(64), current: "9".repeat(64) },
    ]);
    const big = largePipeline(3000);
    expect(markerFor(big).digest).toBeUndefined();
    expect(JSON.stringify(markerFor(largePipeline(300)).digest).length).toBeLessThan(DIGEST_MAX_BYTES);
  });

  it("fails closed: no merged pull request, no comment, damaged marker, unreadable, no token", async () => {
    const check = (): ReturnType<typeof checkReviewedPlan> =>
      checkReviewedPlan({ octokit, repo: REPO, sha: MERGE_SHA, view: oneNodeChanged(), log });
    expect(await check()).toMatchObject({
      ok: false,
      reason: "plan-not-reviewed",
      message: expect.stringContaining("did not come from a merged pull request"),
    });

    fake.pullsByCommit.set(MERGE_SHA, [pull(12, "2025-01-02T10:00:00Z", MERGE_SHA)]);
    fake.addPullRequest(REPO.owner, REPO.repo, 12);
    expect(await check()).toMatchObject({
      reason: "plan-not-reviewed",
      message: expect.stringContaining("#12 has no plan comment for target 'spaceflights'"),
    });

    fake.addComment(
      REPO.owner,
      REPO.repo,
      12,
      buildPlanComment(oneNodeChanged()).body.replace("planHash", "plan hash"),
    );
    expect(await check()).toMatchObject({
      message: expect.stringContaining("1 plan comment(s) there have a damaged marker"),
    });

    fake.fail("GET", /\/comments$/, 403, "Resource not accessible by integration");
    expect(await check()).toMatchObject({
      message: expect.stringContaining(
        "could not read it from GitHub (403 Resource not accessible by integration)",
      ),
    });

    expect(
      await checkReviewedPlan({ octokit: null, repo: REPO, sha: MERGE_SHA, view: oneNodeChanged(), log }),
    ).toMatchObject({
      reason: "plan-not-reviewed",
      message: expect.stringContaining("input 'github-token' is empty"),
    });
  });

  it("then walks the same comment through deploying and deployed", async () => {
    const id = reviewOn(12, oneNodeChanged());
    const check = await checkReviewedPlan({
      octokit,
      repo: REPO,
      sha: MERGE_SHA,
      view: oneNodeChanged(),
      log,
    });
    if (!check.ok) throw new Error(check.message);
    for (const status of ["deploying", "deployed"] as const) {
      const result = await setPlanCommentStatus({
        octokit,
        repo: REPO,
        commentId: check.reviewed.commentId,
        view: { ...oneNodeChanged(), status },
        log,
      });
      expect(result).toMatchObject({ action: "updated", commentId: id });
    }
    expect(fake.comments.get(id)?.body).toContain("✅ **Deployed.**");
    // The reviewed hash still matches after the status update.
    expect(
      (await checkReviewedPlan({ octokit, repo: REPO, sha: MERGE_SHA, view: oneNodeChanged(), log })).ok,
    ).toBe(true);
  });
});
