import { FAILURE_REASONS, type FailureReason } from "../failureReason.js";
import { codeBlock, codeSpan, escapeText } from "./escape.js";

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

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n… (cut; the log has the whole message)`;
}
