import type { RunReport } from "../run/execute.js";
import { formatDuration } from "../run/duration.js";
import type { NodeState, PipelineTask, TaskRun } from "../run/types.js";
import { renderFlowchart, type FlowchartClass } from "./flowchart.js";
import { renderGantt } from "./gantt.js";
import {
  codeBlock,
  codeSpan,
  escapeHtml,
  escapeText,
  htmlText,
  nameCode,
  plural,
  utf8Bytes,
} from "./markdown.js";
import { renderNodeTable, STATUS_ICON, STATUS_ORDER, STATUS_WORD } from "./nodeTable.js";
import { fitPlanMarkdown, type PlanView } from "./planComment.js";

/** GitHub takes at most 1 MiB per step summary; keep room for the sections main.ts adds. */
export const SUMMARY_MAX_BYTES = 1024 * 1024;
export const SUMMARY_BUDGET_BYTES = SUMMARY_MAX_BYTES - 64 * 1024;

/** How much of the run a rendering shows, most detailed first. */
export type SummaryLevel = "full" | "no-diagrams" | "problems" | "counts";
const LEVELS: SummaryLevel[] = ["full", "no-diagrams", "problems", "counts"];

/** At the "problems" level only this many failures keep their details. */
const PROBLEM_DETAILS = 20;
/** At the "problems" level the table keeps this many rows (about 300 KB). */
const PROBLEM_ROWS = 500;
/** Node names listed at the "counts" level. */
const COUNTS_NAMES = 50;
/** A failure's one-line summary keeps its node name to this many characters. */
const SUMMARY_NAME_MAX = 60;

export interface RunSummaryInput {
  run: RunReport;
  /** Tasks with their dependencies, for the flowchart (pipelineTasksFromGraph or ...FromDefinition). */
  pipeline: readonly PipelineTask[];
  /** Image the functions run (repository@sha256:...). */
  image?: string | null;
  /** Epoch ms at rendering: running bars of the timeline end here. */
  nowMs?: number;
}

export interface FittedSummary {
  markdown: string;
  level: SummaryLevel;
  bytes: number;
}

/**
 * The job summary of a run at the most detailed level that fits `budgetBytes`
 * (UTF-8): full, then without diagrams, then only the nodes that did not
 * succeed, then counts. Whole renderings are measured, so the Markdown is never
 * cut in half.
 */
export function renderRunSummary(input: RunSummaryInput, budgetBytes = SUMMARY_BUDGET_BYTES): FittedSummary {
  let markdown = "";
  for (const level of LEVELS) {
    markdown = renderRunSummaryAt(input, level);
    const bytes = utf8Bytes(markdown);
    if (bytes <= budgetBytes || level === "counts") return { markdown, level, bytes };
  }
  return { markdown, level: "counts", bytes: utf8Bytes(markdown) };
}

export function renderRunSummaryAt(input: RunSummaryInput, level: SummaryLevel): string {
  const { run } = input;
  const sections = [renderHeadline(input), renderResumed(run, level), renderCounts(run)];
  if (run.waited && run.nodes.length === 0 && run.tasks.length === 0) {
    sections.push("_Per-node status is missing: the execution history could not be read (see the log)._");
  }
  if (run.nodes.length > 0) {
    const startMs = Date.parse(run.startedAt);
    if (level === "full" || level === "no-diagrams") {
      // Failures first: at 300 nodes they would sit far below a green table.
      sections.push(
        renderFailures(run.tasks, Infinity),
        renderNodeTable(run.nodes, { executionStartMs: startMs }),
      );
    } else if (level === "problems") {
      const problems = new Set<NodeState>(["failed", "timed-out", "aborted", "running"]);
      const table = renderNodeTable(run.nodes, {
        executionStartMs: startMs,
        only: problems,
        maxRows: PROBLEM_ROWS,
      });
      sections.push(
        renderFailures(run.tasks, PROBLEM_DETAILS),
        table ? `**Nodes that did not succeed**\n\n${table}` : "",
        `_The full per-node table is left out: it does not fit in a job summary. The \`node-statuses\` output has every node._`,
      );
    } else {
      sections.push(
        renderProblemNames(run.tasks),
        `_Details are left out: they do not fit in a job summary. The \`node-statuses\` output has every node._`,
      );
    }
    if (level === "full") {
      sections.push(
        `**Timeline**\n\n${renderGantt(run.tasks, input.nowMs !== undefined ? { nowMs: input.nowMs } : {})}`,
        renderStatusFlowchart(input.pipeline, run.tasks),
      );
    }
  }
  return sections.filter((s) => s !== "").join("\n\n") + "\n";
}

function renderHeadline(input: RunSummaryInput): string {
  const { run } = input;
  const took = run.durationMs !== null ? formatDuration(run.durationMs) : null;
  let title: string;
  if (!run.waited) title = "🚀 Pipeline run started (not waited for)";
  else if (run.waitTimedOut)
    title = `⏳ Pipeline still ${run.status.toLowerCase()}: the step stopped waiting`;
  else {
    switch (run.status) {
      case "SUCCEEDED":
        title = `✅ Pipeline run succeeded${took ? ` in ${took}` : ""}`;
        break;
      case "FAILED":
        title = `❌ Pipeline run failed${took ? ` after ${took}` : ""}`;
        break;
      case "TIMED_OUT":
        title = `⏱️ Pipeline run timed out${took ? ` after ${took}` : ""}`;
        break;
      case "ABORTED":
        title = `⏹️ Pipeline run aborted${took ? ` after ${took}` : ""} (stopped outside this step)`;
        break;
      default:
        title = `⏳ Pipeline run ${run.status.toLowerCase()}`;
    }
  }
  const facts = [`**Execution** <a href="${escapeHtml(run.consoleUrl)}">${htmlText(run.name)}</a>`];
  const version = versionOf(run.stateMachineVersionArn ?? run.stateMachineArn);
  if (version) {
    facts.push(
      `**State machine** ${codeSpan(version.name)}${version.version ? ` version ${escapeText(version.version)}` : ""}`,
    );
  }
  if (input.image) facts.push(`**Image** ${codeSpan(input.image)}`);
  // An ISO time from the SDK, not user text: shown as it is, with its zone.
  facts.push(`**Started** ${run.startedAt.replace("T", " ").replace(/\.\d+Z$/, " UTC")}`);
  const lines = [`### ${title}`, "", facts.join(" · ")];
  if (run.failure) {
    // The headline links the execution already; the message's own link is for the log.
    const why = run.failure.message.replace(` See ${run.consoleUrl}`, "");
    lines.push("", `**Why the step fails:** ${escapeText(why)}`);
  } else if ((run.error || run.cause) && run.status !== "SUCCEEDED") {
    lines.push(
      "",
      `**Error:** ${escapeText([run.error, run.cause].filter(Boolean).join(": ").slice(0, 1000))}`,
    );
  }
  return lines.join("\n");
}

/**
 * A resume says what it resumes (linked), under which run id, and which nodes it skipped and why.
 * The skipped names are listed up to the "problems" level; at "counts" only their number.
 */
export function renderResumed(run: RunReport, level: SummaryLevel): string {
  const from = run.resumedFrom;
  if (!from) return "";
  const link = `<a href="${escapeHtml(from.consoleUrl)}">${htmlText(from.name)}</a>`;
  const lines = [
    `**Resumes** ${link} with its run id ${codeSpan(from.runId)}: ${STATUS_ICON.skipped} ${plural(from.skipped.length, "node")} skipped ` +
      `because they succeeded there (their outputs, saved under that run id, are read as they are); ` +
      `${plural(from.rerun.length, "node")} run again: the failed node(s), those that did not run, and everything downstream.`,
  ];
  if (from.skipped.length > 0 && level !== "counts") {
    const shown = from.skipped.slice(0, PROBLEM_ROWS).map((n) => codeSpan(n));
    const more = from.skipped.length > PROBLEM_ROWS ? ` and ${from.skipped.length - PROBLEM_ROWS} more` : "";
    lines.push(
      "",
      `<details><summary>Skipped nodes (${from.skipped.length})</summary>`,
      "",
      `${shown.join(", ")}${more}`,
      "",
      "</details>",
    );
  }
  return lines.join("\n");
}

/** `arn:...:stateMachine:NAME:7` -> NAME, 7. */
function versionOf(arn: string): { name: string; version: string | null } | null {
  const match = /:stateMachine:([^:]+)(?::(\d+))?$/.exec(arn);
  if (!match) return null;
  return { name: match[1] as string, version: match[2] ?? null };
}

function renderCounts(run: RunReport): string {
  if (run.nodes.length === 0) return "";
  const counts = new Map<NodeState, number>();
  for (const n of run.nodes) counts.set(n.status, (counts.get(n.status) ?? 0) + 1);
  const parts = STATUS_ORDER.filter((s) => counts.has(s)).map(
    (s) => `${STATUS_ICON[s]} ${counts.get(s)} ${STATUS_WORD[s]}`,
  );
  const tasks = run.tasks.length;
  const inTasks = tasks > 0 && tasks !== run.nodes.length ? ` in ${plural(tasks, "Lambda task")}` : "";
  return `**${plural(run.nodes.length, "node")}${inTasks}:** ${parts.join(" · ")}`;
}

/** One `<details>` per failed Task: error type and message, traceback tail, log link. */
export function renderFailures(tasks: readonly TaskRun[], max: number): string {
  const failed = tasks.filter((t) => (t.status === "failed" || t.status === "timed-out") && t.error);
  if (failed.length === 0) return "";
  const parts = ["**Failures**"];
  for (const t of failed.slice(0, max)) {
    const error = t.error as NonNullable<TaskRun["error"]>;
    const who = t.nodes.length === 1 ? (t.nodes[0] as string) : `${t.stateName} (${t.nodes.length} nodes)`;
    const first = error.message.split("\n", 1)[0] ?? "";
    const facts = [
      `Lambda ${codeSpan(t.functionName)}`,
      t.nodes.length > 1 ? `nodes ${t.nodes.map((n) => codeSpan(n)).join(", ")}` : "",
      `${t.attempts} attempt${t.attempts === 1 ? "" : "s"}`,
      t.startMs !== null && t.endMs !== null ? `failed after ${formatDuration(t.endMs - t.startMs)}` : "",
    ].filter((f) => f !== "");
    parts.push(
      [
        `<details><summary>${STATUS_ICON[t.status]} ${nameCode(who, SUMMARY_NAME_MAX, { wrap: false })}: ${htmlText(error.type)}: ${htmlText(clip(first, 200))}</summary>`,
        "",
        facts.join(" · "),
        "",
        codeBlock(error.message || "(no message)", "text"),
        ...(error.traceback.length > 0
          ? ["", "Traceback (last lines):", "", codeBlock(error.traceback.join("\n"), "text")]
          : []),
        "",
        "</details>",
      ].join("\n"),
    );
  }
  if (failed.length > max)
    parts.push(
      `_…and ${plural(failed.length - max, "more failed task")}; see the \`node-statuses\` output._`,
    );
  return parts.join("\n\n");
}

function renderProblemNames(tasks: readonly TaskRun[]): string {
  const bad = tasks.filter((t) => t.status === "failed" || t.status === "timed-out");
  if (bad.length === 0) return "";
  const names = bad.flatMap((t) => t.nodes);
  const shown = names.slice(0, COUNTS_NAMES).map((n) => codeSpan(n));
  const more = names.length > COUNTS_NAMES ? ` and ${names.length - COUNTS_NAMES} more` : "";
  return `**Failed:** ${shown.join(", ")}${more}`;
}

/** Flowchart colours for run states (the chart has no class of its own for retried, timed-out, aborted). */
export const RUN_CLASS: Record<NodeState, FlowchartClass> = {
  succeeded: "succeeded",
  retried: "succeeded",
  failed: "failed",
  "timed-out": "failed",
  // It was in flight when the execution ended: not red, or the node that failed would not stand out.
  aborted: "running",
  running: "running",
  "not-started": "not-started",
  // Its outputs are the first run's: the data is there, as for a node that succeeded.
  skipped: "succeeded",
};

/** The pipeline flowchart coloured by run status. */
export function renderStatusFlowchart(pipeline: readonly PipelineTask[], runs: readonly TaskRun[]): string {
  const statusOf = new Map(runs.map((r) => [r.stateName, r.status]));
  const chart = renderFlowchart(
    pipeline.map((t) => ({
      id: t.stateName,
      label: t.nodes.length === 1 ? (t.nodes[0] as string) : t.stateName,
      nodes: t.nodes,
      dependsOn: t.dependsOn,
    })),
    (id) => RUN_CLASS[statusOf.get(id) ?? "not-started"],
  );
  return `**Pipeline**\n\n${chart}\n\n🟩 succeeded · 🟥 failed or timed out · 🟦 running or cut short · ⬜ not started`;
}

export interface DeploySummaryInput {
  plan: PlanView;
  /** The run's flowchart above already draws the pipeline. */
  pipelineDrawnAbove?: boolean;
}

/** Without an execution: the deploy plan with its pipeline flowchart, fitted to the budget. */
export function renderDeploySummary(input: DeploySummaryInput, budgetBytes = SUMMARY_BUDGET_BYTES): string {
  return fitPlanMarkdown(input.plan, budgetBytes, {
    where: "summary",
    ...(input.pipelineDrawnAbove ? { pipelineDrawnAbove: true } : {}),
  }).markdown;
}

/**
 * The whole step summary: the run first (it is what the reader came for), then
 * the plan in whatever room is left. Either may be absent. The pipeline is
 * drawn once: coloured by the run when there is one.
 */
export function renderJobSummary(
  parts: { run?: RunSummaryInput | null; plan?: PlanView | null },
  budgetBytes = SUMMARY_BUDGET_BYTES,
): string {
  const sections: string[] = [];
  let left = budgetBytes;
  let drawn = false;
  if (parts.run) {
    // The plan's smallest rendering is kept out of the run's share.
    const reserve = parts.plan
      ? utf8Bytes(fitPlanMarkdown(parts.plan, 0, { where: "summary" }).markdown) + 2
      : 0;
    const run = renderRunSummary(parts.run, Math.max(0, left - reserve));
    sections.push(run.markdown);
    left -= run.bytes + 1;
    drawn = run.level === "full" && parts.run.run.nodes.length > 0;
  }
  if (parts.plan) {
    sections.push(renderDeploySummary({ plan: parts.plan, pipelineDrawnAbove: drawn }, Math.max(0, left)));
  }
  return sections.join("\n");
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
