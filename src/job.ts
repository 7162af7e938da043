import { compilePipeline } from "./compile/index.js";
import type { CompiledPipeline } from "./compile/types.js";
import { compileOptionsFrom } from "./compileSettings.js";
import { planAndDeploy } from "./deployStage.js";
import { Input, Output } from "./constants.js";
import { hasErrors, preflight, type Finding } from "./graph/preflight.js";
import { GRAPH_SCHEMA, type PipelineGraph } from "./graph/types.js";
import { readEventContext } from "./github/context.js";
import { checkEvent } from "./github/safety.js";
import { catalogFile, inspectProject } from "./kedro/inspect.js";
import { requireInputs, type Options } from "./options.js";
import type { Plan } from "./plan/types.js";
import type { RunReport } from "./run/execute.js";
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
  compiled?: CompiledPipeline;
  plan?: Plan;
  run?: RunReport;
  /** Seconds per stage, in the order they ran. */
  timings: [string, number][];
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

/** What every mode does first: inspect, compile, and the pre-flight check. */
export interface Inspected {
  graph: PipelineGraph;
  compiled: CompiledPipeline;
  findings: Finding[];
}

/** Runs `work` and records how long it took under `stage`. */
export async function timed<T>(
  timings: [string, number][],
  stage: string,
  work: () => Promise<T> | T,
): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    timings.push([stage, (performance.now() - started) / 1000]);
  }
}

export function renderTimings(timings: [string, number][]): string {
  return timings.map(([stage, seconds]) => `${stage} ${seconds.toFixed(1)}s`).join(", ");
}

export async function inspectAndCompile(
  options: Options,
  io: JobIO,
  timings: [string, number][] = [],
): Promise<Inspected> {
  const graph = await timed(timings, "inspect", () => inspectProject(options));
  io.info(`Inspected ${graph.nodes.length} nodes and ${Object.keys(graph.datasets ?? {}).length} datasets.`);
  io.setOutput(Output.Graph, JSON.stringify(graph));

  const compiled = await timed(timings, "compile", () =>
    compilePipeline(graph, compileOptionsFrom(options, options.projectPath, graph)),
  );
  for (const w of compiled.warnings) io.warning(w);
  for (const m of compiled.merges)
    io.info(`Merged into ${m.functionName}: ${m.nodes.join(", ")} (${m.reason}).`);
  io.info(`Compiled ${compiled.functions.length} Lambda function(s).`);

  const taskOf = new Map<string, string>();
  for (const fn of compiled.functions) for (const node of fn.nodes) taskOf.set(node, fn.functionName);
  const findings = preflight(graph, { env: options.kedroEnv, taskOf });
  const catalog = join(options.projectPath, "conf", options.kedroEnv, "catalog.yml");
  for (const f of findings) {
    const where = { title: `kedro-sfn: ${f.dataset}`, file: catalog };
    const text = `${f.message}\nAdd to ${f.file}:\n${f.catalogEntry}`;
    if (f.severity === "error") io.error(text, where);
    else io.warning(text, where);
  }
  io.setOutput(Output.Findings, JSON.stringify(findings));
  return { graph, compiled, findings };
}

/** The whole job: inspect -> validate -> compile -> plan -> (build -> apply -> run) -> report. */
export async function runJob(options: Options, io: JobIO): Promise<JobResult> {
  const mode = resolveMode(options.mode, io.eventName);
  io.info(
    `kedro-sfn: ${mode} mode for ${options.projectPath} (pipeline ${options.pipeline}, env ${options.kedroEnv})`,
  );
  const timings: [string, number][] = [];
  // Before any project code runs: inspecting imports the project, which a fork may have changed.
  const context = readEventContext(process.env);
  const { warnings, refusal } = checkEvent(context, options.mode, mode);
  for (const w of warnings) io.warning(w);
  if (refusal) {
    io.setOutput(Output.FailureReason, refusal.reason);
    const message = `${refusal.message}\n${refusal.hint}`;
    const graph: PipelineGraph = { schema: GRAPH_SCHEMA, nodes: [] };
    return {
      mode,
      graph,
      findings: [],
      timings,
      summary: `## kedro-sfn ${mode}\n\n${message}`,
      failure: { reason: refusal.reason, message },
    };
  }
  const { graph, compiled, findings } = await inspectAndCompile(options, io, timings);
  // The plan (and its comment) shows the findings; the headline only when pre-flight stops the job.
  const headline = [`## kedro-sfn ${mode}`, "", renderGraphHeadline(graph)].join("\n");
  const result: JobResult = { mode, graph, findings, compiled, timings, summary: headline };
  if (hasErrors(findings)) {
    const count = findings.filter((f) => f.severity === "error").length;
    result.failure = {
      reason: "preflight",
      message: `Pre-flight found ${count} error(s) in ${catalogFile(options.projectPath, options.kedroEnv)}: see the annotations.`,
    };
    io.setOutput(Output.FailureReason, "preflight");
    result.summary = [headline, "", renderFindings(findings)].join("\n");
    return result;
  }
  requireInputs(options, [[Input.StateMachineName, "stateMachineName"]], `to ${mode}`);
  return planAndDeploy(options, io, result, context);
}
