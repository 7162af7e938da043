import type { Finding } from "../graph/preflight.js";
import type { PipelineGraph } from "../graph/types.js";
import { codeBlock, escapeCell, table } from "./markdown.js";

/** The pre-flight section of a summary or PR comment. */
export function renderFindings(findings: Finding[]): string {
  if (findings.length === 0)
    return "**Pre-flight:** no problems found: every dataset passed between Lambdas is persisted.";
  const errors = findings.filter((f) => f.severity === "error").length;
  const warnings = findings.length - errors;
  const parts = [
    `**Pre-flight:** ${errors} error(s), ${warnings} warning(s).`,
    "",
    table(
      ["", "Dataset", "Written by", "Read by", "Problem"],
      findings.map((f) => [
        f.severity === "error" ? "❌" : "⚠️",
        escapeCell(f.dataset),
        escapeCell(f.producer ?? "(pipeline input)"),
        escapeCell(f.consumers.join(", ") || "(nobody)"),
        escapeCell(f.message),
      ]),
    ),
  ];
  for (const f of findings.filter((x) => x.severity === "error")) {
    parts.push(
      "",
      `<details><summary>Fix for <code>${escapeCell(f.dataset)}</code>: add to <code>${escapeCell(f.file)}</code></summary>`,
      "",
      codeBlock(f.catalogEntry, "yaml"),
      "",
      "</details>",
    );
  }
  return parts.join("\n");
}

/** One line about what was inspected. */
export function renderGraphHeadline(graph: PipelineGraph): string {
  const project = graph.project
    ? `${graph.project.name} (Kedro ${graph.project.kedro_version ?? "?"})`
    : "graph";
  const datasets = graph.datasets ? Object.keys(graph.datasets).length : 0;
  return (
    `**${escapeCell(project)}**: pipeline <code>${escapeCell(graph.pipeline ?? "__default__")}</code>, ` +
    `env <code>${escapeCell(graph.env ?? "?")}</code>, ${graph.nodes.length} nodes, ${datasets} datasets.`
  );
}
