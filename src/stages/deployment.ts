import { deploymentRef, type DeploymentRef } from "../aws/deployed.js";
import type { Options } from "../options.js";
import { planDeployment } from "../plan/plan.js";
import { canonicalInput } from "../plan/schedulePlan.js";
import type { DeployedState, DesiredDeployment, Plan } from "../plan/types.js";
import type { ImageView, PlanView } from "../report/planComment.js";
import { toPlanView } from "../report/planView.js";
import type { JobContext } from "./context.js";
import type { Inspected } from "./inspect.js";

/** Until the image exists, plans compare against the image already deployed (code changes ship on deploy). */
export const IMAGE_BUILT_ON_DEPLOY = "image-built-on-deploy";

/** The deployment the inputs ask for, running `imageUri`. */
export function desiredDeployment(
  ctx: Pick<JobContext, "options" | "event">,
  inspected: Inspected,
  imageUri: string,
): DesiredDeployment {
  const { options } = ctx;
  return {
    stateMachineName: options.stateMachineName,
    compiled: inspected.compiled,
    imageUri,
    lambdaRoleArn: options.lambdaRoleArn,
    stateMachineRoleArn: options.stateMachineRoleArn,
    tags: {},
    commitSha: ctx.event.sha,
    logging: {
      level: options.logLevel,
      ...(options.logGroupArn ? { logGroupArn: options.logGroupArn } : {}),
    },
    tracing: options.tracing,
    project: inspected.graph.project?.name ?? "",
    ...(inspected.compiled.ecsTasks?.length
      ? { ecs: { executionRoleArn: options.ecsExecutionRoleArn, taskRoleArn: options.ecsTaskRoleArn } }
      : {}),
    ...(options.schedule
      ? {
          schedule: {
            expression: options.schedule,
            timezone: options.scheduleTimezone,
            input: canonicalInput(options.scheduleInput),
            roleArn: options.schedulerRoleArn,
          },
        }
      : {}),
  };
}

/** Where to look for what is deployed: the state machine and the functions the pipeline wants. */
export function deploymentRefOf(
  ctx: Pick<JobContext, "options" | "event">,
  inspected: Inspected,
): DeploymentRef {
  return {
    ...deploymentRef(desiredDeployment(ctx, inspected, IMAGE_BUILT_ON_DEPLOY)),
    keepVersions: ctx.options.keepVersions,
    prune: ctx.options.prune,
    // Completed against what reviewPlan plans: the deployed image (the deploy completes it again once built).
    desiredFor: (deployed) =>
      desiredDeployment(ctx, inspected, deployedImage(deployed) ?? IMAGE_BUILT_ON_DEPLOY),
  };
}

/** What the summary and the comment show of a plan. */
export function planViewOf(
  ctx: Pick<JobContext, "options" | "event">,
  inspected: Inspected,
  plan: Plan,
  image: ImageView,
): PlanView {
  const { event } = ctx;
  const commit = event.pullRequest?.headSha ?? event.sha;
  const view = toPlanView(plan, {
    target: ctx.options.label || ctx.options.stateMachineName,
    findings: inspected.findings,
    graph: inspected.graph,
    compiled: inspected.compiled,
    image,
    ...(event.runUrl ? { summaryUrl: event.runUrl } : {}),
    ...(commit ? { commit } : {}),
  });
  if (inspected.structureNote) view.structureNote = inspected.structureNote;
  return view;
}

/** The image a plan made before building shows. */
export function wouldBuild(options: Options): ImageView {
  return {
    state: "would-build",
    repository: options.ecrRepository || "(ecr-repository)",
    baseImage: options.baseImage,
  };
}

/** The plan a reviewer sees: compared with the deployed image, so only configuration and shape show. */
export function reviewPlan(
  ctx: Pick<JobContext, "options" | "event">,
  inspected: Inspected,
  deployed: DeployedState | null,
): Plan {
  const image = deployedImage(deployed) ?? IMAGE_BUILT_ON_DEPLOY;
  return planDeployment(desiredDeployment(ctx, inspected, image), deployed, {
    prune: ctx.options.prune,
    keepVersions: ctx.options.keepVersions,
  });
}

/** `repo@sha256:<digest>` when every managed function runs the same image, else null. */
function deployedImage(deployed: DeployedState | null): string | null {
  if (deployed?.imageUri) return deployed.imageUri;
  const digests = new Set((deployed?.functions ?? []).map((f) => f.codeSha256).filter(Boolean));
  if (digests.size !== 1) return null;
  return `deployed@sha256:${[...digests][0] as string}`;
}
