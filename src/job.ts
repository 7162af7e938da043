import type { CompiledPipeline } from "./compile/types.js";
import { Input, Output } from "./constants.js";
import { errorMessage, UserError } from "./errors.js";
import { reasonForThrown, type FailureReason } from "./failureReason.js";
import { hasErrors, type Finding } from "./graph/preflight.js";
import { GRAPH_SCHEMA, type PipelineGraph } from "./graph/types.js";
import { checkEvent } from "./github/safety.js";
import { upsertNoPlanComment } from "./github/stickyComment.js";
import { catalogFile } from "./kedro/inspect.js";
import { requireInputs, type JobMode, type Options } from "./options.js";
import type { Plan } from "./plan/types.js";
import { renderFailure, renderWarnings } from "./report/failure.js";
import { renderFindings, renderGraphHeadline } from "./report/preflightMarkdown.js";
import { renderJobSummary } from "./report/summary.js";
import type { RunReport } from "./run/execute.js";
import { checkParams } from "./run/params.js";
import { runTasksOf } from "./run/ecsErrors.js";
import { pipelineTasksFromGraph } from "./run/tasks.js";
import {
  createJobContext,
  stageOfError,
  warn,
  type JobContext,
  type JobIO,
  type Timings,
} from "./stages/context.js";
import { deployStage } from "./stages/deploy.js";
import { inspectAndCompile } from "./stages/inspect.js";
import { planStage } from "./stages/plan.js";
import { resumeStage } from "./stages/resume.js";
import { runStage } from "./stages/run.js";
import { parsePipelineSelection } from "./stages/pipelines.js";
import { rollbackStage } from "./stages/rollback.js";
import { runSeveral, type PipelineResult, type SeveralOutcome } from "./stages/several.js";

export type { Annotation, JobIO } from "./stages/context.js";
export { renderTimings } from "./stages/context.js";

export interface JobFailure {
  reason: FailureReason;
  message: string;
  hint?: string;
  /** The file a UserError points at (an annotation there). */
  file?: string;
  /** Set when a thrown error ended the job: the CLI's exit code tells a UserError from a failure. */
  thrown?: { userError: boolean; stack?: string };
}

export interface JobResult {
  mode: JobMode;
  graph: PipelineGraph;
  findings: Finding[];
  compiled?: CompiledPipeline;
  plan?: Plan;
  run?: RunReport;
  /** Seconds per stage, in the order they ran. */
  timings: Timings;
  /** Markdown for the job summary: written on every outcome. */
  summary: string;
  /** Warnings the summary lists too. */
  warnings: string[];
  /** Set when the step must fail; `reason` is the `failure-reason` output. */
  failure?: JobFailure;
  /** `pipeline: a,b`: what happened to each pipeline's state machine (graph, plan, run above stay empty). */
  pipelines?: PipelineResult[];
}

/** What a stage path returns: the summary's body (below the headline), and the failure if any. */
type StagesOutcome = Omit<JobResult, "summary" | "warnings" | "timings"> & {
  body: string;
  /** The body already says why the step fails (a run's headline does). */
  failureShown?: boolean;
};

/** `auto` plans on pull requests and deploys on pushes and manual runs. */
export function resolveMode(mode: Options["mode"], eventName: string): JobMode {
  if (mode !== "auto") return mode;
  return eventName === "pull_request" || eventName === "pull_request_target" ? "plan" : "deploy";
}

const NO_GRAPH: PipelineGraph = { schema: GRAPH_SCHEMA, nodes: [] };

/**
 * The whole job from the raw inputs: parse -> inspect -> validate -> compile ->
 * plan -> (build -> apply -> run) -> report. Never throws: every outcome, a
 * thrown error or a bad input included, ends in `finish`, which sets
 * `failure-reason` and composes the summary the entry point writes.
 */
export async function runJobFromInputs(
  readOptions: () => Options,
  io: JobIO,
  env: Record<string, string | undefined> = process.env,
): Promise<{ options?: Options; result: JobResult }> {
  let options: Options;
  try {
    options = readOptions();
  } catch (error) {
    const mode = resolveMode("auto", env["GITHUB_EVENT_NAME"] ?? "");
    const known: StagesOutcome = { mode, graph: NO_GRAPH, findings: [], body: "" };
    return { result: finish(io, { ...known, failure: thrownFailure(error) }, [], []) };
  }
  return { options, result: await runJob(options, io, env) };
}

/**
 * The job for parsed options (see runJobFromInputs). `env` is the runner's
 * environment, read here once (the event, the run ids) and nowhere below.
 */
export async function runJob(
  options: Options,
  io: JobIO,
  env: Record<string, string | undefined> = process.env,
): Promise<JobResult> {
  const mode = resolveMode(options.mode, env["GITHUB_EVENT_NAME"] ?? "");
  // What is known so far, for the summary of a job a thrown error ends.
  const known: StagesOutcome = { mode, graph: NO_GRAPH, findings: [], body: "" };
  let ctx: JobContext | undefined;
  let outcome: StagesOutcome;
  try {
    ctx = createJobContext(options, io, mode, env);
    outcome = await runStages(ctx, known);
  } catch (error) {
    outcome = { ...known, failure: thrownFailure(error) };
    if (!(error instanceof UserError) && error instanceof Error && error.stack) io.debug(error.stack);
  }
  ctx?.aws.destroy();
  if (ctx && outcome.failure) {
    try {
      await commentNoPlan(ctx, outcome.failure, outcome.findings);
    } catch (error) {
      // The comment is a courtesy: the failure itself must still reach the summary.
      io.warning(`Could not update the pull request's plan comment: ${errorMessage(error)}`);
    }
  }
  return finish(io, outcome, ctx?.timings ?? [], ctx?.warnings ?? []);
}

/** The one place every outcome ends: the `failure-reason` output and the whole summary. */
function finish(io: JobIO, outcome: StagesOutcome, timings: Timings, warnings: string[]): JobResult {
  const { body, failureShown, ...rest } = outcome;
  const { mode, graph, failure } = outcome;
  const sections = [`## kedro-sfn ${mode}`];
  if (graph.nodes.length > 0) sections.push(renderGraphHeadline(graph));
  if (failure && !failureShown) sections.push(renderFailure(failure));
  if (body) sections.push(body.trimEnd());
  if (warnings.length > 0) sections.push(renderWarnings(warnings));
  if (failure) io.setOutput(Output.FailureReason, failure.reason);
  return { ...rest, timings, warnings, summary: `${sections.join("\n\n")}\n` };
}

function thrownFailure(error: unknown): JobFailure {
  const userError = error instanceof UserError;
  const reason = reasonForThrown(stageOfError(error), {
    userError,
    ...(userError ? { reason: error.reason } : {}),
  });
  return {
    reason,
    message: errorMessage(error),
    ...(userError && error.hint ? { hint: error.hint } : {}),
    ...(userError && error.file ? { file: error.file } : {}),
    thrown: {
      userError,
      ...(!userError && error instanceof Error && error.stack ? { stack: error.stack } : {}),
    },
  };
}

async function runStages(ctx: JobContext, known: StagesOutcome): Promise<StagesOutcome> {
  const { options, io, mode } = ctx;
  io.info(
    `kedro-sfn: ${mode} mode for ${options.projectPath} (pipeline ${options.pipeline}, env ${options.kedroEnv})`,
  );
  // A pure check of the input, before any project code or AWS call.
  const selection = parsePipelineSelection(options.pipeline);
  // Before any project code runs: inspecting imports the project, which a fork may have changed.
  const { warnings, refusal } = checkEvent(ctx.event, options.mode, mode);
  for (const w of warnings) warn(ctx, w);
  if (refusal) {
    return { ...known, failure: { reason: refusal.reason, message: refusal.message, hint: refusal.hint } };
  }
  // A resume runs the version the failed execution ran: nothing to inspect, build or deploy.
  if (options.resumeExecution) {
    const { run, pipeline } = await resumeStage(ctx);
    const body = renderJobSummary({ run: { run, pipeline } });
    return run.failure
      ? { ...known, run, body, failure: run.failure, failureShown: true }
      : { ...known, run, body };
  }
  // A rollback only moves the alias: no project to inspect, nothing to build.
  if (options.rollbackTo) return { ...known, body: await rollbackStage(ctx) };
  if (selection.several) return severalOutcome(known, await runSeveral(ctx, selection.names));
  const inspected = await inspectAndCompile(ctx);
  const { graph, compiled, findings } = inspected;
  Object.assign(known, { graph, compiled, findings });
  if (hasErrors(findings)) {
    const count = findings.filter((f) => f.severity === "error").length;
    const file = catalogFile(options.projectPath, options.kedroEnv);
    return {
      ...known,
      body: renderFindings(findings),
      failure: {
        reason: "preflight",
        message: `Pre-flight found ${count} error(s) in ${file}: see the annotations.`,
      },
    };
  }
  requireInputs(options, [[Input.StateMachineName, "stateMachineName"]], `to ${mode}`);
  for (const w of checkParams(options.executionInput, graph.parameters)) warn(ctx, w);

  if (mode === "plan") {
    const { plan, view } = await planStage(ctx, inspected);
    return { ...known, plan, body: renderJobSummary({ plan: view }) };
  }
  const deployed = await deployStage(ctx, inspected);
  if (!deployed.ok) {
    return {
      ...known,
      body: deployed.summary ?? "",
      failure: { reason: deployed.reason as FailureReason, message: deployed.message },
    };
  }
  const { plan, view } = deployed;
  Object.assign(known, { plan });
  if (!options.startExecution) return { ...known, body: renderJobSummary({ plan: view }) };

  const run = await runStage(ctx, inspected, deployed.deployed);
  const pipeline = pipelineTasksFromGraph(runTasksOf(compiled), graph);
  const body = renderJobSummary({ run: { run, pipeline, image: deployed.image }, plan: view });
  if (!run.failure) return { ...known, run, body };
  return { ...known, run, body, failure: run.failure, failureShown: true };
}

/** The job's outcome from the several pipelines' one: a thrown error that stopped the loop fails the step. */
function severalOutcome(known: StagesOutcome, outcome: SeveralOutcome): StagesOutcome {
  const { pipelines, findings, body, failureShown } = outcome;
  const failure = outcome.error
    ? failedPipelineFailure(thrownFailure(outcome.error), pipelines)
    : outcome.failure && {
        reason: outcome.failure.reason as FailureReason,
        message: outcome.failure.message,
      };
  return {
    ...known,
    findings,
    pipelines,
    body,
    ...(failure ? { failure } : {}),
    ...(failureShown ? { failureShown } : {}),
  };
}

/** A thrown error that stopped `pipeline: a,b` names the pipeline whose apply it stopped. */
function failedPipelineFailure(failure: JobFailure, pipelines: readonly PipelineResult[]): JobFailure {
  const failed = pipelines.find((p) => p.state === "failed");
  if (!failed) return failure;
  const named = (state: PipelineResult["state"]): string =>
    pipelines
      .filter((p) => p.state === state)
      .map((p) => `'${p.pipeline}'`)
      .join(", ");
  const deployed = named("deployed");
  const notDeployed = named("not-deployed");
  return {
    ...failure,
    message:
      `Pipeline '${failed.pipeline}' (${failed.stateMachineName}) failed to deploy and was left as it was: ${failure.message}` +
      (deployed ? ` Deployed before it: ${deployed}.` : "") +
      (notDeployed ? ` Not deployed: ${notDeployed}.` : ""),
  };
}

/**
 * A pull request's plan comment must not keep showing a plan the job could not
 * make this time (pre-flight errors, a pipeline that does not import, ...): in
 * plan mode every failure comes before the comment is written, so it is
 * rewritten to say why there is no plan. Never throws, as the plan comment.
 */
async function commentNoPlan(ctx: JobContext, failure: JobFailure, findings: Finding[]): Promise<void> {
  const { event, options, io } = ctx;
  const target = options.label || options.stateMachineName;
  if (ctx.mode !== "plan" || !event.repo || !event.pullRequest || !target) return;
  const comment = await upsertNoPlanComment({
    octokit: ctx.octokit,
    repo: event.repo,
    issueNumber: event.pullRequest.number,
    target,
    failure,
    findings,
    commentOnPr: options.commentOnPr,
    log: (line: string) => io.info(line),
    ...(event.pullRequest.headSha ? { commit: event.pullRequest.headSha } : {}),
    ...(event.runUrl ? { summaryUrl: event.runUrl } : {}),
  });
  if (comment.warning) io.warning(comment.warning);
}
