import { Input } from "../constants.js";
import type { CommentOnPr } from "../options.js";
import { utf8Bytes } from "../report/markdown.js";
import { fitPlanMarkdown, hasChanges, type DetailLevel, type PlanView } from "../report/planComment.js";
import { describeGitHubError, httpStatus, type Log, type Octokit, type RepoRef } from "./client.js";
import type { Finding } from "../graph/preflight.js";
import { renderNoPlanComment, type NoPlanView } from "../report/failure.js";
import { fitGroupMarkdown, groupHasChanges, isPlanGroup, type PlanGroup } from "../report/planGroup.js";
import { formatMarker, markerFor, NO_PLAN, parseMarker, type CommentMarker } from "./marker.js";

/** GitHub refuses bodies over 65,536 characters; UTF-8 bytes with a margin keep us well inside. */
export const COMMENT_MAX_BYTES = 60_000;

/** Who writes comments with the default Actions token, which may not call GET /user. */
export const ACTIONS_BOT_LOGIN = "github-actions[bot]";

export interface PlanCommentBody {
  body: string;
  level: DetailLevel | "minimal";
  bytes: number;
}

export interface CommentResult {
  action: "created" | "updated" | "unchanged" | "skipped" | "failed";
  commentId?: number;
  url?: string;
  level?: DetailLevel | "minimal";
  bytes?: number;
  /** Newer copies from racing runs, deleted. */
  deleted?: number[];
  /** For core.warning: why nothing (or not everything) was written. */
  warning?: string;
}

export interface IssueComment {
  id: number;
  body?: string;
  html_url: string;
  created_at: string;
  user: { login: string } | null;
}

/** Marker line, then the most detailed rendering that keeps the whole body within `maxBytes`. */
export function buildPlanComment(view: PlanView | PlanGroup, maxBytes = COMMENT_MAX_BYTES): PlanCommentBody {
  const marker = formatMarker(markerFor(view));
  const room = maxBytes - utf8Bytes(marker) - 1;
  const fitted = isPlanGroup(view)
    ? fitGroupMarkdown(view, room, { where: "comment" })
    : fitPlanMarkdown(view, room, { where: "comment" });
  const body = `${marker}\n${fitted.markdown}`;
  return { body, level: fitted.level, bytes: utf8Bytes(body) };
}

/**
 * The login whose comments are ours. GET /user answers for a personal token;
 * the Actions token is refused it (403), and always comments as the Actions bot.
 */
export async function resolveIdentity(octokit: Octokit, log: Log): Promise<string> {
  try {
    const { data } = await octokit.rest.users.getAuthenticated();
    return data.login;
  } catch (error) {
    if (httpStatus(error) !== 403) throw error;
    log(
      `GET /user is not allowed for this token (the Actions token): looking for comments by ${ACTIONS_BOT_LOGIN}.`,
    );
    return ACTIONS_BOT_LOGIN;
  }
}

export interface FoundComments {
  /** Ours for this target, oldest first. */
  matches: { comment: IssueComment; marker: CommentMarker }[];
  /** Ours, starting with our marker but unreadable (edited by hand). */
  damaged: { comment: IssueComment; reason: string }[];
}

/** Every page of the issue's comments (100 a page), keeping ours for `target`. */
export async function findPlanComments(
  octokit: Octokit,
  where: { repo: RepoRef; issueNumber: number; target: string; login: string },
): Promise<FoundComments> {
  const found: FoundComments = { matches: [], damaged: [] };
  const pages = octokit.paginate.iterator(octokit.rest.issues.listComments, {
    ...where.repo,
    issue_number: where.issueNumber,
    per_page: 100,
  });
  for await (const page of pages) {
    for (const comment of page.data as IssueComment[]) {
      if (comment.user?.login.toLowerCase() !== where.login.toLowerCase()) continue;
      const parsed = parseMarker(comment.body ?? "");
      if (parsed.state === "damaged") found.damaged.push({ comment, reason: parsed.reason });
      if (parsed.state === "ok" && parsed.marker.target === where.target) {
        found.matches.push({ comment, marker: parsed.marker });
      }
    }
  }
  found.matches.sort(
    (a, b) => a.comment.created_at.localeCompare(b.comment.created_at) || a.comment.id - b.comment.id,
  );
  return found;
}

export interface UpsertOptions {
  /** Null when `github-token` is empty. */
  octokit: Octokit | null;
  repo: RepoRef;
  /** Undefined when the event carried no pull request number. */
  issueNumber: number | undefined;
  view: PlanView | PlanGroup;
  commentOnPr: CommentOnPr;
  log: Log;
  maxBytes?: number;
}

/**
 * Creates or updates the one plan comment of `view.target` on the pull
 * request and deletes newer duplicates. Never throws: a comment that cannot
 * be written is a warning, the plan is in the job summary anyway.
 */
export async function upsertPlanComment(options: UpsertOptions): Promise<CommentResult> {
  const { view, ...rest } = options;
  return await upsertStickyComment({
    ...rest,
    target: view.target,
    build: (maxBytes) => buildPlanComment(view, maxBytes),
    // changes-only: a plan without changes is not worth a new comment, but an old one is kept true.
    worthPosting:
      options.commentOnPr !== "changes-only" ||
      (isPlanGroup(view) ? groupHasChanges(view) : hasChanges(view)),
  });
}

export interface NoPlanCommentOptions extends Omit<UpsertOptions, "view"> {
  target: string;
  /** Why there is no plan: `preflight` shows the findings. */
  failure: { reason: string; message: string };
  findings: Finding[];
  commit?: string;
  summaryUrl?: string;
}

/**
 * When the job fails before it plans on a pull request (pre-flight errors, a
 * pipeline that does not import, ...), the sticky comment says so instead of
 * showing a plan that is no longer true. Its marker says no plan was made, so
 * `require-reviewed-plan` never accepts it.
 */
export async function upsertNoPlanComment(options: NoPlanCommentOptions): Promise<CommentResult> {
  const { target, failure, findings, commit, summaryUrl, ...rest } = options;
  return await upsertStickyComment({
    ...rest,
    target,
    build: (maxBytes) => buildNoPlanComment({ target, failure, findings, commit, summaryUrl }, maxBytes),
    worthPosting: true,
  });
}

/** Marker line, then why there is no plan: with pre-flight's findings, or only their counts when they would not fit. */
export function buildNoPlanComment(view: NoPlanView, maxBytes = COMMENT_MAX_BYTES): PlanCommentBody {
  const marker = formatMarker({ target: view.target, planHash: "", status: NO_PLAN });
  const full = `${marker}\n${renderNoPlanComment({ ...view, level: "full" })}`;
  if (utf8Bytes(full) <= maxBytes) return { body: full, level: "full", bytes: utf8Bytes(full) };
  const counts = `${marker}\n${renderNoPlanComment({ ...view, level: "counts" })}`;
  return { body: counts, level: "counts", bytes: utf8Bytes(counts) };
}

interface StickyOptions extends Omit<UpsertOptions, "view"> {
  target: string;
  build: (maxBytes: number | undefined) => PlanCommentBody;
  /** False: update a comment that exists, but post no new one. */
  worthPosting: boolean;
}

async function upsertStickyComment(options: StickyOptions): Promise<CommentResult> {
  const { octokit, repo, issueNumber, target, log } = options;
  if (options.commentOnPr === "false") {
    return skipped(`Input '${Input.CommentOnPr}' is false: the plan is only in the job summary.`);
  }
  if (octokit === null) {
    return skipped(
      `Input '${Input.GithubToken}' is empty: cannot comment on the pull request; the plan is in the job summary.`,
    );
  }
  if (issueNumber === undefined) {
    return skipped("The event has no pull request number: no plan comment; the plan is in the job summary.");
  }
  const { body, level, bytes } = options.build(options.maxBytes);
  const sized = { level, bytes };
  let step = "look up the token's identity";
  try {
    const login = await resolveIdentity(octokit, log);
    step = `list the comments of #${issueNumber}`;
    const found = await findPlanComments(octokit, { repo, issueNumber, target, login });
    for (const { comment, reason } of found.damaged) {
      log(`Comment ${comment.html_url} has a damaged kedro-sfn marker (${reason}): leaving it alone.`);
    }
    const [oldest, ...newer] = found.matches;
    if (oldest === undefined) {
      if (!options.worthPosting) {
        log(`No changes and '${Input.CommentOnPr}' is changes-only: no plan comment posted.`);
        return { action: "skipped", ...sized };
      }
      step = `comment on #${issueNumber}`;
      const { data } = await octokit.rest.issues.createComment({ ...repo, issue_number: issueNumber, body });
      log(`Posted the plan comment ${data.html_url} (${level}, ${bytes} bytes).`);
      const result: CommentResult = { action: "created", commentId: data.id, url: data.html_url, ...sized };
      return await settleRace(octokit, { repo, issueNumber, target, login, body, log }, result);
    }
    step = "delete duplicate plan comments";
    const deleted = await deleteComments(
      octokit,
      repo,
      newer.map((m) => m.comment),
      log,
    );
    const base = {
      commentId: oldest.comment.id,
      url: oldest.comment.html_url,
      ...sized,
      ...(deleted.length ? { deleted } : {}),
    };
    if (oldest.comment.body === body) {
      log(`The plan comment ${oldest.comment.html_url} is up to date.`);
      return { action: "unchanged", ...base };
    }
    step = `update comment ${oldest.comment.id}`;
    await octokit.rest.issues.updateComment({ ...repo, comment_id: oldest.comment.id, body });
    log(`Updated the plan comment ${oldest.comment.html_url} (${level}, ${bytes} bytes).`);
    return { action: "updated", ...base };
  } catch (error) {
    return { action: "failed", ...sized, warning: commentWarning(step, error) };
  }
}

/**
 * Two runs that both found no comment both post one. The first to look again
 * keeps the oldest, writes its own body there and deletes the rest.
 */
async function settleRace(
  octokit: Octokit,
  args: { repo: RepoRef; issueNumber: number; target: string; login: string; body: string; log: Log },
  created: CommentResult,
): Promise<CommentResult> {
  const { matches } = await findPlanComments(octokit, args);
  const [oldest, ...newer] = matches;
  if (oldest === undefined || newer.length === 0) return created;
  args.log(
    `Another run posted a plan comment for this target too: keeping the oldest (${oldest.comment.html_url}).`,
  );
  if (oldest.comment.id !== created.commentId && oldest.comment.body !== args.body) {
    await octokit.rest.issues.updateComment({ ...args.repo, comment_id: oldest.comment.id, body: args.body });
  }
  const deleted = await deleteComments(
    octokit,
    args.repo,
    newer.map((m) => m.comment),
    args.log,
  );
  const action = oldest.comment.id === created.commentId ? "created" : "updated";
  return { ...created, action, commentId: oldest.comment.id, url: oldest.comment.html_url, deleted };
}

async function deleteComments(
  octokit: Octokit,
  repo: RepoRef,
  comments: IssueComment[],
  log: Log,
): Promise<number[]> {
  const deleted: number[] = [];
  for (const comment of comments) {
    try {
      await octokit.rest.issues.deleteComment({ ...repo, comment_id: comment.id });
      deleted.push(comment.id);
      log(`Deleted the duplicate plan comment ${comment.html_url}.`);
    } catch (error) {
      // Someone else's cleanup may have won: a duplicate left behind is harmless.
      if (httpStatus(error) !== 404)
        log(`Could not delete duplicate comment ${comment.id}: ${describeGitHubError(error)}.`);
    }
  }
  return deleted;
}

export interface StatusOptions {
  octokit: Octokit | null;
  repo: RepoRef;
  commentId: number;
  /** The plan with `status` (and `links`, `statusDetail`) set; a group's views carry their own. */
  view: PlanView | PlanGroup;
  log: Log;
  maxBytes?: number;
}

/** Rewrites a plan comment with its deploy status. Never throws, as upsertPlanComment. */
export async function setPlanCommentStatus(options: StatusOptions): Promise<CommentResult> {
  const { octokit, repo, commentId, view, log } = options;
  if (octokit === null)
    return skipped(`Input '${Input.GithubToken}' is empty: cannot update the plan comment.`);
  const { body, level, bytes } = buildPlanComment(view, options.maxBytes);
  try {
    const { data } = await octokit.rest.issues.updateComment({ ...repo, comment_id: commentId, body });
    const status = isPlanGroup(view)
      ? view.views.map((v, i) => `${view.pipelines[i] ?? ""} ${v.status ?? "planned"}`).join(", ")
      : (view.status ?? "planned");
    log(`Plan comment ${data.html_url}: ${status}.`);
    return { action: "updated", commentId, url: data.html_url, level, bytes };
  } catch (error) {
    return {
      action: "failed",
      commentId,
      level,
      bytes,
      warning: commentWarning(`update comment ${commentId}`, error),
    };
  }
}

function skipped(warning: string): CommentResult {
  return { action: "skipped", warning };
}

function commentWarning(step: string, error: unknown): string {
  const status = httpStatus(error);
  const why = describeGitHubError(error);
  const tail = "The plan is in the job summary.";
  if (status === 403) {
    return (
      `Could not ${step}: ${why}. The token is read-only here: a pull request from a fork gets a read-only ` +
      `token, and otherwise the job needs 'permissions: pull-requests: write'. ${tail}`
    );
  }
  if (status === 401) return `Could not ${step}: ${why}. Check input '${Input.GithubToken}'. ${tail}`;
  if (status === 404)
    return `Could not ${step}: ${why}. The token cannot see this pull request or comment. ${tail}`;
  return `Could not ${step}: ${why}. ${tail}`;
}
