/** The Markdown of each section of a plan: heading, status, pre-flight, pipeline, functions, diff, image. */
import type { Finding } from "../graph/preflight.js";
import { renderFlowchart, type FlowchartClass } from "./flowchart.js";
import { fixDetails } from "./preflightMarkdown.js";
import { codeBlock, codeSpan, escapeText, nameCode, nowrap, plural, table, utf8Bytes } from "./markdown.js";
import {
  hasChanges,
  planVerdict,
  type FunctionChange,
  type FunctionRow,
  type ImageView,
  type PlanLink,
  type PlanView,
  type StateMachineChange,
  type TaskChange,
} from "./planModel.js";

const STATUS_MAX_CHARS = 1_000;

const CHANGE_TEXT: Record<FunctionChange, string> = {
  create: "create",
  "update-code": "update code",
  "update-config": "update config",
  noop: "unchanged",
  delete: "delete",
};

const FUNCTION_ICONS: Record<FunctionChange, string> = {
  create: "🆕",
  "update-code": "✏️",
  "update-config": "⚙️",
  noop: "·",
  delete: "🗑️",
};

export function renderHeading(view: PlanView): string {
  const verdict = planVerdict(view.counts);
  const commit = view.commit ? ` at ${codeSpan(view.commit.slice(0, 12))}` : "";
  return [
    `### kedro-sfn plan for ${codeSpan(view.target)}${commit}`,
    hasChanges(view)
      ? `**Plan: ${verdict}.**`
      : "**No changes.** The deployed functions and state machine already match.",
  ].join("\n\n");
}

export function renderStatus(view: PlanView): string {
  const links = (view.links ?? []).map(renderLink).join(" · ");
  const withLinks = links ? ` ${links}` : "";
  switch (view.status ?? "planned") {
    case "planned":
      return "";
    case "deploying":
      return `🚀 **Deploying** this plan…${withLinks}`;
    case "deployed":
      return `✅ **Deployed.**${withLinks}`;
    case "failed": {
      const detail = view.statusDetail
        ? ` ${escapeText(truncateChars(view.statusDetail, STATUS_MAX_CHARS))}`
        : "";
      return `❌ **Deploy failed.**${detail}${withLinks}`;
    }
  }
}

/** Only http(s) links become links; the URL is percent-encoded where Markdown would end it. */
export function renderLink(link: PlanLink): string {
  const text = escapeText(link.text);
  if (!/^https?:\/\/[^\s]+$/i.test(link.url)) return text;
  const url = link.url.replace(
    /[()<>"'\\[\]`]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
  );
  return `[${text}](${url})`;
}

export function findingCounts(findings: Finding[]): string {
  if (findings.length === 0) return "no problems found";
  const errors = findings.filter((f) => f.severity === "error").length;
  const warnings = findings.filter((f) => f.severity === "warning").length;
  const infos = findings.length - errors - warnings;
  return `${plural(errors, "error")}, ${plural(warnings, "warning")}${infos ? `, ${plural(infos, "dataset")} kept per run` : ""}`;
}

/** One finding as a sentence built from its fields, every name in a code span. */
function findingSentence(f: Finding, inTable: boolean): string {
  const code = (s: string): string => codeSpan(s, { inTable });
  const readers = f.consumers.map(code).join(", ") || "nobody";
  switch (f.code) {
    case "ephemeral-crosses-tasks":
      return `${code(f.dataset)} is kept in memory but written by ${code(f.producer ?? "?")} and read by ${readers} in another Lambda: persist it in ${code(f.file)}.`;
    case "ephemeral-pipeline-input":
      return `${code(f.dataset)} is a pipeline input (read by ${readers}) missing from ${code(f.file)}: no Lambda can load it.`;
    case "run-store":
      return `${code(f.dataset)}, written by ${code(f.producer ?? "?")} and read by ${readers}, is kept per run at ${code(f.location ?? "?")} (input ${code("data-location")}).`;
    case "ephemeral-output-discarded":
      return `${code(f.dataset)}, written by ${code(f.producer ?? "?")}, is kept in memory only and discarded when the Lambda ends.`;
    default:
      return escapeText(f.message);
  }
}

function severityIcon(f: Finding): string {
  return { error: "❌", warning: "⚠️", info: "ℹ️" }[f.severity];
}

export function renderFindingsTable(findings: Finding[]): string {
  if (findings.length === 0)
    return "**Pre-flight:** no problems found: every dataset passed between Lambdas is persisted.";
  const parts = [
    `**Pre-flight:** ${findingCounts(findings)}.`,
    "",
    table(
      ["", "Problem"],
      findings.map((f) => [severityIcon(f), findingSentence(f, true)]),
    ),
  ];
  parts.push(...fixDetails(findings));
  return parts.join("\n");
}

export function renderFindingLines(findings: Finding[]): string {
  if (findings.length === 0) return "**Pre-flight:** no problems found.";
  return [
    `**Pre-flight:** ${findingCounts(findings)}.`,
    ...findings.map((f) => `- ${severityIcon(f)} ${findingSentence(f, false)}`),
  ].join("\n");
}

const TASK_CLASS: Record<TaskChange, FlowchartClass> = {
  new: "new",
  changed: "changed",
  removed: "removed",
  none: "none",
};

export function renderPipeline(
  view: PlanView,
  options: { maxTasks?: number | undefined; drawnAbove?: boolean | undefined } = {},
): string {
  const head = `**Pipeline** (${plural(view.tasks.length, "task")})`;
  // The run's chart above shows the same tasks: one chart per page.
  if (options.drawnAbove) return `${head}: drawn above with the run's status.`;
  const changeOf = new Map(view.tasks.map((t) => [t.id, t.change]));
  const chart = renderFlowchart(
    view.tasks,
    (id) => TASK_CLASS[changeOf.get(id) ?? "none"],
    options.maxTasks === undefined ? {} : { maxTasks: options.maxTasks },
  );
  const used = new Set(view.tasks.map((t) => t.change));
  const legend = [
    used.has("new") ? "🟩 new" : "",
    used.has("changed") ? "🟨 changed" : "",
    used.has("removed") ? "🟥 removed" : "",
  ].filter((s) => s !== "");
  return [head, "", chart, ...(legend.length ? ["", legend.join(" · ")] : [])].join("\n");
}

function settings(row: FunctionRow): { memory: string; timeout: string } {
  const show = (now: number | null, before: number | undefined, unit: string): string => {
    if (now === null) return "–";
    return before !== undefined && before !== now ? `${before} → ${now} ${unit}` : `${now} ${unit}`;
  };
  return {
    memory: show(row.memoryMb, row.previous?.memoryMb, "MB"),
    timeout: show(row.timeoutSeconds, row.previous?.timeoutSeconds, "s"),
  };
}

/** Names are cut in the middle beyond these lengths so the table fits a 1,000 px page. */
const FUNCTION_NAME_MAX = 80;
const NODE_NAME_MAX = 80;

/** Changes first, in a table; unchanged functions folded below with their count. */
export function renderFunctionTable(rows: FunctionRow[]): string {
  if (rows.length === 0) return "**Functions:** none.";
  const changed = rows.filter((r) => r.change !== "noop");
  const unchanged = rows.filter((r) => r.change === "noop");
  const parts = [`**Functions** (${functionCounts(rows)})`];
  if (changed.length > 0) parts.push("", functionTable(changed));
  if (unchanged.length > 0) {
    parts.push(
      "",
      `<details><summary>${plural(unchanged.length, "unchanged function")}</summary>`,
      "",
      functionTable(unchanged),
      "",
      "</details>",
    );
  }
  return parts.join("\n");
}

function functionTable(rows: FunctionRow[]): string {
  return table(
    ["Change", "Function", "Memory", "Timeout", "Nodes"],
    rows.map((row) => {
      const s = settings(row);
      return [
        nowrap(`${FUNCTION_ICONS[row.change]} ${CHANGE_TEXT[row.change]}`),
        nameCode(row.name, FUNCTION_NAME_MAX),
        nowrap(s.memory),
        nowrap(s.timeout),
        row.nodes.map((n) => nameCode(n, NODE_NAME_MAX)).join("<br>"),
      ];
    }),
  );
}

/** One line per changed function; the unchanged ones folded below. */
export function renderFunctionLines(rows: FunctionRow[]): string {
  if (rows.length === 0) return "**Functions:** none.";
  const line = (row: FunctionRow): string => {
    const s = settings(row);
    const nodes =
      row.nodes.length === 1 && row.nodes[0] === row.name
        ? ""
        : ` (${row.nodes.map((n) => codeSpan(n)).join(", ")})`;
    return `- ${FUNCTION_ICONS[row.change]} ${codeSpan(row.name)}${nodes}: ${CHANGE_TEXT[row.change]}, ${s.memory}, ${s.timeout}`;
  };
  const changed = rows.filter((r) => r.change !== "noop");
  const unchanged = rows.filter((r) => r.change === "noop");
  const parts = [`**Functions** (${functionCounts(rows)}):`, ...changed.map(line)];
  if (unchanged.length > 0) {
    parts.push(
      "",
      `<details><summary>${plural(unchanged.length, "unchanged function")}</summary>`,
      "",
      ...unchanged.map(line),
      "",
      "</details>",
    );
  }
  return parts.join("\n");
}

export function functionCounts(rows: FunctionRow[]): string {
  const order: [FunctionChange, string, string][] = [
    ["create", "to create", "to create"],
    ["update-code", "code update", "code updates"],
    ["update-config", "config update", "config updates"],
    ["delete", "to delete", "to delete"],
    ["noop", "unchanged", "unchanged"],
  ];
  const parts = order
    .map(([change, one, many]) => [rows.filter((r) => r.change === change).length, one, many] as const)
    .filter(([n]) => n > 0)
    .map(([n, one, many]) => plural(n, one, many));
  return `${rows.length} in all${parts.length ? `: ${parts.join(", ")}` : ""}`;
}

export function stateMachineVerdict(change: StateMachineChange): string {
  return { create: "to create", update: "definition changes", noop: "unchanged" }[change];
}

/**
 * A split pipeline's children, as resources of their own: the parent starts each child's exact
 * version, so children publish first and the parent's one update is the cutover.
 */
export function renderChildren(view: PlanView): string {
  const children = view.stateMachine.children;
  if (!children || children.length === 0) return "";
  const rows = children.map((c) => `| ${codeSpan(c.name)} | ${c.tasks} |`);
  return [
    "",
    "",
    `Too big for one state machine: ${codeSpan(view.stateMachine.name)} runs ${children.length} child state machines (a new version of each that changed, published before the parent switches to them).`,
    "",
    "| Child state machine | Tasks |",
    "| --- | ---: |",
    ...rows,
  ].join("\n");
}

export function renderDefinitionDiff(view: PlanView, where: "comment" | "summary", maxBytes: number): string {
  const sm = view.stateMachine;
  const head = `**State machine** ${codeSpan(sm.name)}: ${stateMachineVerdict(sm.change)}.${sm.alias ? ` ${sm.alias}` : ""}${sm.schedule ? ` ${sm.schedule}` : ""}${sm.taskDefinition ? ` ${sm.taskDefinition}` : ""}${renderChildren(view)}`;
  if (sm.change === "noop" || sm.definitionDiff.trim() === "") return head;
  const lines = sm.definitionDiff.replace(/\n$/, "").split("\n");
  const added = lines.filter((l) => l.startsWith("+") && !l.startsWith("+++")).length;
  const removed = lines.filter((l) => l.startsWith("-") && !l.startsWith("---")).length;
  // renderDefinitionChanges marks a changed value with `~`: one line, both values.
  const changed = lines.filter((l) => l.startsWith("~")).length;
  const counts = [`+${added}`, `−${removed}`, ...(changed > 0 ? [`~${changed}`] : [])].join(" ");
  const kept: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    bytes += utf8Bytes(line) + 1;
    if (bytes > maxBytes) break;
    kept.push(line);
  }
  const cut =
    kept.length < lines.length
      ? `\n\n_Diff cut after ${kept.length} of ${lines.length} lines${where === "comment" ? summaryPointer(view, "; the whole diff is in the ") : ""}._`
      : "";
  return [
    head,
    "",
    `<details><summary>Definition diff (${counts} lines)</summary>`,
    "",
    codeBlock(kept.join("\n"), "diff") + cut,
    "",
    "</details>",
  ].join("\n");
}

export function renderImage(image: ImageView): string {
  if (image.state === "would-build") {
    const base = image.baseImage ? ` from ${codeSpan(image.baseImage)}` : "";
    return `**Image:** would be built${base} and pushed to ${codeSpan(image.repository)}.`;
  }
  return `**Image:** ${codeSpan(image.uri)}${image.state === "unchanged" ? " (unchanged)" : ""}.`;
}

export function summaryPointer(view: PlanView, lead: string): string {
  const link = view.summaryUrl
    ? renderLink({ text: "job summary", url: view.summaryUrl })
    : "job summary of this run";
  return `${lead}${link}`;
}

export function renderFooter(view: PlanView, where: "comment" | "summary"): string {
  const parts = [`plan ${codeSpan(view.planHash.slice(0, 12))}`];
  if (where === "comment" && view.summaryUrl)
    parts.push(renderLink({ text: "job summary", url: view.summaryUrl }));
  return `<sub>kedro-sfn-action · ${parts.join(" · ")}</sub>`;
}

export function truncateChars(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max).join("")}…`;
}

/** One line: what learned durations did to the structure; "" when they were not read. */
export function renderStructureNote(view: PlanView): string {
  return view.structureNote ? `**Durations:** ${escapeText(view.structureNote)}` : "";
}

/** One line: what the cutover's clean-up deletes; "" when nothing. */
export function renderOldVersions(view: PlanView): string {
  const old = view.oldVersions;
  if (!old) return "";
  const parts = [
    old.stateMachine > 0 ? `${old.stateMachine} state machine version(s)` : "",
    old.functions > 0 ? `${old.functions} function version(s)` : "",
  ].filter((p) => p !== "");
  return `**Old versions:** ${parts.join(" and ")} deleted after the cutover (\`keep-versions: ${old.keep}\`; a version a running execution uses stays).`;
}
