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
  /** Above this many tasks a short note replaces the chart. Default 100. */
  maxTasks?: number;
}

/** GitHub's Mermaid refuses larger diagrams (its maxTextSize and maxEdges defaults). */
export const MERMAID_MAX_TEXT = 50_000;
export const MERMAID_MAX_EDGES = 500;
const DEFAULT_MAX_TASKS = 100;

const STYLES: Record<Exclude<FlowchartClass, "none">, string> = {
  new: "fill:#dafbe1,stroke:#1a7f37,stroke-width:2px,color:#0d3d1b",
  changed: "fill:#fff8c5,stroke:#9a6700,stroke-width:2px,color:#3b2300",
  removed: "fill:#ffebe9,stroke:#cf222e,stroke-width:2px,stroke-dasharray:5 5,color:#5d0f12",
  succeeded: "fill:#dafbe1,stroke:#1a7f37,color:#0d3d1b",
  failed: "fill:#ffebe9,stroke:#cf222e,stroke-width:2px,color:#5d0f12",
  running: "fill:#ddf4ff,stroke:#0969da,stroke-width:2px,color:#0a3069",
  "not-started": "fill:#f6f8fa,stroke:#8c959f,stroke-dasharray:3 3,color:#57606a",
};

/**
 * A ```mermaid flowchart of the tasks in the order given, one edge per dependency.
 * Box ids are positional (`t0`, `t1`, ...) so no user text reaches Mermaid's
 * syntax; labels are entity-escaped. Too large a graph gives a one-line note.
 */
export function renderFlowchart(
  tasks: FlowchartTask[],
  classOf: (taskId: string) => FlowchartClass,
  options: FlowchartOptions = {},
): string {
  const maxTasks = options.maxTasks ?? DEFAULT_MAX_TASKS;
  if (tasks.length === 0) return "_No tasks to draw._";
  if (tasks.length > maxTasks) {
    return `_Flowchart not drawn: ${tasks.length} tasks, more than the ${maxTasks} a chart stays readable with._`;
  }
  const index = new Map<string, number>();
  tasks.forEach((task, i) => {
    if (!index.has(task.id)) index.set(task.id, i);
  });
  const lines = ["flowchart TD"];
  tasks.forEach((task, i) => lines.push(`  t${i}["${mermaidLabel(task)}"]`));
  let edges = 0;
  tasks.forEach((task, i) => {
    const parents = new Set<number>();
    for (const dep of task.dependsOn) {
      const from = index.get(dep);
      if (from !== undefined && from !== i) parents.add(from);
    }
    for (const from of [...parents].sort((a, b) => a - b)) {
      lines.push(`  t${from} --> t${i}`);
      edges++;
    }
  });
  const members = new Map<FlowchartClass, number[]>();
  tasks.forEach((task, i) => {
    const cls = classOf(task.id);
    if (cls !== "none") members.set(cls, [...(members.get(cls) ?? []), i]);
  });
  for (const cls of Object.keys(STYLES) as (keyof typeof STYLES)[]) {
    const ids = members.get(cls);
    if (!ids) continue;
    lines.push(`  classDef ${cssClass(cls)} ${STYLES[cls]}`);
    lines.push(`  class ${ids.map((i) => `t${i}`).join(",")} ${cssClass(cls)}`);
  }
  const text = lines.join("\n");
  if (edges > MERMAID_MAX_EDGES || text.length > MERMAID_MAX_TEXT) {
    return `_Flowchart not drawn: ${tasks.length} tasks and ${edges} dependencies are more than GitHub's Mermaid renders._`;
  }
  return "```mermaid\n" + text + "\n```";
}

/** `not-started` is not a safe Mermaid class name everywhere; `c_not_started` is. */
function cssClass(cls: FlowchartClass): string {
  return `c_${cls.replace(/-/g, "_")}`;
}

function mermaidLabel(task: FlowchartTask): string {
  const title = escapeMermaid(task.label);
  const listNodes = task.nodes.length > 1 || (task.nodes.length === 1 && task.nodes[0] !== task.label);
  if (!listNodes) return title;
  return [`<b>${title}</b>`, ...task.nodes.map((n) => `• ${escapeMermaid(n)}`)].join("<br/>");
}

/**
 * Mermaid decodes `#<code point>;` inside labels to an HTML entity, so every
 * character outside a plain set becomes one: quotes, brackets, backticks,
 * `<`/`>` and `#` can neither close the label nor inject markup.
 */
export function escapeMermaid(text: string): string {
  let out = "";
  for (const ch of text) {
    out += /[A-Za-z0-9 _.:/=+-]/.test(ch) ? ch : `#${ch.codePointAt(0) ?? 63};`;
  }
  return out;
}
