import type { CompiledPipeline } from "./compile/types.js";
import { Input, Output } from "./constants.js";
import { hasErrors, type Finding } from "./graph/preflight.js";
import { GRAPH_SCHEMA, type PipelineGraph } from "./graph/types.js";
import { checkEvent } from "./github/safety.js";
import { catalogFile } from "./kedro/inspect.js";
import { requireInputs, type JobMode, type Options } from "./options.js";
import type { Plan } from "./plan/types.js";
import { renderFindings, renderGraphHeadline } from "./report/preflightMarkdown.js";
import { renderJobSummary } from "./report/summary.js";
import type { RunReport } from "./run/execute.js";
import { pipelineTasksFromGraph } from "./run/tasks.js";
import { createJobContext, type JobContext, type JobIO, type Timings } from "./stages/context.js";
import { deployStage } from "./stages/deploy.js";
import { inspectAndCompile } from "./stages/inspect.js";
import { planStage } from "./stages/plan.js";
import { runStage } from "./stages/run.js";
import { checkParams } from "./run/params.js";

export type { Annotation, JobIO } from "./stages/context.js";
export { renderTimings } from "./stages/context.js";

export interface JobResult {
  mode: JobMode;
  graph: PipelineGraph;
  findings: Finding[];
  compiled?: CompiledPipeline;
  plan?: Plan;
  run?: RunReport;
  /** Seconds per stage, in the order they ran. */
  timings: Timings;
  /** Markdown for the job summary. */
  summary: string;
  /** Set when the step must fail; the reason is also an output. */
  failure?: { reason: string; message: string };
}

/** `auto` plans on pull requests and deploys on pushes and manual runs. */
export function resolveMode(mode: Options["mode"], eventName: string): JobMode {
  if (mode !== "auto") return mode;
  return eventName === "pull_request" || eventName === "pull_request_target" ? "plan" : "deploy";
}

/**
 * The whole job: inspect -> validate -> compile -> plan -> (build -> apply -> run) -> report.
 * `env` is the runner's environment, read here once (the event, the run ids) and nowhere below.
 */
export async function runJob(
  options: Options,
  io: JobIO,
  env: Record<string, string | undefined> = process.env,
): Promise<JobResult> {
  const mode = resolveMode(options.mode, env["GITHUB_EVENT_NAME"] ?? "");
  const ctx = createJobContext(options, io, mode, env);
  try {
    return await runStages(ctx);
  } finally {
    ctx.aws.destroy();
  }
}

async function runStages(ctx: JobContext): Promise<JobResult> {
  const { options, io, mode, timings } = ctx;
  io.info(
    `kedro-sfn: ${mode} mode for ${options.projectPath} (pipeline ${options.pipeline}, env ${options.kedroEnv})`,
  );
  const title = `## kedro-sfn ${mode}`;
  // Before any project code runs: inspecting imports the project, which a fork may have changed.
  const { warnings, refusal } = checkEvent(ctx.event, options.mode, mode);
  for (const w of warnings) io.warning(w);
  if (refusal) {
    const message = `${refusal.message}\n${refusal.hint}`;
    const graph: PipelineGraph = { schema: GRAPH_SCHEMA, nodes: [] };
    return failed(
      io,
      { mode, graph, findings: [], timings, summary: `${title}\n\n${message}` },
      refusal.reason,
      message,
    );
  }
  const inspected = await inspectAndCompile(ctx);
  const { graph, compiled, findings } = inspected;
  // The plan (and its comment) shows the findings; the headline only when pre-flight stops the job.
  const headline = [title, "", renderGraphHeadline(graph)].join("\n");
  const result: JobResult = { mode, graph, findings, compiled, timings, summary: headline };
  if (hasErrors(findings)) {
    const count = findings.filter((f) => f.severity === "error").length;
    result.summary = [headline, "", renderFindings(findings)].join("\n");
    const file = catalogFile(options.projectPath, options.kedroEnv);
    return failed(
      io,
      result,
      "preflight",
      `Pre-flight found ${count} error(s) in ${file}: see the annotations.`,
    );
  }
  requireInputs(options, [[Input.StateMachineName, "stateMachineName"]], `to ${mode}`);
  for (const w of checkParams(options.executionInput, graph.parameters)) io.warning(w);
  const withSummary = (summary: string, extra: Partial<JobResult>): JobResult => ({
    ...result,
    ...extra,
    summary: [headline, "", summary].join("\n"),
  });

  if (mode === "plan") {
    const { plan, view } = await planStage(ctx, inspected);
    return withSummary(renderJobSummary({ plan: view }), { plan });
  }
  const deployed = await deployStage(ctx, inspected);
  if (!deployed.ok) return failed(io, result, deployed.reason, deployed.message);
  const { plan, view } = deployed;
  if (!options.startExecution) return withSummary(renderJobSummary({ plan: view }), { plan });

  const run = await runStage(ctx, inspected, deployed.deployed);
  const pipeline = pipelineTasksFromGraph(compiled.functions, graph);
  const done = withSummary(renderJobSummary({ run: { run, pipeline, image: deployed.image }, plan: view }), {
    plan,
    run,
  });
  return run.failure ? failed(io, done, run.failure.reason, run.failure.message) : done;
}

function failed(io: JobIO, result: JobResult, reason: string, message: string): JobResult {
  io.setOutput(Output.FailureReason, reason);
  return { ...result, failure: { reason, message } };
}
