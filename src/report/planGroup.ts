/**
 * The plans of several pipelines deployed by one step (`pipeline: a,b`): one comment, one
 * section per state machine, one hash over all of them (what `require-reviewed-plan` compares).
 */
import { createHash } from "node:crypto";
import { codeSpan, utf8Bytes } from "./markdown.js";
import { fitPlanMarkdown, renderPlanMarkdown, type RenderOptions } from "./planComment.js";
import { hasChanges, planVerdict, type DetailLevel, type PlanView } from "./planModel.js";
import { renderLink } from "./planSections.js";

export interface PlanGroup {
  /** The `label` input, else `state-machine-name` as given: the comment's one target. */
  target: string;
  /** Over every section's plan hash, in order (see groupPlanHash). */
  planHash: string;
  /** One per pipeline, in the order of the input. */
  pipelines: string[];
  views: PlanView[];
  summaryUrl?: string;
  commit?: string;
}

export function isPlanGroup(view: PlanView | PlanGroup): view is PlanGroup {
  return "views" in view;
}

/** One hash for several plans: a change in any of them (or their order) changes it. */
export function groupPlanHash(pipelines: readonly string[], views: readonly PlanView[]): string {
  const lines = views.map((view, i) => `${pipelines[i] ?? ""}\t${view.stateMachine.name}\t${view.planHash}`);
  return createHash("sha256").update(lines.join("\n")).digest("hex");
}

export function planGroupOf(
  target: string,
  pipelines: string[],
  views: PlanView[],
  where: { summaryUrl?: string; commit?: string } = {},
): PlanGroup {
  return { target, planHash: groupPlanHash(pipelines, views), pipelines, views, ...where };
}

export function groupCounts(group: PlanGroup): PlanView["counts"] {
  const counts = { create: 0, update: 0, delete: 0 };
  for (const view of group.views) {
    counts.create += view.counts.create;
    counts.update += view.counts.update;
    counts.delete += view.counts.delete;
  }
  return counts;
}

export function groupHasChanges(group: PlanGroup): boolean {
  return group.views.some(hasChanges);
}

function heading(group: PlanGroup): string {
  const commit = group.commit ? ` at ${codeSpan(group.commit.slice(0, 12))}` : "";
  const lines = group.views.map((view, i) => {
    const status = view.status && view.status !== "planned" ? ` · ${view.status}` : "";
    return `- ${codeSpan(group.pipelines[i] ?? "")} → ${codeSpan(view.stateMachine.name)}: ${planVerdict(view.counts)}${status}`;
  });
  return [
    `### kedro-sfn plan for ${codeSpan(group.target)}${commit}: ${group.views.length} pipelines`,
    `**Plan: ${planVerdict(groupCounts(group))}.**`,
    lines.join("\n"),
  ].join("\n\n");
}

function footer(group: PlanGroup, where: "comment" | "summary"): string {
  const parts = [`plan ${codeSpan(group.planHash.slice(0, 12))}`];
  if (where === "comment" && group.summaryUrl)
    parts.push(renderLink({ text: "job summary", url: group.summaryUrl }));
  return `<sub>kedro-sfn-action · ${parts.join(" · ")}</sub>`;
}

export function renderGroupMarkdown(group: PlanGroup, options: RenderOptions = {}): string {
  const where = options.where ?? "comment";
  const sections = group.views.map((view) => renderPlanMarkdown(view, options).trimEnd());
  return [heading(group), ...sections, footer(group, where)].join("\n\n") + "\n";
}

/**
 * The most detailed level at which every section fits `maxBytes` together; then each section
 * fitted to an equal share; then the heading alone (one line per pipeline, no user text but names).
 */
export function fitGroupMarkdown(
  group: PlanGroup,
  maxBytes: number,
  options: Omit<RenderOptions, "level"> = {},
): { markdown: string; level: DetailLevel | "minimal"; bytes: number } {
  for (const level of ["full", "nodes", "counts"] as const) {
    const markdown = renderGroupMarkdown(group, { ...options, level });
    const bytes = utf8Bytes(markdown);
    if (bytes <= maxBytes) return { markdown, level, bytes };
  }
  const where = options.where ?? "comment";
  const pointer =
    where === "comment"
      ? `_The plans are too large for a comment: see the ${group.summaryUrl ? renderLink({ text: "job summary", url: group.summaryUrl }) : "job summary of this run"}._`
      : "_The plans are too large for this summary: see the `plan-json` outputs (`pipelines`)._";
  const share = Math.floor((maxBytes - utf8Bytes(heading(group)) - 400) / Math.max(1, group.views.length));
  if (share > 0) {
    const sections = group.views.map((view) => fitPlanMarkdown(view, share, options));
    if (sections.every((s) => s.level !== "minimal")) {
      const markdown =
        [heading(group), ...sections.map((s) => s.markdown.trimEnd()), footer(group, where)].join("\n\n") +
        "\n";
      if (utf8Bytes(markdown) <= maxBytes) return { markdown, level: "counts", bytes: utf8Bytes(markdown) };
    }
  }
  const markdown = [heading(group), pointer, footer(group, where)].join("\n\n") + "\n";
  return { markdown, level: "minimal", bytes: utf8Bytes(markdown) };
}
