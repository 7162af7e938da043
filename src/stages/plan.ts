import { readForPlan } from "../aws/deployed.js";
import { upsertPlanComment } from "../github/stickyComment.js";
import { planOutputs } from "../plan/outputs.js";
import type { Plan } from "../plan/types.js";
import type { PlanView } from "../report/planComment.js";
import type { PlanGroup } from "../report/planGroup.js";
import { checkInputs } from "./checkInputs.js";
import { setOutputs, stage, warn, type JobContext } from "./context.js";
import { deploymentRefOf, planViewOf, reviewPlan, wouldBuild } from "./deployment.js";
import type { Inspected } from "./inspect.js";
import { withLearnedDurations } from "./learnDurations.js";

export interface Planned {
  plan: Plan;
  view: PlanView;
}

/**
 * `mode: plan`: desired vs deployed, no AWS writes; the plan goes to the
 * outputs and, on a pull request, to the sticky comment.
 */
export async function planStage(ctx: JobContext, inspected: Inspected): Promise<Planned> {
  const planned = await planOnly(ctx, inspected);
  await commentPlan(ctx, planned.view);
  return planned;
}

/** The plan and its outputs, without the comment: `pipeline: a,b` comments once for all (stages/several.ts). */
export async function planOnly(ctx: JobContext, inspected: Inspected): Promise<Planned> {
  const { io, options } = ctx;
  // The deploy's own checks: a green plan means its inputs are right.
  for (const warning of (await checkInputs(ctx, inspected)).warnings) warn(ctx, warning);
  const ref = deploymentRefOf(ctx, inspected);
  const basis = await stage(ctx, "plan", () => readForPlan(() => ctx.aws.clients(), ref));
  if (basis.note) io.warning(basis.note);
  inspected = await stage(ctx, "learn durations", () => withLearnedDurations(ctx, inspected, basis.deployed));
  const plan = reviewPlan(ctx, inspected, basis.deployed);
  const view = planViewOf(ctx, inspected, plan, wouldBuild(options));
  setOutputs(io, planOutputs(plan));
  return { plan, view };
}

/** On a pull request, the sticky comment of the plan (one view, or several under one target). */
export async function commentPlan(ctx: JobContext, view: PlanView | PlanGroup): Promise<void> {
  const { io, options, event } = ctx;
  if (!event.repo || !event.pullRequest) return;
  const comment = await upsertPlanComment({
    octokit: ctx.octokit,
    repo: event.repo,
    issueNumber: event.pullRequest.number,
    view,
    commentOnPr: options.commentOnPr,
    log: (line) => io.info(line),
  });
  if (comment.warning) io.warning(comment.warning);
}
