import { formatDuration } from "../run/duration.js";
import type { NodeState, NodeStatus } from "../run/types.js";
import { logName, logText } from "./escape.js";
import { escapeHtml, escapeText, nameCode, nowrap, plural, table } from "./markdown.js";

export const STATUS_ICON: Record<NodeState, string> = {
  succeeded: "✅",
  retried: "🔁",
  failed: "❌",
  "timed-out": "⏱️",
  aborted: "⏹️",
  running: "⏳",
  "not-started": "⚪",
  skipped: "⏭️",
};

export const STATUS_WORD: Record<NodeState, string> = {
  succeeded: "succeeded",
  retried: "succeeded after retry",
  failed: "failed",
  "timed-out": "timed out",
  aborted: "aborted",
  running: "running",
  "not-started": "not started",
  skipped: "skipped (succeeded before)",
};

/** Worst first: the order of the counts line. */
export const STATUS_ORDER: NodeState[] = [
  "failed",
  "timed-out",
  "aborted",
  "running",
  "retried",
  "succeeded",
  "skipped",
  "not-started",
];

export interface NodeTableOptions {
  /** Execution start (epoch ms): the Start column shows the offset from it. */
  executionStartMs?: number | null;
  /** Only these statuses get a row (the degraded summary keeps the problems). */
  only?: ReadonlySet<NodeState>;
  /** At most this many rows, then a line saying how many more there are. */
  maxRows?: number;
  /** Above this many rows, the nodes that succeeded fold into a `<details>` below the rest. Default 20. */
  foldAbove?: number;
}

/** Names are cut in the middle beyond these lengths so the table fits a 1,000 px page. */
export const NODE_NAME_MAX = 80;
export const LAMBDA_NAME_MAX = 64;
const FOLD_ABOVE = 20;

/** The status column's words: short, since the column sits first. */
const STATUS_CELL: Record<NodeState, string> = { ...STATUS_WORD, retried: "retried", skipped: "skipped" };

/** Rows in run order: by start, then as given; nodes that never started last. */
export function sortByStart(nodes: readonly NodeStatus[]): NodeStatus[] {
  const position = new Map(nodes.map((n, i) => [n, i]));
  const startOf = (n: NodeStatus): number => (n.startedAt === null ? Infinity : Date.parse(n.startedAt));
  return [...nodes].sort(
    (a, b) => startOf(a) - startOf(b) || (position.get(a) ?? 0) - (position.get(b) ?? 0),
  );
}

/**
 * The per-node Markdown table of the job summary, status and node first and
 * the Lambda last. In a long table the nodes that succeeded fold away below
 * the rest, so failures are not lost among green rows. Every user string is
 * escaped for a table cell.
 */
export function renderNodeTable(nodes: readonly NodeStatus[], options: NodeTableOptions = {}): string {
  const all = sortByStart(nodes).filter((n) => !options.only || options.only.has(n.status));
  if (all.length === 0) return "";
  const rows = all.slice(0, options.maxRows ?? all.length);
  const start = options.executionStartMs ?? null;
  const fold = rows.length > (options.foldAbove ?? FOLD_ABOVE);
  // A resume's skipped nodes fold away too: they succeeded, in the run it resumes.
  const green = (n: NodeStatus): boolean => n.status === "succeeded" || n.status === "skipped";
  const shown = fold ? rows.filter((n) => !green(n)) : rows;
  const folded = fold ? rows.filter(green) : [];
  const skipped = folded.filter((n) => n.status === "skipped").length;
  const parts: string[] = [];
  if (shown.length > 0) parts.push(nodeTable(shown, start));
  if (folded.length > 0) {
    parts.push(
      "",
      `<details><summary>${STATUS_ICON.succeeded} ${plural(folded.length, "node")} succeeded${skipped > 0 ? ` (${skipped} skipped: they succeeded before)` : ""}</summary>`,
      "",
      nodeTable(folded, start),
      "",
      "</details>",
    );
  }
  if (all.length > rows.length) {
    parts.push("", `_…and ${all.length - rows.length} more; the \`node-statuses\` output has every node._`);
  }
  if (rows.some((n) => n.taskNodes > 1)) {
    parts.push(
      "",
      "<sup>†N</sup> The Lambda runs N nodes in one invocation: they share its status, start, attempts and logs " +
        "(durations are each node's own when the handler reports them).",
    );
  }
  if (rows.some((n) => n.attempts > 1)) parts.push("", "<sup>×N</sup> attempts the Lambda took.");
  return parts.join("\n");
}

function nodeTable(rows: readonly NodeStatus[], executionStartMs: number | null): string {
  const body = rows.map((n) => [
    nowrap(`${STATUS_ICON[n.status]} ${STATUS_CELL[n.status]}`) +
      (n.attempts > 1 ? ` <sup>×${n.attempts}</sup>` : ""),
    nameCode(n.node, NODE_NAME_MAX),
    nowrap(startCell(n, executionStartMs)),
    n.durationMs === null ? "" : nowrap(formatDuration(n.durationMs)),
    n.logUrl ? `<a href="${escapeHtml(n.logUrl)}">logs</a>` : "",
    `${nameCode(n.functionName, LAMBDA_NAME_MAX)}${n.taskNodes > 1 ? ` <sup>†${n.taskNodes}</sup>` : ""}`,
  ]);
  return table(["Status", "Node", "Start", "Duration", "Logs", "Lambda"], body);
}

function startCell(n: NodeStatus, executionStartMs: number | null): string {
  if (n.startedAt === null) return "";
  const at = Date.parse(n.startedAt);
  if (executionStartMs === null) return escapeText(n.startedAt.slice(11, 19));
  return `+${formatDuration(at - executionStartMs)}`;
}

/** The same table as plain text for a terminal, columns padded; failure details below it. */
export function renderNodeTableText(nodes: readonly NodeStatus[], options: NodeTableOptions = {}): string {
  const rows = sortByStart(nodes).filter((n) => !options.only || options.only.has(n.status));
  if (rows.length === 0) return "(no nodes)";
  const start = options.executionStartMs ?? null;
  const header = ["STATUS", "NODE", "START", "DURATION", "ATTEMPTS", "LAMBDA", "ERROR"];
  const cells = rows.map((n) => [
    STATUS_WORD[n.status],
    logName(n.node),
    n.startedAt === null
      ? "-"
      : start === null
        ? n.startedAt.slice(11, 19)
        : `+${formatDuration(Date.parse(n.startedAt) - start)}`,
    n.durationMs === null ? "-" : formatDuration(n.durationMs),
    n.attempts === 0 ? "-" : String(n.attempts),
    logName(n.functionName) + (n.taskNodes > 1 ? ` (${n.taskNodes} nodes)` : ""),
    n.error ? clip(logName(`${n.error.type}: ${firstLine(n.error.message)}`), 100) : "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)));
  const line = (c: string[]): string =>
    c
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  const lines = [line(header), ...cells.map(line)];

  const seen = new Set<string>();
  for (const n of rows) {
    if (!n.error || seen.has(n.task) || (n.status !== "failed" && n.status !== "timed-out")) continue;
    seen.add(n.task);
    // The message keeps its lines; each is made safe below, as every line of this text.
    lines.push("", `${logName(n.task)}: ${logName(n.error.type)}: ${n.error.message}`);
    for (const t of n.error.traceback) lines.push(`  | ${logName(t)}`);
    if (n.logUrl) lines.push(`  logs: ${n.logUrl}`);
  }
  // Terminal and log text: no control characters, no line that is a workflow command.
  return logText(lines.join("\n"));
}

function firstLine(text: string): string {
  return text.split(/\r\n|\r|\n/, 1)[0] ?? "";
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
