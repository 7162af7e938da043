import { Input, Output } from "./constants.js";
import { UserError } from "./errors.js";
import { hasErrors, preflight, type Finding } from "./graph/preflight.js";
import type { PipelineGraph } from "./graph/types.js";
import { catalogFile, inspectProject } from "./kedro/inspect.js";
import type { Options } from "./options.js";
import { renderFindings, renderGraphHeadline } from "./report/preflightMarkdown.js";
import { join } from "node:path";

/** Where the job talks to the world: @actions/core in the action, the terminal in the CLI. */
export interface JobIO {
  info(line: string): void;
  warning(message: string, where?: Annotation): void;
  error(message: string, where?: Annotation): void;
  setOutput(name: Output, value: string): void;
  setSecret(secret: string): void;
  /** GITHUB_EVENT_NAME or "" outside Actions. */
  eventName: string;
}

export interface Annotation {
  title?: string;
  file?: string;
}

export interface JobResult {
  mode: "plan" | "deploy";
  graph: PipelineGraph;
  findings: Finding[];
  /** Markdown for the job summary. */
  summary: string;
  /** Set when the step must fail; the reason is also an output. */
  failure?: { reason: string; message: string };
}

/** `auto` plans on pull requests and deploys on pushes and manual runs. */
export function resolveMode(mode: Options["mode"], eventName: string): "plan" | "deploy" {
  if (mode !== "auto") return mode;
  return eventName === "pull_request" || eventName === "pull_request_target" ? "plan" : "deploy";
}

/** The whole job: inspect -> validate -> (compile -> plan -> apply -> run) -> report. */
export async function runJob(options: Options, io: JobIO): Promise<JobResult> {
  const mode = resolveMode(options.mode, io.eventName);
  io.info(`kedro-sfn: ${mode} mode for ${options.projectPath} (pipeline ${options.pipeline}, env ${options.kedroEnv})`);

  const graph = await inspectProject(options);
  io.info(`Inspected ${graph.nodes.length} nodes and ${Object.keys(graph.datasets ?? {}).length} datasets.`);
  io.setOutput(Output.Graph, JSON.stringify(graph));

  const findings = preflight(graph, { env: options.kedroEnv });
  const catalog = join(options.projectPath, "conf", options.kedroEnv, "catalog.yml");
  for (const f of findings) {
    const where = { title: `kedro-sfn: ${f.dataset}`, file: catalog };
    const text = `${f.message}\nAdd to ${f.file}:\n${f.catalogEntry}`;
    if (f.severity === "error") io.error(text, where);
    else io.warning(text, where);
  }
  io.setOutput(Output.Findings, JSON.stringify(findings));

  const summary = [`## kedro-sfn ${mode}`, "", renderGraphHeadline(graph), "", renderFindings(findings)].join("\n");
  const result: JobResult = { mode, graph, findings, summary };
  if (hasErrors(findings)) {
    const count = findings.filter((f) => f.severity === "error").length;
    result.failure = {
      reason: "preflight",
      message: `Pre-flight found ${count} error(s) in ${catalogFile(options.projectPath, options.kedroEnv)}: see the annotations.`,
    };
    io.setOutput(Output.FailureReason, "preflight");
    return result;
  }
  if (mode === "deploy") {
    throw new UserError(`Input '${Input.Mode}': deploy is not available in this build yet.`, {
      hint: "Use mode: plan.",
    });
  }
  return result;
}
