import type { PlanDifference } from "../plan/types.js";
import type { Finding } from "../graph/preflight.js";
import { renderFlowchart, type FlowchartClass, type FlowchartTask } from "./flowchart.js";
import { codeBlock, codeSpan, escapeHtml, escapeText, table, utf8Bytes } from "./markdown.js";

export type FunctionChange = "create" | "update-code" | "update-config" | "noop" | "delete";
export type StateMachineChange = "create" | "update" | "noop";
export type TaskChange = "new" | "changed" | "removed" | "none";
export type PlanStatus = "planned" | "deploying" | "deployed" | "failed";

/** How much of the plan a rendering shows: the comment degrades through these in order. */
export type DetailLevel = "full" | "nodes" | "counts";

/** A box of the flowchart and what the plan does to its Lambda. */
export interface PlanTask extends FlowchartTask {
  change: TaskChange;
}

export interface FunctionRow {
  name: string;
  /** Kedro nodes the function runs. */
  nodes: string[];
  change: FunctionChange;
  /** Desired settings; null when unknown (a function being deleted). */
  memoryMb: number | null;
  timeoutSeconds: number | null;
  /** Deployed settings, when an update-config changes them. */
  previous?: { memoryMb?: number; timeoutSeconds?: number };
}

export type ImageView =
  | { state: "would-build"; repository: string; baseImage?: string }
  | { state: "built" | "unchanged"; uri: string };

export interface PlanLink {
  text: string;
  url: string;
}

/** Everything the PR comment and the job summary show about a plan, as plain data. */
export interface PlanView {
  /** The `label` input, else the state machine name: tells targets apart on one PR. */
  target: string;
  counts: { create: number; update: number; delete: number };
  findings: Finding[];
  tasks: PlanTask[];
  functions: FunctionRow[];
  stateMachine: { name: string; change: StateMachineChange; definitionDiff: string };
  image: ImageView;
  planHash: string;
  /** Absent means planned. */
  status?: PlanStatus;
  /** Why a deploy failed; shown with status failed. */
  statusDetail?: string;
  /** State machine, execution, run: shown with the status. */
  links?: PlanLink[];
  /** The run page holding the job summary, where degraded comments point. */
  summaryUrl?: string;
  /** Commit the plan was made for. */
  commit?: string;
}

export interface RenderOptions {
  level?: DetailLevel;
  /** A comment points to the job summary for what it leaves out; the summary does not. */
  where?: "comment" | "summary";
  /** The definition diff is cut at a line boundary beyond this size. */
  diffMaxBytes?: number;
  /** Flowchart task limit (see renderFlowchart). */
  maxTasks?: number;
}

const DIFF_MAX_BYTES = { comment: 20_000, summary: 400_000 };
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

/** The plan as Markdown at one level of detail. Every user-controlled string is escaped. */
export function renderPlanMarkdown(view: PlanView, options: RenderOptions = {}): string {
  const level = options.level ?? "full";
  const where = options.where ?? "comment";
  const sections = [renderHeading(view), renderStatus(view)];
  if (level === "full") {
    sections.push(
      renderFindingsTable(view.findings),
      renderPipeline(view, options.maxTasks),
      renderFunctionTable(view.functions),
      renderDefinitionDiff(view, where, options.diffMaxBytes ?? DIFF_MAX_BYTES[where]),
      renderImage(view.image),
    );
  } else if (level === "nodes") {
    sections.push(
      renderFindingLines(view.findings),
      renderFunctionLines(view.functions),
      `**State machine** ${codeSpan(view.stateMachine.name)}: ${stateMachineVerdict(view.stateMachine.change)}.`,
      renderImage(view.image),
      trimmedNote(view, where, "The flowchart and the state machine definition diff"),
    );
  } else {
    sections.push(
      `**Pre-flight:** ${findingCounts(view.findings)}.`,
      `**Functions:** ${functionCounts(view.functions)}. **State machine:** ${stateMachineVerdict(view.stateMachine.change)}.`,
      renderImage(view.image),
      trimmedNote(view, where, "The flowchart, every function and the diff"),
    );
  }
  sections.push(renderFooter(view, where));
  return sections.filter((s) => s !== "").join("\n\n") + "\n";
}

export interface FittedPlan {
  markdown: string;
  level: DetailLevel | "minimal";
  bytes: number;
}

/**
 * The most detailed rendering within `maxBytes` (UTF-8): full, then one line
 * per function, then counts, then a fixed minimal note. Whole renderings are
 * compared, so Markdown is never cut in half.
 */
export function fitPlanMarkdown(
  view: PlanView,
  maxBytes: number,
  options: Omit<RenderOptions, "level"> = {},
): FittedPlan {
  for (const level of ["full", "nodes", "counts"] as const) {
    const markdown = renderPlanMarkdown(view, { ...options, level });
    const bytes = utf8Bytes(markdown);
    if (bytes <= maxBytes) return { markdown, level, bytes };
  }
  const markdown = renderMinimal(view, options.where ?? "comment");
  return { markdown, level: "minimal", bytes: utf8Bytes(markdown) };
}

/** The one-line verdict, e.g. "2 to create, 1 to update, 0 to delete" or "no changes". */
export function planVerdict(counts: PlanView["counts"]): string {
  if (counts.create + counts.update + counts.delete === 0) return "no changes";
  return `${counts.create} to create, ${counts.update} to update, ${counts.delete} to delete`;
}

export function hasChanges(view: PlanView): boolean {
  return view.counts.create + view.counts.update + view.counts.delete > 0;
}

/** Why a deploy was refused under `require-reviewed-plan`: a table of what the reviewed plan and this one do differently. */
export function renderPlanDifferences(differences: PlanDifference[], reviewedUrl?: string): string {
  const where = reviewedUrl ? ` (${renderLink({ text: "reviewed plan", url: reviewedUrl })})` : "";
  return [
    `**Not deployed: the plan changed since it was reviewed${where}.**`,
    "",
    table(
      ["", "Reviewed", "Now"],
      differences.map((d) => [
        d.kind === "plan" ? escapeText(d.name) : `${d.kind} ${codeSpan(d.name, { inTable: true })}`,
        codeSpan(d.reviewed, { inTable: true }),
        codeSpan(d.current, { inTable: true }),
      ]),
    ),
  ].join("\n");
}

function renderHeading(view: PlanView): string {
  const verdict = planVerdict(view.counts);
  const commit = view.commit ? ` at ${codeSpan(view.commit.slice(0, 12))}` : "";
  return [
    `### kedro-sfn plan for ${codeSpan(view.target)}${commit}`,
    hasChanges(view)
      ? `**Plan: ${verdict}.**`
      : "**No changes.** The deployed functions and state machine already match.",
  ].join("\n\n");
}

function renderStatus(view: PlanView): string {
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

function findingCounts(findings: Finding[]): string {
  if (findings.length === 0) return "no problems found";
  const errors = findings.filter((f) => f.severity === "error").length;
  return `${plural(errors, "error")}, ${plural(findings.length - errors, "warning")}`;
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
    case "ephemeral-output-discarded":
      return `${code(f.dataset)}, written by ${code(f.producer ?? "?")}, is kept in memory only and discarded when the Lambda ends.`;
    default:
      return escapeText(f.message);
  }
}

function severityIcon(f: Finding): string {
  return f.severity === "error" ? "❌" : "⚠️";
}

function renderFindingsTable(findings: Finding[]): string {
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
  for (const f of findings.filter((x) => x.severity === "error")) {
    parts.push(
      "",
      `<details><summary>Fix for <code>${escapeHtml(f.dataset)}</code>: add to <code>${escapeHtml(f.file)}</code></summary>`,
      "",
      codeBlock(f.catalogEntry, "yaml"),
      "",
      "</details>",
    );
  }
  return parts.join("\n");
}

function renderFindingLines(findings: Finding[]): string {
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

function renderPipeline(view: PlanView, maxTasks: number | undefined): string {
  const changeOf = new Map(view.tasks.map((t) => [t.id, t.change]));
  const chart = renderFlowchart(
    view.tasks,
    (id) => TASK_CLASS[changeOf.get(id) ?? "none"],
    maxTasks === undefined ? {} : { maxTasks },
  );
  const used = new Set(view.tasks.map((t) => t.change));
  const legend = [
    used.has("new") ? "🟩 new" : "",
    used.has("changed") ? "🟨 changed" : "",
    used.has("removed") ? "🟥 removed" : "",
  ].filter((s) => s !== "");
  return [
    `**Pipeline** (${plural(view.tasks.length, "task")})`,
    "",
    chart,
    ...(legend.length ? ["", legend.join(" · ")] : []),
  ].join("\n");
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

function renderFunctionTable(rows: FunctionRow[]): string {
  if (rows.length === 0) return "**Functions:** none.";
  return [
    `**Functions** (${functionCounts(rows)})`,
    "",
    table(
      ["", "Function", "Nodes", "Change", "Memory", "Timeout"],
      rows.map((row) => {
        const s = settings(row);
        return [
          FUNCTION_ICONS[row.change],
          codeSpan(row.name, { inTable: true }),
          row.nodes.map((n) => codeSpan(n, { inTable: true })).join("<br>"),
          CHANGE_TEXT[row.change],
          s.memory,
          s.timeout,
        ];
      }),
    ),
  ].join("\n");
}

function renderFunctionLines(rows: FunctionRow[]): string {
  if (rows.length === 0) return "**Functions:** none.";
  const lines = rows.map((row) => {
    const s = settings(row);
    const nodes =
      row.nodes.length === 1 && row.nodes[0] === row.name
        ? ""
        : ` (${row.nodes.map((n) => codeSpan(n)).join(", ")})`;
    return `- ${FUNCTION_ICONS[row.change]} ${codeSpan(row.name)}${nodes}: ${CHANGE_TEXT[row.change]}, ${s.memory}, ${s.timeout}`;
  });
  return [`**Functions** (${functionCounts(rows)}):`, ...lines].join("\n");
}

function functionCounts(rows: FunctionRow[]): string {
  const order: [FunctionChange, string][] = [
    ["create", "to create"],
    ["update-code", "code update"],
    ["update-config", "config update"],
    ["delete", "to delete"],
    ["noop", "unchanged"],
  ];
  const parts = order
    .map(([change, text]) => [rows.filter((r) => r.change === change).length, text] as const)
    .filter(([n]) => n > 0)
    .map(([n, text]) => `${n} ${text}`);
  return `${rows.length} in all${parts.length ? `: ${parts.join(", ")}` : ""}`;
}

function stateMachineVerdict(change: StateMachineChange): string {
  return { create: "to create", update: "definition changes", noop: "unchanged" }[change];
}

function renderDefinitionDiff(view: PlanView, where: "comment" | "summary", maxBytes: number): string {
  const sm = view.stateMachine;
  const head = `**State machine** ${codeSpan(sm.name)}: ${stateMachineVerdict(sm.change)}.`;
  if (sm.change === "noop" || sm.definitionDiff.trim() === "") return head;
  const lines = sm.definitionDiff.replace(/\n$/, "").split("\n");
  const added = lines.filter((l) => l.startsWith("+") && !l.startsWith("+++")).length;
  const removed = lines.filter((l) => l.startsWith("-") && !l.startsWith("---")).length;
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
    `<details><summary>Definition diff (+${added} −${removed} lines)</summary>`,
    "",
    codeBlock(kept.join("\n"), "diff") + cut,
    "",
    "</details>",
  ].join("\n");
}

function renderImage(image: ImageView): string {
  if (image.state === "would-build") {
    const base = image.baseImage ? ` from ${codeSpan(image.baseImage)}` : "";
    return `**Image:** would be built${base} and pushed to ${codeSpan(image.repository)}.`;
  }
  return `**Image:** ${codeSpan(image.uri)}${image.state === "unchanged" ? " (unchanged)" : ""}.`;
}

function summaryPointer(view: PlanView, lead: string): string {
  const link = view.summaryUrl
    ? renderLink({ text: "job summary", url: view.summaryUrl })
    : "job summary of this run";
  return `${lead}${link}`;
}

/** What a degraded level left out, and where to find it: the summary for a comment, plan-json for the summary. */
function trimmedNote(view: PlanView, where: "comment" | "summary", what: string): string {
  if (where === "summary")
    return `_${what} were left out to keep this summary within GitHub's 1 MiB; the \`plan-json\` output has the whole plan._`;
  return `_${what} are in the ${summaryPointer(view, "")}._`;
}

function renderFooter(view: PlanView, where: "comment" | "summary"): string {
  const parts = [`plan ${codeSpan(view.planHash.slice(0, 12))}`];
  if (where === "comment" && view.summaryUrl)
    parts.push(renderLink({ text: "job summary", url: view.summaryUrl }));
  return `<sub>kedro-sfn-action · ${parts.join(" · ")}</sub>`;
}

/** No user text at all, so it always fits. */
function renderMinimal(view: PlanView, where: "comment" | "summary"): string {
  const pointer =
    where === "comment"
      ? `_The plan is too large for a comment: see the ${summaryPointer(view, "")}._`
      : "_The plan is too large for this summary: see the `plan-json` output._";
  return ["### kedro-sfn plan", `**Plan: ${planVerdict(view.counts)}.**`, pointer].join("\n\n") + "\n";
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function truncateChars(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max).join("")}…`;
}
