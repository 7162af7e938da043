import { createHash } from "node:crypto";
import { stableStringify } from "../canonicalJson.js";
import type { PlanDifference } from "../plan/types.js";
import { logName } from "../report/escape.js";
import type { PlanView } from "../report/planComment.js";
import { isPlanGroup, type PlanGroup } from "../report/planGroup.js";

/** The hidden first line of a plan comment; GitHub does not render HTML comments. */
export const MARKER_PREFIX = "<!-- kedro-sfn-action ";

/**
 * What a reviewer saw, in a form a later run can compare with its own plan:
 * every function the plan touches with its change and settings, and the
 * state machine change with a hash of its definition diff.
 */
export interface PlanDigest {
  functions: Record<string, string>;
  unchanged: number;
  stateMachine: string;
}

/** The marker's status of a comment that says why there is no plan (pre-flight errors, a failed job). */
export const NO_PLAN = "no-plan";

export interface CommentMarker {
  target: string;
  /** Empty when the comment holds no plan (status no-plan). */
  planHash: string;
  /** Absent on a plan; `no-plan` when the job failed (pre-flight, ...) before it planned. */
  status?: typeof NO_PLAN;
  /** Left out when it would be too large for the comment. */
  digest?: PlanDigest;
}

export type MarkerParse =
  { state: "ok"; marker: CommentMarker } | { state: "damaged"; reason: string } | { state: "absent" };

/** Beyond this the digest is dropped from the marker: it must not crowd out the plan. */
export const DIGEST_MAX_BYTES = 8_000;

/** `<!-- kedro-sfn-action {...} -->`; `<`, `>` and `&` are JSON-escaped so no value can end the comment. */
export function formatMarker(marker: CommentMarker): string {
  // Canonical key order: the same marker is the same text, so an unchanged comment is not rewritten.
  const json = stableStringify(marker).replace(
    /[<>&]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return `${MARKER_PREFIX}${json} -->`;
}

/** The marker anywhere in a comment body; "damaged" when it starts but does not parse (a human edit). */
export function parseMarker(body: string): MarkerParse {
  const start = body.indexOf(MARKER_PREFIX.trimEnd());
  if (start < 0) return { state: "absent" };
  const jsonStart = start + MARKER_PREFIX.trimEnd().length;
  const end = body.indexOf("-->", jsonStart);
  if (end < 0) return { state: "damaged", reason: "the marker's HTML comment is not closed" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.slice(jsonStart, end));
  } catch {
    return { state: "damaged", reason: "the marker is not valid JSON" };
  }
  if (typeof parsed !== "object" || parsed === null)
    return { state: "damaged", reason: "the marker is not an object" };
  const { target, planHash, digest, status } = parsed as Record<string, unknown>;
  if (typeof target !== "string" || typeof planHash !== "string") {
    return { state: "damaged", reason: "the marker lacks its target or plan hash" };
  }
  const marker: CommentMarker = { target, planHash };
  if (status === NO_PLAN) marker.status = NO_PLAN;
  if (isDigest(digest)) marker.digest = digest;
  return { state: "ok", marker };
}

export function planDigest(view: PlanView): PlanDigest {
  const functions: Record<string, string> = {};
  let unchanged = 0;
  for (const row of view.functions) {
    if (row.change === "noop") {
      unchanged++;
      continue;
    }
    const memory = row.memoryMb === null ? "" : ` ${row.memoryMb} MB`;
    const timeout = row.timeoutSeconds === null ? "" : ` ${row.timeoutSeconds} s`;
    functions[row.name] = `${row.change}${memory}${timeout}`;
  }
  const sm = view.stateMachine;
  const diffHash =
    sm.change === "noop"
      ? ""
      : ` (definition diff ${createHash("sha256").update(sm.definitionDiff).digest("hex").slice(0, 12)})`;
  return { functions, unchanged, stateMachine: `${sm.change}${diffHash}` };
}

/** Several plans under one comment: functions are named per state machine, so they never clash. */
export function groupDigest(group: PlanGroup): PlanDigest {
  const digests = group.views.map(planDigest);
  return {
    functions: Object.assign({}, ...digests.map((d) => d.functions)) as Record<string, string>,
    unchanged: digests.reduce((sum, d) => sum + d.unchanged, 0),
    stateMachine: digests
      .map((d, i) => `${group.views[i]?.stateMachine.name ?? ""}: ${d.stateMachine}`)
      .join("; "),
  };
}

function digestOf(view: PlanView | PlanGroup): PlanDigest {
  return isPlanGroup(view) ? groupDigest(view) : planDigest(view);
}

/** The marker for a view (or a group of them), with its digest when the digest is small enough. */
export function markerFor(view: PlanView | PlanGroup): CommentMarker {
  const marker: CommentMarker = { target: view.target, planHash: view.planHash };
  const digest = digestOf(view);
  if (Buffer.byteLength(JSON.stringify(digest), "utf8") <= DIGEST_MAX_BYTES) marker.digest = digest;
  return marker;
}

/**
 * What differs between the digest in the reviewed comment and the plan now.
 * Falls back to the hashes when the reviewed comment recorded no digest, or
 * when the difference lies in what digests do not record.
 */
export function comparePlans(reviewed: CommentMarker, current: PlanView | PlanGroup): PlanDifference[] {
  const hashes: PlanDifference = {
    kind: "plan",
    name: "hash",
    reviewed: reviewed.planHash,
    current: current.planHash,
  };
  if (!reviewed.digest) return [hashes];
  const now = digestOf(current);
  const before = reviewed.digest;
  const differences: PlanDifference[] = [];
  const names = [...new Set([...Object.keys(before.functions), ...Object.keys(now.functions)])].sort();
  for (const name of names) {
    const a = before.functions[name] ?? "no change";
    const b = now.functions[name] ?? "no change";
    if (a !== b) differences.push({ kind: "function", name, reviewed: a, current: b });
  }
  if (before.stateMachine !== now.stateMachine) {
    differences.push({
      kind: "state machine",
      name: isPlanGroup(current)
        ? current.views.map((v) => v.stateMachine.name).join(", ")
        : current.stateMachine.name,
      reviewed: before.stateMachine,
      current: now.stateMachine,
    });
  }
  if (before.unchanged !== now.unchanged && differences.length === 0) {
    differences.push({
      kind: "plan",
      name: "unchanged functions",
      reviewed: String(before.unchanged),
      current: String(now.unchanged),
    });
  }
  return differences.length > 0 ? differences : [hashes];
}

function isDigest(value: unknown): value is PlanDigest {
  if (typeof value !== "object" || value === null) return false;
  const d = value as Record<string, unknown>;
  return (
    typeof d["unchanged"] === "number" &&
    typeof d["stateMachine"] === "string" &&
    typeof d["functions"] === "object" &&
    d["functions"] !== null &&
    Object.values(d["functions"]).every((v) => typeof v === "string")
  );
}

/** Plain lines for logs and annotations. */
export function describeDifferences(differences: PlanDifference[]): string[] {
  // Names stay on their line: a function or node name may hold a line break.
  return differences.map((d) =>
    d.kind === "plan"
      ? `plan ${d.name}: reviewed ${d.reviewed}, now ${d.current}`
      : `${d.kind} ${logName(d.name)}: reviewed ${logName(d.reviewed)}, now ${logName(d.current)}`,
  );
}
