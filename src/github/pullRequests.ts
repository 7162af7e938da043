import type { Octokit, RepoRef } from "./client.js";

export interface MergedPullRequest {
  number: number;
  title: string;
  url: string;
  mergeCommitSha: string | null;
  mergedAt: string;
}

/**
 * The pull request whose merge produced `sha` (GET /repos/{o}/{r}/commits/{sha}/pulls):
 * the one whose merge commit is `sha`, else the most recently merged one
 * containing it (rebase merges). Null when the commit came without a pull request.
 */
export async function findMergedPullRequest(
  octokit: Octokit,
  repo: RepoRef,
  sha: string,
): Promise<MergedPullRequest | null> {
  const pulls = await octokit.paginate(octokit.rest.repos.listPullRequestsAssociatedWithCommit, {
    ...repo,
    commit_sha: sha,
    per_page: 100,
  });
  const merged = pulls
    .filter((p) => typeof p.merged_at === "string")
    .map((p) => ({
      number: p.number,
      title: p.title,
      url: p.html_url,
      mergeCommitSha: p.merge_commit_sha ?? null,
      mergedAt: p.merged_at as string,
    }))
    .sort((a, b) => b.mergedAt.localeCompare(a.mergedAt));
  return merged.find((p) => p.mergeCommitSha === sha) ?? merged[0] ?? null;
}
