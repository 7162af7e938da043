import type { NodeState, TaskRun } from "../run/types.js";
import { MERMAID_MAX_TEXT } from "./flowchart.js";

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
};

const SUFFIX: Partial<Record<NodeState, string>> = {
  retried: " (retried)",
  failed: " (failed)",
  "timed-out": " (timed out)",
  aborted: " (aborted)",
  running: " (running)",
};

/**
 * A ```mermaid Gantt chart of the run: one bar per Task (the node's name when the
 * Task runs one node), in start order, sectioned by top-level namespace; failed
 * bars are `crit`. Times are epoch milliseconds (`dateFormat x`), so the axis
 * shows the reader's clock. Tasks that never started have no bar.
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
  started.forEach((run, i) => {
    const start = run.startMs as number;
    // A bar needs a length to be drawn; sub-millisecond tasks get one.
    const end = Math.max(start + 1, run.endMs ?? now);
    const bar = `    ${ganttText(barLabel(run))}${SUFFIX[run.status] ?? ""} :${TAGS[run.status]}b${i}, ${start}, ${end}`;
    const section = sectionOf(run);
    sections.set(section, [...(sections.get(section) ?? []), bar]);
  });
  const lines = ["gantt", "    dateFormat x", "    axisFormat %H:%M:%S", "    title Execution timeline"];
  for (const [section, bars] of sections) lines.push(`    section ${ganttText(section)}`, ...bars);
  const text = lines.join("\n");
  if (text.length > MERMAID_MAX_TEXT) {
    return `_Timeline not drawn: ${started.length} bars are more text than GitHub's Mermaid renders._`;
  }
  return "```mermaid\n" + text + "\n```";
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
  for (const ch of text) out += /[\p{L}\p{N} _.\-/()+=,[\]]/u.test(ch) ? ch : "_";
  out = out.replace(/\s+/g, " ").trim().slice(0, 80);
  if (out === "") return "_";
  return KEYWORD.test(out) ? `_${out}` : out;
}
