/**
 * `pipeline: a,b` (or `all`): one state machine per pipeline, planned and deployed by the
 * single-pipeline stages called once per pipeline, around what they share: one inspection (one
 * Python start-up), one image built and pushed once, one plan comment (one section and one
 * status per state machine, one hash over all), one job summary with a section per pipeline.
 *
 * Order, so that a refusal leaves nothing half done: every pipeline is inspected, checked and
 * planned (its deployed state read) before the first AWS write; a pre-flight error or a refused
 * reviewed plan in any of them deploys none. Then the image, then the pipelines one by one in the
 * order given, each one's cutover atomic; the first failed apply stops the loop, so every state
 * machine is either on its new version (deployed) or untouched (failed, not deployed).
 */
import { Input, Output } from "../constants.js";
import { hasErrors, type Finding } from "../graph/preflight.js";
import type { PipelineGraph, RuntimeProfile } from "../graph/types.js";
import { checkReviewedPlan } from "../github/reviewedPlan.js";
import { setPlanCommentStatus } from "../github/stickyComment.js";
import { checkBuilder } from "../image/build.js";
import { inspectProjects } from "../kedro/inspect.js";
import { requireInputs } from "../options.js";
import type { DeployResult, DeployedState, Plan } from "../plan/types.js";
import { codeSpan } from "../report/markdown.js";
import type { PlanView } from "../report/planComment.js";
import { planGroupOf, type PlanGroup } from "../report/planGroup.js";
import { renderFindings, renderGraphHeadline } from "../report/preflightMarkdown.js";
import { renderJobSummary, SUMMARY_BUDGET_BYTES } from "../report/summary.js";
import type { RunReport } from "../run/execute.js";
import { checkParams } from "../run/params.js";
import { runTasksOf } from "../run/ecsErrors.js";
import { pipelineTasksFromGraph } from "../run/tasks.js";
import { setOutputs, stage, warn, type JobContext, type JobIO, type Timings } from "./context.js";
import { applyDeploy, buildImage, readBeforeDeploy } from "./deploy.js";
import { planViewOf, reviewPlan, wouldBuild } from "./deployment.js";
import { inspectAndCompile, type Inspected } from "./inspect.js";
import { commentPlan, planOnly } from "./plan.js";
import { checkDerivedNames, optionsForPipeline } from "./pipelines.js";
import { runStage } from "./run.js";

/** What happened to one pipeline's state machine. */
export type PipelineState = "planned" | "deployed" | "failed" | "not-deployed";

export interface PipelineResult {
  pipeline: string;
  stateMachineName: string;
  graph: PipelineGraph;
  findings: Finding[];
  plan?: Plan;
  run?: RunReport;
  state: PipelineState;
  /** What the single-pipeline stages set as outputs for it (the `pipelines` output holds them). */
  outputs: Record<string, string>;
}

export interface SeveralOutcome {
  pipelines: PipelineResult[];
  findings: Finding[];
  /** The summary's body: a section per pipeline. */
  body: string;
  /** A failure the step reports; `error` when a thrown error stopped the deploy loop. */
  failure?: { reason: string; message: string };
  error?: unknown;
  /** The body already says why the step fails (a run's headline does). */
  failureShown?: boolean;
}

interface Unit {
  pipeline: string;
  ctx: JobContext;
  outputs: Map<string, string>;
  inspected: Inspected;
  result: PipelineResult;
}

export async function runSeveral(ctx: JobContext, names: string[] | "all"): Promise<SeveralOutcome> {
  const { options, mode } = ctx;
  // The derived names need the base name: asked before the project is imported.
  requireInputs(options, [[Input.StateMachineName, "stateMachineName"]], `to ${mode}`);
  if (names !== "all") checkDerivedNames(options, names);
  const graphs = await stage(ctx, "inspect", () => inspectProjects({ ...options, nodeIndex: true }, names));
  const pipelines = graphs.map((g) => g.pipeline ?? "");
  if (names === "all") checkDerivedNames(options, pipelines);
  ctx.io.info(`Pipelines: ${pipelines.join(", ")} (one state machine each).`);

  const units: Unit[] = [];
  for (const graph of graphs) {
    const pipeline = graph.pipeline ?? "";
    const { ctx: unitCtx, outputs } = pipelineContext(ctx, pipeline);
    const inspected = await inspectAndCompile(unitCtx, graph);
    const result: PipelineResult = {
      pipeline,
      stateMachineName: unitCtx.options.stateMachineName,
      graph,
      findings: inspected.findings,
      state: "planned",
      outputs: {},
    };
    units.push({ pipeline, ctx: unitCtx, outputs, inspected, result });
  }
  const findings = units.flatMap((u) => u.inspected.findings);
  const failing = units.filter((u) => hasErrors(u.inspected.findings));
  if (failing.length > 0) {
    const body = units
      .map((u) => section(u, [renderGraphHeadline(u.result.graph), renderFindings(u.inspected.findings)]))
      .join("\n\n");
    const count = findings.filter((f) => f.severity === "error").length;
    return finish(ctx, units, {
      findings,
      body,
      failure: {
        reason: "preflight",
        message: `Pre-flight found ${count} error(s) in ${failing.map((u) => `'${u.pipeline}'`).join(", ")}: see the annotations. Nothing was deployed.`,
      },
    });
  }
  const paramWarnings = new Set(
    units.flatMap((u) => checkParams(options.executionInput, u.result.graph.parameters)),
  );
  for (const w of paramWarnings) warn(ctx, w);

  return mode === "plan" ? await planAll(ctx, units, findings) : await deployAll(ctx, units, findings);
}

async function planAll(ctx: JobContext, units: Unit[], findings: Finding[]): Promise<SeveralOutcome> {
  const views: PlanView[] = [];
  for (const unit of units) {
    const { plan, view } = await planOnly(unit.ctx, unit.inspected);
    unit.result.plan = plan;
    views.push(view);
  }
  const group = groupOf(ctx, units, views);
  await commentPlan(ctx, group);
  const body = units.map((u, i) => section(u, [summaryOf(u, views[i], units.length)])).join("\n\n");
  return finish(ctx, units, { findings, body }, group);
}

async function deployAll(ctx: JobContext, units: Unit[], findings: Finding[]): Promise<SeveralOutcome> {
  const { options, io } = ctx;
  const befores: DeployedState[] = [];
  let clients: Awaited<ReturnType<typeof readBeforeDeploy>>["clients"] | undefined;
  for (const unit of units) {
    const read = await readBeforeDeploy(unit.ctx, unit.inspected);
    clients = read.clients;
    befores.push(read.before);
  }
  if (clients === undefined) throw new Error("internal: no pipeline to deploy");
  const reviewViews = units.map((u, i) =>
    planViewOf(u.ctx, u.inspected, reviewPlan(u.ctx, u.inspected, befores[i] ?? null), wouldBuild(options)),
  );
  let commentId: number | undefined;
  if (options.requireReviewedPlan) {
    const check = await checkReviewedPlan({
      octokit: ctx.octokit,
      repo: ctx.event.repo ?? { owner: "", repo: "" },
      sha: ctx.event.sha,
      view: groupOf(ctx, units, reviewViews),
      log: (line) => io.info(line),
    });
    if (!check.ok) {
      for (const u of units) u.result.state = "not-deployed";
      return finish(ctx, units, {
        findings,
        body: [check.summary, notDeployedList(units)].filter(Boolean).join("\n\n"),
        failure: {
          reason: check.reason,
          message: `${check.message} (none of the ${units.length} pipelines)`,
        },
      });
    }
    commentId = check.reviewed.commentId;
  }

  await checkBuilder(options.builder);
  const shared = imageGraph(units.map((u) => u.result.graph));
  const image = await stage(ctx, "package+build+push", () =>
    buildImage(
      ctx,
      clients,
      { graph: shared },
      units.map((u) => u.pipeline),
    ),
  );
  io.info(`One image for ${units.length} pipelines: ${image.imageUri}`);

  // The comment shows each state machine's own progress; the ones not reached keep their plan.
  const shown = [...reviewViews];
  const deployed: (DeployResult | undefined)[] = [];
  const views: PlanView[] = [...reviewViews];
  for (const [i, unit] of units.entries()) {
    const status = async (view: PlanView, state: PlanView["status"], extra: Partial<PlanView> = {}) => {
      shown[i] = { ...view, ...extra, ...(state ? { status: state } : {}) };
      if (commentId === undefined || !ctx.event.repo || options.commentOnPr === "false") return;
      const r = await setPlanCommentStatus({
        octokit: ctx.octokit,
        repo: ctx.event.repo,
        commentId,
        view: groupOf(ctx, units, shown),
        log: (line) => io.info(line),
      });
      if (r.warning) io.warning(r.warning);
    };
    const before = befores[i];
    if (before === undefined)
      throw new Error(`internal: no deployed state was read for pipeline ${unit.pipeline}`);
    try {
      const done = await applyDeploy(unit.ctx, clients, unit.inspected, before, image, status);
      unit.result.plan = done.plan;
      unit.result.state = "deployed";
      views[i] = done.view;
      deployed[i] = done.deployed;
    } catch (error) {
      unit.result.state = "failed";
      for (const rest of units.slice(i + 1)) rest.result.state = "not-deployed";
      io.error(
        `Deploying pipeline '${unit.pipeline}' (${unit.result.stateMachineName}) failed; ` +
          `${describeStates(units)}.`,
      );
      const body = units.map((u, j) => section(u, [summaryOf(u, shown[j], units.length)])).join("\n\n");
      return finish(ctx, units, { findings, body, error }, groupOf(ctx, units, views));
    }
  }

  if (!options.startExecution) {
    const body = units.map((u, i) => section(u, [summaryOf(u, views[i], units.length)])).join("\n\n");
    return finish(ctx, units, { findings, body }, groupOf(ctx, units, views), image.imageUri);
  }
  // One after the other: each run's log is one foldable group, as with one pipeline.
  let failure: SeveralOutcome["failure"];
  const sections: string[] = [];
  for (const [i, unit] of units.entries()) {
    const run = await runStage(unit.ctx, unit.inspected, deployed[i] as DeployResult);
    unit.result.run = run;
    failure ??= run.failure
      ? { ...run.failure, message: `Pipeline '${unit.pipeline}': ${run.failure.message}` }
      : undefined;
    const pipeline = pipelineTasksFromGraph(runTasksOf(unit.inspected.compiled), unit.result.graph);
    const budget = Math.floor(SUMMARY_BUDGET_BYTES / units.length) - 200;
    sections.push(
      section(unit, [
        renderGraphHeadline(unit.result.graph),
        renderJobSummary({ run: { run, pipeline, image: image.imageUri }, plan: views[i] ?? null }, budget),
      ]),
    );
  }
  return finish(
    ctx,
    units,
    { findings, body: sections.join("\n\n"), ...(failure ? { failure, failureShown: true } : {}) },
    groupOf(ctx, units, views),
    image.imageUri,
  );
}

/**
 * A pipeline's own view of the job: its derived options, its outputs kept aside (the job sets
 * them for all pipelines at once), and its own timings (labelled with the pipeline after).
 */
function pipelineContext(
  ctx: JobContext,
  pipeline: string,
): { ctx: JobContext; outputs: Map<string, string> } {
  const outputs = new Map<string, string>();
  const io: JobIO = {
    info: (line) => ctx.io.info(line),
    debug: (line) => ctx.io.debug(line),
    // The same warning from every pipeline (an input they share) is said once.
    warning: (message, where) => {
      if (where || !ctx.warnings.includes(message)) ctx.io.warning(message, where);
    },
    error: (message, where) => ctx.io.error(message, where),
    group: (name, work) => ctx.io.group(`${name} (${pipeline})`, work),
    setOutput: (name, value) => outputs.set(name, value),
    setSecret: (secret) => ctx.io.setSecret(secret),
  };
  const timings: Timings = [];
  timings.push = (...entries) =>
    ctx.timings.push(...entries.map(([name, s]): [string, number] => [`${name} (${pipeline})`, s]));
  const warnings: string[] = [];
  warnings.push = (...messages) => {
    for (const m of messages) if (!ctx.warnings.includes(m)) ctx.warnings.push(m);
    return ctx.warnings.length;
  };
  const options = optionsForPipeline(ctx.options, pipeline);
  return { ctx: { ...ctx, options, io, timings, warnings }, outputs };
}

function groupOf(ctx: JobContext, units: Unit[], views: PlanView[]): PlanGroup {
  const commit = ctx.event.pullRequest?.headSha ?? ctx.event.sha;
  return planGroupOf(
    ctx.options.label || ctx.options.stateMachineName,
    units.map((u) => u.pipeline),
    views,
    { ...(ctx.event.runUrl ? { summaryUrl: ctx.event.runUrl } : {}), ...(commit ? { commit } : {}) },
  );
}

const STATE_TEXT: Record<PipelineState, string> = {
  planned: "planned",
  deployed: "✅ deployed",
  failed: "❌ deploy failed: this state machine was left as it was (its cutover is one call)",
  "not-deployed": "⏹️ not deployed",
};

function section(unit: Unit, parts: string[]): string {
  const state = unit.result.state === "planned" ? "" : ` · ${STATE_TEXT[unit.result.state]}`;
  const title = `### Pipeline ${codeSpan(unit.pipeline)} → ${codeSpan(unit.result.stateMachineName)}${state}`;
  return [title, ...parts.filter(Boolean)].join("\n\n");
}

function summaryOf(unit: Unit, view: PlanView | undefined, count: number): string {
  if (!view) return "";
  const budget = Math.floor(SUMMARY_BUDGET_BYTES / count) - 200;
  return [renderGraphHeadline(unit.result.graph), renderJobSummary({ plan: view }, budget)].join("\n\n");
}

function describeStates(units: Unit[]): string {
  return units.map((u) => `${u.pipeline}: ${u.result.state}`).join(", ");
}

function notDeployedList(units: Unit[]): string {
  return `None of the pipelines was deployed: ${units.map((u) => codeSpan(u.pipeline)).join(", ")}.`;
}

/**
 * The graph the shared image is made and smoke-tested for: every node, dataset and import of
 * every pipeline, so the image holds what each pipeline's functions load.
 */
export function imageGraph(graphs: PipelineGraph[]): PipelineGraph {
  const [first] = graphs;
  if (first === undefined) throw new Error("internal: no graph");
  const nodes = new Map(graphs.flatMap((g) => g.nodes.map((n) => [n.name, n] as const)));
  const datasets = Object.assign({}, ...graphs.map((g) => g.datasets ?? {})) as PipelineGraph["datasets"];
  const parameters = [...new Set(graphs.flatMap((g) => g.parameters ?? []))].sort();
  const merged: PipelineGraph = { ...first, nodes: [...nodes.values()], parameters };
  if (datasets) merged.datasets = datasets;
  const runtimes = graphs.map((g) => g.runtime).filter((r): r is RuntimeProfile => r !== undefined);
  if (runtimes[0]) {
    const imports = new Map(
      runtimes.flatMap((r) => r.imports.map((i) => [`${i.distribution}\t${i.module}`, i] as const)),
    );
    const needs = new Map(
      runtimes.flatMap((r) => r.data_requirements.map((d) => [d.requirement, d] as const)),
    );
    merged.runtime = {
      ...runtimes[0],
      imports: [...imports.values()],
      data_requirements: [...needs.values()],
    };
  }
  return merged;
}

/**
 * The outputs for several pipelines: `pipelines` (every pipeline's own outputs, keyed by
 * pipeline), `state-machine-arns`, and the outputs that add up (`has-changes`, the counts, one
 * `plan-hash` over all, the shared `image-uri`, `graph` keyed by pipeline, every finding).
 */
function finish(
  ctx: JobContext,
  units: Unit[],
  outcome: Omit<SeveralOutcome, "pipelines">,
  group?: PlanGroup,
  imageUri?: string,
): SeveralOutcome {
  const perPipeline: Record<string, Record<string, unknown>> = {};
  for (const unit of units) {
    unit.result.outputs = Object.fromEntries(unit.outputs);
    const own: Record<string, unknown> = {
      "state-machine-name": unit.result.stateMachineName,
      state: unit.result.state,
    };
    for (const [name, value] of unit.outputs) {
      // The top-level `graph` and `findings` hold every pipeline's already.
      if (name === (Output.Graph as string) || name === (Output.Findings as string)) continue;
      own[name] = JSON_OUTPUTS.has(name) ? parseOr(value) : value;
    }
    perPipeline[unit.pipeline] = own;
  }
  const outputs: Record<string, string> = {
    [Output.Pipelines]: JSON.stringify(perPipeline),
    [Output.Graph]: JSON.stringify(Object.fromEntries(units.map((u) => [u.pipeline, u.result.graph]))),
    [Output.Findings]: JSON.stringify(
      units.flatMap((u) => u.inspected.findings.map((f) => ({ pipeline: u.pipeline, ...f }))),
    ),
  };
  const arns = units.filter((u) => u.outputs.has(Output.StateMachineArn));
  if (arns.length > 0) {
    outputs[Output.StateMachineArns] = JSON.stringify(
      Object.fromEntries(arns.map((u) => [u.pipeline, u.outputs.get(Output.StateMachineArn)])),
    );
  }
  const plans = units.map((u) => u.result.plan).filter((p): p is Plan => p !== undefined);
  if (group && plans.length === units.length) {
    outputs[Output.PlanHash] = group.planHash;
    outputs[Output.HasChanges] = String(plans.some((p) => p.summary.hasChanges));
    outputs[Output.ToCreate] = String(plans.reduce((n, p) => n + p.summary.toCreate, 0));
    outputs[Output.ToUpdate] = String(plans.reduce((n, p) => n + p.summary.toUpdate, 0));
    outputs[Output.ToDelete] = String(plans.reduce((n, p) => n + p.summary.toDelete, 0));
  }
  if (imageUri) outputs[Output.ImageUri] = imageUri;
  setOutputs(ctx.io, outputs);
  return { ...outcome, pipelines: units.map((u) => u.result) };
}

const JSON_OUTPUTS = new Set<string>([Output.PlanJson, Output.FunctionArns, Output.NodeStatuses]);

function parseOr(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}
