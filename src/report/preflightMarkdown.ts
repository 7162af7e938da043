import type { Finding } from "../graph/preflight.js";
import type { PipelineGraph } from "../graph/types.js";
import { codeBlock, codeSpan, escapeText, nameCode, plural, table } from "./markdown.js";

/** Dataset and node names are cut in the middle beyond this, so the table fits the page. */
const NAME_MAX = 80;

/** The pre-flight section of a summary or PR comment. */
export function renderFindings(findings: Finding[]): string {
  if (findings.length === 0)
    return "**Pre-flight:** no problems found: every dataset passed between Lambdas is persisted.";
  const errors = findings.filter((f) => f.severity === "error").length;
  const warnings = findings.filter((f) => f.severity === "warning").length;
  const infos = findings.length - errors - warnings;
  const names = (list: string[]): string => list.map((n) => nameCode(n, NAME_MAX)).join("<br>");
  const parts = [
    `**Pre-flight:** ${plural(errors, "error")}, ${plural(warnings, "warning")}${infos ? `, ${plural(infos, "dataset")} kept per run` : ""}.`,
    "",
    table(
      ["", "Dataset", "Written by", "Read by", "Problem"],
      findings.map((f) => [
        { error: "❌", warning: "⚠️", info: "ℹ️" }[f.severity],
        nameCode(f.dataset, NAME_MAX),
        f.producer === null ? "(pipeline input)" : nameCode(f.producer, NAME_MAX),
        f.consumers.length ? names(f.consumers) : "(nobody)",
        escapeText(f.message),
      ]),
    ),
  ];
  parts.push(...fixDetails(findings));
  return parts.join("\n");
}

/** A folded, ready-to-paste catalog entry for each error: the fix, one click away. */
export function fixDetails(findings: Finding[]): string[] {
  // One factory pattern edit fixes many datasets: show it once.
  const shown = new Set<string>();
  return findings
    .filter((f) => f.severity === "error" && !shown.has(f.catalogEntry) && shown.add(f.catalogEntry))
    .flatMap((f) => [
      "",
      `<details><summary>Fix for ${nameCode(f.dataset, 60, { wrap: false })}: add to ${nameCode(f.file, Infinity, { wrap: false })}</summary>`,
      "",
      codeBlock(f.catalogEntry, "yaml"),
      "",
      "</details>",
    ]);
}

/** One line about what was inspected. Names are code spans: `__default__` must not turn bold. */
export function renderGraphHeadline(graph: PipelineGraph): string {
  const project = graph.project
    ? `${escapeText(graph.project.name)} (Kedro ${escapeText(graph.project.kedro_version ?? "?")})`
    : "graph";
  const datasets = graph.datasets ? Object.keys(graph.datasets).length : 0;
  return (
    `**${project}**: pipeline ${codeSpan(graph.pipeline ?? "__default__")}, ` +
    `env ${codeSpan(graph.env ?? "?")}, ${plural(graph.nodes.length, "node")}, ${plural(datasets, "dataset")}.`
  );
}
