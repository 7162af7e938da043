/**
 * How much of a plan a comment or summary shows: the levels of detail, and the
 * most detailed one that fits a byte budget. The sections are in planSections.ts.
 */
import type { PlanDifference } from "../plan/types.js";
import { chartShape } from "./flowchart.js";
import { codeSpan, escapeText, table, utf8Bytes } from "./markdown.js";
import { planVerdict, type DetailLevel, type PlanView } from "./planModel.js";
import {
  renderDefinitionDiff,
  renderFindingLines,
  renderFindingsTable,
  renderFooter,
  renderFunctionLines,
  renderFunctionTable,
  renderHeading,
  renderImage,
  renderOldVersions,
  renderStructureNote,
  renderLink,
  renderPipeline,
  renderStatus,
  summaryPointer,
  stateMachineVerdict,
  findingCounts,
  functionCounts,
} from "./planSections.js";

// Modules outside report/ import the model from here.
export type {
  DetailLevel,
  FunctionChange,
  FunctionRow,
  ImageView,
  PlanLink,
  PlanStatus,
  PlanTask,
  PlanView,
  StateMachineChange,
  TaskChange,
} from "./planModel.js";
export { hasChanges, planVerdict } from "./planModel.js";

export interface RenderOptions {
  level?: DetailLevel;
  /** A comment points to the job summary for what it leaves out; the summary does not. */
  where?: "comment" | "summary";
  /** The definition diff is cut at a line boundary beyond this size. */
  diffMaxBytes?: number;
  /** Flowchart task limit (see renderFlowchart). */
  maxTasks?: number;
  /** The summary already draws the pipeline (coloured by the run): the plan does not draw it again. */
  pipelineDrawnAbove?: boolean;
}

const DIFF_MAX_BYTES = { comment: 20_000, summary: 400_000 };

/** The plan as Markdown at one level of detail. Every user-controlled string is escaped. */
export function renderPlanMarkdown(view: PlanView, options: RenderOptions = {}): string {
  const level = options.level ?? "full";
  const where = options.where ?? "comment";
  const sections = [renderHeading(view), renderStatus(view)];
  if (level === "full") {
    sections.push(
      renderFindingsTable(view.findings),
      renderPipeline(view, { maxTasks: options.maxTasks, drawnAbove: options.pipelineDrawnAbove }),
      renderSharing(view),
      renderFunctionTable(view.functions),
      renderDefinitionDiff(view, where, options.diffMaxBytes ?? DIFF_MAX_BYTES[where]),
      renderOldVersions(view),
      renderStructureNote(view),
      renderImage(view.image),
    );
  } else if (level === "nodes") {
    sections.push(
      renderFindingLines(view.findings),
      renderSharing(view),
      renderFunctionLines(view.functions),
      `**State machine** ${codeSpan(view.stateMachine.name)}: ${stateMachineVerdict(view.stateMachine.change)}.`,
      renderOldVersions(view),
      renderStructureNote(view),
      renderImage(view.image),
      trimmedNote(view, where, [chartName(view), "the state machine definition diff"]),
    );
  } else {
    sections.push(
      `**Pre-flight:** ${findingCounts(view.findings)}.`,
      `**Functions:** ${functionCounts(view.functions)}. **State machine:** ${stateMachineVerdict(view.stateMachine.change)}.`,
      renderSharing(view),
      renderImage(view.image),
      trimmedNote(view, where, [chartName(view), "every function", "the diff"]),
    );
  }
  sections.push(renderFooter(view, where));
  return sections.filter((s) => s !== "").join("\n\n") + "\n";
}

/** One line when functions are shared: a reviewer sees why there are fewer functions than Tasks. */
function renderSharing(view: PlanView): string {
  if (!view.sharing) return "";
  const { functions, tasks } = view.sharing;
  return `**Shared functions** (\`function-sharing: by-settings\`): ${functions} Lambda function${functions === 1 ? "" : "s"} serve${functions === 1 ? "s" : ""} ${tasks} Task${tasks === 1 ? "" : "s"}; each node keeps its own Task.`;
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

/**
 * What a degraded level left out, and where to find it: the summary for a
 * comment, plan-json for the summary. Null parts are left out of the list.
 */
function trimmedNote(view: PlanView, where: "comment" | "summary", parts: (string | null)[]): string {
  const items = parts.filter((p): p is string => p !== null);
  const listed =
    items.length === 1
      ? (items[0] as string)
      : `${items.slice(0, -1).join(", ")} and ${items.at(-1) as string}`;
  const what = listed.charAt(0).toUpperCase() + listed.slice(1);
  if (where === "summary")
    return `_${what} were left out to keep this summary within GitHub's 1 MiB; the \`plan-json\` output has the whole plan._`;
  return `_${what} are in the ${summaryPointer(view, "")}._`;
}

/** How the summary draws the pipeline, so a comment never points to a chart that is not there. */
function chartName(view: PlanView): string | null {
  const shape = chartShape(view.tasks);
  if (shape.kind === "none") return null;
  return shape.kind === "namespaces" ? "the flowchart by namespace" : "the flowchart";
}

/** No user text at all, so it always fits. */
function renderMinimal(view: PlanView, where: "comment" | "summary"): string {
  const pointer =
    where === "comment"
      ? `_The plan is too large for a comment: see the ${summaryPointer(view, "")}._`
      : "_The plan is too large for this summary: see the `plan-json` output._";
  return ["### kedro-sfn plan", `**Plan: ${planVerdict(view.counts)}.**`, pointer].join("\n\n") + "\n";
}
