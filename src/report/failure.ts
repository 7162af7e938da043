import { FAILURE_REASONS, type FailureReason } from "../failureReason.js";
import type { Finding } from "../graph/preflight.js";
import { codeBlock, codeSpan, escapeText } from "./escape.js";
import { plural } from "./markdown.js";
import { renderFindings } from "./preflightMarkdown.js";

export interface FailureView {
  reason: FailureReason;
  message: string;
  hint?: string;
}

/** Warnings listed in the summary; the rest are counted (every one is an annotation anyway). */
const WARNINGS_SHOWN = 30;
/** Long multi-line messages (a smoke test's output) keep this many characters in the summary. */
const MESSAGE_MAX_CHARS = 20_000;

/**
 * Why the step failed, at the top of the summary: the reason, the message's
 * first line as prose and the rest of it as a block (messages may list
 * problems line by line), then the hint.
 */
export function renderFailure(failure: FailureView): string {
  const [first = "", ...rest] = failure.message.split(/\r\n|\r|\n/);
  const parts = [
    `### ❌ The step failed: ${codeSpan(failure.reason)}`,
    "",
    `${escapeText(first)}${failure.reason === "internal" ? " _(unexpected: the log has the stack trace)_" : ""}`,
  ];
  const more = rest.join("\n").trim();
  if (more) parts.push("", codeBlock(clip(more, MESSAGE_MAX_CHARS), "text"));
  if (failure.hint) parts.push("", `**What to do:** ${escapeText(failure.hint)}`);
  parts.push("", `<sub>${escapeText(FAILURE_REASONS[failure.reason])}.</sub>`);
  return parts.join("\n");
}

/** The job's warnings as a list, one line each. */
export function renderWarnings(warnings: readonly string[]): string {
  const shown = warnings.slice(0, WARNINGS_SHOWN).map((w) => `- ⚠️ ${escapeText(w)}`);
  const more = warnings.length - shown.length;
  return [
    `**Warnings (${warnings.length})**`,
    "",
    ...shown,
    ...(more > 0 ? [`- …and ${more} more: see the annotations.`] : []),
  ].join("\n");
}

export interface NoPlanView {
  target: string;
  failure: { reason: string; message: string };
  findings: Finding[];
  commit?: string | undefined;
  summaryUrl?: string | undefined;
}

/**
 * The PR comment when the job failed before planning: no plan, why, and (for
 * pre-flight) the findings, or only their counts at level `counts`.
 */
export function renderNoPlanComment(view: NoPlanView & { level: "full" | "counts" }): string {
  const commit = view.commit ? ` at ${codeSpan(view.commit.slice(0, 12))}` : "";
  const summary = view.summaryUrl ? renderSummaryLink(view.summaryUrl) : "job summary of this run";
  const stale = "Any plan shown here before is no longer true.";
  const sections = [`### kedro-sfn plan for ${codeSpan(view.target)}${commit}`];
  if (view.failure.reason === "preflight") {
    const errors = view.findings.filter((f) => f.severity === "error").length;
    sections.push(
      `❌ **Pre-flight failed: no plan.** ${plural(errors, "error")} in the catalog stop the job before ` +
        `planning; the plan comes back here once they are fixed. ${stale}`,
      view.level === "full"
        ? renderFindings(view.findings)
        : `**Pre-flight:** ${plural(errors, "error")}, ${plural(view.findings.length - errors, "warning")}: the findings are in the ${summary}.`,
    );
  } else {
    const first = view.failure.message.split(/\r\n|\r|\n/, 1)[0] ?? "";
    sections.push(
      `❌ **No plan: the job failed** (${codeSpan(view.failure.reason)}): ` +
        `${escapeText(first.length > 300 ? `${first.slice(0, 299)}…` : first)} ${stale} The ${summary} has the details.`,
    );
  }
  sections.push(`<sub>kedro-sfn-action · no plan (${escapeText(view.failure.reason)})</sub>`);
  return `${sections.join("\n\n")}\n`;
}

/** Only an http(s) URL becomes a link. */
function renderSummaryLink(url: string): string {
  if (!/^https?:\/\/[^\s()<>]+$/i.test(url)) return "job summary of this run";
  return `[job summary](${url})`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n… (cut; the log has the whole message)`;
}
