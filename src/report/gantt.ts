import type { NodeState, TaskRun } from "../run/types.js";
import { MERMAID_MAX_TEXT } from "./flowchart.js";
import { shortenMiddle } from "./markdown.js";

export interface GanttOptions {
  /** Running bars end here (epoch ms); default the latest end seen. */
  nowMs?: number;
  /** Above this many bars a note replaces the chart. */
  maxBars?: number;
}

const DEFAULT_MAX_BARS = 400;

const TAGS: Record<NodeState, string> = {
  succeeded: "done, ",
  retried: "done, ",
  failed: "crit, ",
  "timed-out": "crit, ",
  aborted: "crit, done, ",
  running: "active, ",
  "not-started": "",
  skipped: "done, ",
};

const SUFFIX: Partial<Record<NodeState, string>> = {
  retried: " (retried)",
  failed: " (failed)",
  "timed-out": " (timed out)",
  aborted: " (aborted)",
  running: " (running)",
  skipped: " (skipped)",
};

/** Tick spacings the axis may use, in ms, and Mermaid's name for each. */
const LONGEST_TICK: [number, string] = [28 * 86_400_000, "28day"];
const TICKS: [number, string][] = [
  ...[1, 2, 5, 10, 20, 50, 100, 200, 500].map((n): [number, string] => [n, `${n}millisecond`]),
  ...[1, 2, 5, 10, 15, 30].map((n): [number, string] => [n * 1000, `${n}second`]),
  ...[1, 2, 5, 10, 15, 30].map((n): [number, string] => [n * 60_000, `${n}minute`]),
  ...[1, 2, 3, 6, 12].map((n): [number, string] => [n * 3_600_000, `${n}hour`]),
  ...[1, 2, 7, 14].map((n): [number, string] => [n * 86_400_000, `${n}day`]),
  LONGEST_TICK,
];
/** Axis labels on a 1,000 px page stay apart up to this many ticks. */
const MAX_TICKS = 8;
/** Section titles are cut in the middle beyond this, and the chart's left margin holds them. */
const SECTION_MAX = 24;
const SECTION_CHAR_PX = 8;

/**
 * A ```mermaid Gantt chart of the run: one bar per Task (the node's name when the
 * Task runs one node), in start order, sectioned by top-level namespace; failed
 * bars are `crit`. Times are written as UTC wall-clock times: Mermaid reads
 * and draws them in the reader's zone, so the axis shows UTC, as the headline
 * does. Tick spacing and format follow the run's length, so a one-second run
 * does not repeat one label. Tasks that never started have no bar.
 */
export function renderGantt(runs: readonly TaskRun[], options: GanttOptions = {}): string {
  const started = runs
    .filter((r) => r.startMs !== null)
    .map((r, i) => ({ r, i }))
    .sort((a, b) => (a.r.startMs as number) - (b.r.startMs as number) || a.i - b.i)
    .map(({ r }) => r);
  if (started.length === 0) return "_No task started, so there is no timeline._";
  const maxBars = options.maxBars ?? DEFAULT_MAX_BARS;
  if (started.length > maxBars) {
    return `_Timeline not drawn: ${started.length} tasks ran, more than the ${maxBars} a chart stays readable with._`;
  }
  const latest = Math.max(...started.map((r) => r.endMs ?? (r.startMs as number)));
  const now = options.nowMs ?? latest;

  const sections = new Map<string, string[]>();
  let first = Infinity;
  let last = -Infinity;
  started.forEach((run, i) => {
    const start = run.startMs as number;
    // A bar needs a length to be drawn; sub-millisecond tasks get one.
    const end = Math.max(start + 1, run.endMs ?? now);
    first = Math.min(first, start);
    last = Math.max(last, end);
    const bar = `    ${ganttText(barLabel(run))}${SUFFIX[run.status] ?? ""} :${TAGS[run.status]}b${i}, ${utcWallClock(start)}, ${utcWallClock(end)}`;
    const section = ganttText(shortenMiddle(sectionOf(run), SECTION_MAX));
    sections.set(section, [...(sections.get(section) ?? []), bar]);
  });
  const [interval, axisFormat] = axisFor(last - first);
  const longest = Math.max(...[...sections.keys()].map((name) => [...name].length));
  const lines = [
    "---",
    "config:",
    "  gantt:",
    `    leftPadding: ${Math.max(75, longest * SECTION_CHAR_PX + 24)}`,
    "---",
    "gantt",
    "    dateFormat YYYY-MM-DD HH:mm:ss.SSS",
    `    axisFormat ${axisFormat}`,
    `    tickInterval ${interval}`,
    "    title Execution timeline (UTC)",
  ];
  for (const [section, bars] of sections) lines.push(`    section ${section}`, ...bars);
  const text = lines.join("\n");
  if (text.length > MERMAID_MAX_TEXT) {
    return `_Timeline not drawn: ${started.length} bars are more text than GitHub's Mermaid renders._`;
  }
  return "```mermaid\n" + text + "\n```";
}

/** `2026-01-31 09:15:02.200`: the UTC time without its zone, which Mermaid reads as local. */
function utcWallClock(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}

/** The smallest tick spacing that keeps the axis within MAX_TICKS labels, and a format that tells ticks apart. */
function axisFor(spanMs: number): [string, string] {
  const [every, name] = TICKS.find(([ms]) => spanMs / ms <= MAX_TICKS) ?? LONGEST_TICK;
  if (every < 1000) return [name, "%H:%M:%S.%L"];
  if (every < 60_000) return [name, "%H:%M:%S"];
  if (every < 86_400_000) return [name, "%H:%M"];
  return [name, "%m-%d %H:%M"];
}

function barLabel(run: TaskRun): string {
  if (run.nodes.length === 1) return run.nodes[0] as string;
  return `${run.stateName} (${run.nodes.length} nodes)`;
}

/** Top-level namespace of the Task's first node, else "pipeline". */
function sectionOf(run: TaskRun): string {
  const first = run.nodes[0] ?? run.stateName;
  const dot = first.indexOf(".");
  return dot > 0 ? first.slice(0, dot) : "pipeline";
}

const KEYWORD =
  /^(title|section|dateformat|axisformat|tickinterval|excludes|includes|todaymarker|weekday|weekend|inclusiveenddates|topaxis|click|call|acctitle|accdescr)\b/i;

/**
 * Gantt text ends at `:`, `;` or `#` and lines starting with a keyword change
 * meaning, so labels keep a plain set of characters (others become `_`) and a
 * keyword gets a leading `_`. Mermaid draws them as SVG text, never as HTML.
 */
export function ganttText(text: string): string {
  let out = "";
  for (const ch of text) out += /[\p{L}\p{N} _.\-/()+=,[\]…]/u.test(ch) ? ch : "_";
  out = out.replace(/\s+/g, " ").trim().slice(0, 80);
  if (out === "") return "_";
  return KEYWORD.test(out) ? `_${out}` : out;
}
