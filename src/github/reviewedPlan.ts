import { Input } from "../constants.js";
import { findPlanComments, resolveIdentity } from "./stickyComment.js";
import { describeGitHubError, type Log, type Octokit, type RepoRef } from "./client.js";
import type { PlanDifference } from "../plan/types.js";
import { renderPlanDifferences, type PlanView } from "../report/planComment.js";
import type { PlanGroup } from "../report/planGroup.js";
import { comparePlans, describeDifferences, NO_PLAN, type CommentMarker } from "./marker.js";
import { findMergedPullRequest, type MergedPullRequest } from "./pullRequests.js";

/** The plan comment a reviewer saw on the pull request that brought a commit. */
export interface ReviewedComment {
  pullRequest: MergedPullRequest;
  commentId: number;
  url: string;
  marker: CommentMarker;
}

export type ReviewLookup = { found: ReviewedComment } | { found: null; why: string };

/** Merged pull request of `sha`, then our plan comment for `target` on it. Throws on API errors. */
export async function findReviewedComment(args: {
  octokit: Octokit;
  repo: RepoRef;
  sha: string;
  target: string;
  log: Log;
}): Promise<ReviewLookup> {
  const { octokit, repo, sha, target, log } = args;
  const pullRequest = await findMergedPullRequest(octokit, repo, sha);
  if (pullRequest === null)
    return { found: null, why: `commit ${sha.slice(0, 12)} did not come from a merged pull request` };
  log(`Commit ${sha.slice(0, 12)} came from pull request #${pullRequest.number}.`);
  const login = await resolveIdentity(octokit, log);
  const { matches, damaged } = await findPlanComments(octokit, {
    repo,
    issueNumber: pullRequest.number,
    target,
    login,
  });
  const sticky = matches[0];
  if (sticky === undefined) {
    const edited = damaged.length ? ` (${damaged.length} plan comment(s) there have a damaged marker)` : "";
    return {
      found: null,
      why: `pull request #${pullRequest.number} has no plan comment for target '${target}'${edited}`,
    };
  }
  return {
    found: { pullRequest, commentId: sticky.comment.id, url: sticky.comment.html_url, marker: sticky.marker },
  };
}

export type ReviewCheck =
  | { ok: true; reviewed: ReviewedComment }
  | {
      ok: false;
      reason: "plan-changed";
      /** Names what changed, one line per difference. */
      message: string;
      /** The differences as a table, for the job summary. */
      summary: string;
      reviewed: ReviewedComment;
      differences: PlanDifference[];
    }
  | { ok: false; reason: "plan-not-reviewed"; message: string; summary: string };

/**
 * For `require-reviewed-plan`: the plan about to be applied must hash the same
 * as the one in the merged pull request's comment. Fails closed: a plan that
 * cannot be found or read counts as not reviewed.
 */
export async function checkReviewedPlan(args: {
  octokit: Octokit | null;
  repo: RepoRef;
  sha: string;
  view: PlanView | PlanGroup;
  log: Log;
}): Promise<ReviewCheck> {
  const { octokit, view } = args;
  const notReviewed = (why: string): ReviewCheck => ({
    ok: false,
    reason: "plan-not-reviewed",
    message: `'${Input.RequireReviewedPlan}' is true but no reviewed plan was found: ${why}. Nothing was deployed.`,
    summary: "",
  });
  if (octokit === null) return notReviewed(`input '${Input.GithubToken}' is empty`);
  let lookup: ReviewLookup;
  try {
    lookup = await findReviewedComment({
      octokit,
      repo: args.repo,
      sha: args.sha,
      target: view.target,
      log: args.log,
    });
  } catch (error) {
    return notReviewed(`could not read it from GitHub (${describeGitHubError(error)})`);
  }
  if (lookup.found === null) return notReviewed(lookup.why);
  const reviewed = lookup.found;
  if (reviewed.marker.status === NO_PLAN) {
    return notReviewed(
      `the comment on pull request #${reviewed.pullRequest.number} says its last job failed before planning (pre-flight or another failure), so no plan was reviewed`,
    );
  }
  if (reviewed.marker.planHash === view.planHash) return { ok: true, reviewed };
  const differences = comparePlans(reviewed.marker, view);
  return {
    ok: false,
    reason: "plan-changed",
    reviewed,
    differences,
    message:
      `The plan differs from the one reviewed on pull request #${reviewed.pullRequest.number} ` +
      `(reviewed ${reviewed.marker.planHash.slice(0, 12)}, now ${view.planHash.slice(0, 12)}): nothing was deployed. ` +
      `AWS or main changed since the review; re-run the plan on a pull request and review it again.\n` +
      `What changed:\n${describeDifferences(differences)
        .map((line) => `- ${line}`)
        .join("\n")}`,
    summary: renderPlanDifferences(differences, reviewed.url),
  };
}
