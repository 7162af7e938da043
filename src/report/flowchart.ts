import { plural, shortenMiddle } from "./markdown.js";

/** How a task is highlighted: plan changes, or run status. */
export type FlowchartClass =
  "new" | "changed" | "removed" | "succeeded" | "failed" | "running" | "not-started" | "none";

/** One box of the chart: a Lambda task running one or more Kedro nodes. */
export interface FlowchartTask {
  id: string;
  label: string;
  /** Kedro nodes the task runs, in order; listed in the box when there are several. */
  nodes: string[];
  /** Ids of tasks that must finish first; unknown ids are ignored. */
  dependsOn: string[];
}

export interface FlowchartOptions {
  /** Above this many tasks the chart is drawn by namespace. Default 40. */
  maxTasks?: number;
}

/** GitHub's Mermaid refuses larger diagrams (its maxTextSize and maxEdges defaults). */
export const MERMAID_MAX_TEXT = 50_000;
export const MERMAID_MAX_EDGES = 500;
const DEFAULT_MAX_TASKS = 40;
/** Above this many namespaces the condensed chart is no easier to read than none. */
const MAX_GROUPS = 30;
/**
 * GitHub scales a chart down to the page (about 1,000 px): a rank wider than
 * this would shrink 16 px labels below 10 px. Widths are estimated from label
 * lengths at Mermaid's default font, padding and spacing.
 */
const MAX_RANK_PX = 1_500;
const CHAR_PX = 9;
const BOX_PADDING_PX = 30;
const NODE_SPACING_PX = 50;
/** Labels are cut in the middle beyond this, so one long name cannot shrink the chart. */
const LABEL_MAX = 48;

const STYLES: Record<Exclude<FlowchartClass, "none">, string> = {
  new: "fill:#dafbe1,stroke:#1a7f37,stroke-width:2px,color:#0d3d1b",
  changed: "fill:#fff8c5,stroke:#9a6700,stroke-width:2px,color:#3b2300",
  removed: "fill:#ffebe9,stroke:#cf222e,stroke-width:2px,stroke-dasharray:5 5,color:#5d0f12",
  succeeded: "fill:#dafbe1,stroke:#1a7f37,color:#0d3d1b",
  failed: "fill:#ffebe9,stroke:#cf222e,stroke-width:2px,color:#5d0f12",
  running: "fill:#ddf4ff,stroke:#0969da,stroke-width:2px,color:#0a3069",
  "not-started": "fill:#f6f8fa,stroke:#8c959f,stroke-dasharray:3 3,color:#57606a",
};

/** A namespace box colours as its most telling member. */
const GROUP_PRIORITY: FlowchartClass[] = [
  "failed",
  "running",
  "not-started",
  "removed",
  "new",
  "changed",
  "succeeded",
  "none",
];

const CLASS_WORD: Record<FlowchartClass, string> = {
  new: "new",
  changed: "changed",
  removed: "removed",
  succeeded: "succeeded",
  failed: "failed",
  running: "running or cut short",
  "not-started": "not started",
  none: "unchanged",
};

/** What a chart of these tasks would show: every task, one box per namespace, or nothing (and why). */
export type ChartShape =
  { kind: "tasks" } | { kind: "namespaces"; groups: number } | { kind: "none"; why: string };

interface Box {
  label: string;
  lines: string[];
  /** Lines are a task's nodes, shown as a list. */
  bulleted: boolean;
  dependsOn: number[];
  cls: FlowchartClass;
}

/**
 * A ```mermaid flowchart of the tasks in the order given, one edge per
 * dependency. A pipeline too large or too wide to read at page width is drawn
 * one box per namespace (with its task counts) instead; one without
 * namespaces gets a note saying why there is no chart. Box ids are positional
 * (`t0`, `t1`, ...) so no user text reaches Mermaid's syntax; labels are
 * entity-escaped.
 */
export function renderFlowchart(
  tasks: FlowchartTask[],
  classOf: (taskId: string) => FlowchartClass,
  options: FlowchartOptions = {},
): string {
  if (tasks.length === 0) return "_No tasks to draw._";
  const shape = chartShape(tasks, options);
  if (shape.kind === "none") return `_Flowchart not drawn: ${shape.why}._`;
  const boxes = shape.kind === "tasks" ? taskBoxes(tasks, classOf) : namespaceBoxes(tasks, classOf);
  const chart = mermaidFlowchart(boxes);
  if (chart === null) {
    const edges = boxes.reduce((n, box) => n + new Set(box.dependsOn).size, 0);
    return `_Flowchart not drawn: ${tasks.length} tasks and ${edges} dependencies are more than GitHub's Mermaid renders._`;
  }
  if (shape.kind === "tasks") return chart;
  return [
    `_${tasks.length} tasks are too many to read in one chart at page width: one box per namespace, with its task counts._`,
    "",
    chart,
  ].join("\n");
}

/** The shape renderFlowchart draws for these tasks (comments say where a chart is). */
export function chartShape(tasks: FlowchartTask[], options: FlowchartOptions = {}): ChartShape {
  const maxTasks = options.maxTasks ?? DEFAULT_MAX_TASKS;
  if (tasks.length === 0) return { kind: "none", why: "no tasks to draw" };
  const boxes = taskBoxes(tasks, () => "none");
  if (tasks.length <= maxTasks && widestRankPx(boxes) <= MAX_RANK_PX) return { kind: "tasks" };
  const groups = namespaceBoxes(tasks, () => "none");
  const why = `${tasks.length} tasks are too many to read in one chart at page width`;
  if (groups.length < 2)
    return { kind: "none", why: `${why}, and their names have no namespaces to group them by` };
  if (groups.length > MAX_GROUPS || widestRankPx(groups) > MAX_RANK_PX) {
    return { kind: "none", why: `${why}, and so are their ${groups.length} namespaces` };
  }
  return { kind: "namespaces", groups: groups.length };
}

function taskBoxes(tasks: FlowchartTask[], classOf: (taskId: string) => FlowchartClass): Box[] {
  const index = new Map<string, number>();
  tasks.forEach((task, i) => {
    if (!index.has(task.id)) index.set(task.id, i);
  });
  return tasks.map((task, i) => {
    const listNodes = task.nodes.length > 1 || (task.nodes.length === 1 && task.nodes[0] !== task.label);
    return {
      label: task.label,
      lines: listNodes ? task.nodes : [],
      bulleted: true,
      dependsOn: task.dependsOn.map((d) => index.get(d) ?? -1).filter((from) => from >= 0 && from !== i),
      cls: classOf(task.id),
    };
  });
}

/** Top-level namespace of a task's first node (or its id), else the whole name. */
function namespaceOf(task: FlowchartTask): string {
  const name = task.nodes[0] ?? task.label;
  const dot = name.indexOf(".");
  return dot > 0 ? name.slice(0, dot) : "(no namespace)";
}

function namespaceBoxes(tasks: FlowchartTask[], classOf: (taskId: string) => FlowchartClass): Box[] {
  const groupOf = new Map<string, number>();
  const members: FlowchartClass[][] = [];
  const names: string[] = [];
  for (const task of tasks) {
    const ns = namespaceOf(task);
    let g = names.indexOf(ns);
    if (g < 0) {
      g = names.push(ns) - 1;
      members.push([]);
    }
    groupOf.set(task.id, g);
    members[g]?.push(classOf(task.id));
  }
  const deps = names.map(() => new Set<number>());
  for (const task of tasks) {
    const to = groupOf.get(task.id) as number;
    for (const dep of task.dependsOn) {
      const from = groupOf.get(dep);
      if (from !== undefined && from !== to) deps[to]?.add(from);
    }
  }
  return names.map((name, g) => {
    const classes = members[g] ?? [];
    const counts = GROUP_PRIORITY.filter((c) => classes.includes(c)).map(
      (c) => `${classes.filter((x) => x === c).length} ${CLASS_WORD[c]}`,
    );
    return {
      label: name,
      lines: [
        plural(classes.length, "task"),
        ...(counts.length > 1 || classes[0] !== "none" ? [counts.join(", ")] : []),
      ],
      bulleted: false,
      dependsOn: [...(deps[g] ?? [])],
      cls: GROUP_PRIORITY.find((c) => classes.includes(c)) ?? "none",
    };
  });
}

/** Estimated width of the widest rank (boxes at the same depth), as Mermaid lays it out top-down. */
function widestRankPx(boxes: Box[]): number {
  const rank: number[] = [];
  const visiting = new Set<number>();
  const rankOf = (i: number): number => {
    const known = rank[i];
    if (known !== undefined) return known;
    // A cycle (namespaces can depend on each other) ranks like a back edge: ignored.
    if (visiting.has(i)) return -1;
    visiting.add(i);
    const r = 1 + Math.max(-1, ...(boxes[i]?.dependsOn ?? []).map(rankOf));
    visiting.delete(i);
    rank[i] = r;
    return r;
  };
  const widths = new Map<number, number[]>();
  boxes.forEach((box, i) => {
    const chars = Math.max(...[box.label, ...box.lines].map((l) => Math.min(LABEL_MAX, [...l].length + 2)));
    const r = rankOf(i);
    widths.set(r, [...(widths.get(r) ?? []), chars * CHAR_PX + BOX_PADDING_PX]);
  });
  return Math.max(
    0,
    ...[...widths.values()].map((w) => w.reduce((a, b) => a + b, 0) + (w.length - 1) * NODE_SPACING_PX),
  );
}

/** The fenced chart, or null past GitHub's Mermaid limits. */
function mermaidFlowchart(boxes: Box[]): string | null {
  const lines = ["flowchart TD"];
  boxes.forEach((box, i) => lines.push(`  t${i}["${mermaidLabel(box)}"]`));
  let edges = 0;
  boxes.forEach((box, i) => {
    for (const from of [...new Set(box.dependsOn)].sort((a, b) => a - b)) {
      lines.push(`  t${from} --> t${i}`);
      edges++;
    }
  });
  const members = new Map<FlowchartClass, number[]>();
  boxes.forEach((box, i) => {
    if (box.cls !== "none") members.set(box.cls, [...(members.get(box.cls) ?? []), i]);
  });
  for (const cls of Object.keys(STYLES) as (keyof typeof STYLES)[]) {
    const ids = members.get(cls);
    if (!ids) continue;
    lines.push(`  classDef ${cssClass(cls)} ${STYLES[cls]}`);
    lines.push(`  class ${ids.map((i) => `t${i}`).join(",")} ${cssClass(cls)}`);
  }
  const text = lines.join("\n");
  if (edges > MERMAID_MAX_EDGES || text.length > MERMAID_MAX_TEXT) return null;
  return "```mermaid\n" + text + "\n```";
}

/** `not-started` is not a safe Mermaid class name everywhere; `c_not_started` is. */
function cssClass(cls: FlowchartClass): string {
  return `c_${cls.replace(/-/g, "_")}`;
}

function mermaidLabel(box: Box): string {
  const title = escapeMermaid(shortenMiddle(box.label, LABEL_MAX));
  if (box.lines.length === 0) return title;
  const bullet = box.bulleted ? "• " : "";
  const lines = box.lines.map((l) => bullet + escapeMermaid(shortenMiddle(l, LABEL_MAX)));
  return [`<b>${title}</b>`, ...lines].join("<br/>");
}

/**
 * Mermaid decodes `#<code point>;` inside labels to an HTML entity, so every
 * character outside a plain set becomes one: quotes, brackets, backticks,
 * `<`/`>` and `#` can neither close the label nor inject markup.
 */
export function escapeMermaid(text: string): string {
  let out = "";
  for (const ch of text) {
    out += /[A-Za-z0-9 _.,:/=+-]/.test(ch) ? ch : `#${ch.codePointAt(0) ?? 63};`;
  }
  return out;
}
