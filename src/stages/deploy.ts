import { applyPlan } from "../aws/apply.js";
import type { AwsClients } from "../aws/clients.js";
import { uploadConf } from "../aws/confUpload.js";
import { confLocation } from "../kedro/confTree.js";
import { completeDeployed, readDeployed } from "../aws/deployed.js";
import { registerManifestInEcr } from "../aws/ecrMirror.js";
import { Input } from "../constants.js";
import { errorMessage } from "../errors.js";
import { checkReviewedPlan } from "../github/reviewedPlan.js";
import { setPlanCommentStatus } from "../github/stickyComment.js";
import { buildAndPushImage, checkBuilder, type ImageResult } from "../image/build.js";
import { parseRegistry, type ImageOptions } from "../image/options.js";
import { RegistryClient } from "../image/registry.js";
import { requireInputs, type Options } from "../options.js";
import { deployOutputs } from "../plan/outputs.js";
import { planDeployment } from "../plan/plan.js";
import type { DeployResult, DeployedState, Plan } from "../plan/types.js";
import type { PipelineGraph } from "../graph/types.js";
import type { PlanView } from "../report/planComment.js";
import { checkInputs } from "./checkInputs.js";
import { setOutputs, stage, warn, type JobContext } from "./context.js";
import { deploymentRefOf, desiredDeployment, planViewOf, reviewPlan, wouldBuild } from "./deployment.js";
import type { Inspected } from "./inspect.js";
import { withLearnedDurations } from "./learnDurations.js";

export type Deployed =
  | { ok: true; plan: Plan; view: PlanView; image: string; deployed: DeployResult }
  | { ok: false; reason: string; message: string; summary?: string };

/** The sticky comment's id when the deploy follows a reviewed plan. */
type Reviewed = { commentId: number } | undefined;

/**
 * `mode: deploy`: read what is deployed, check the reviewed plan if asked,
 * build and push the image, then apply the plan made against that image.
 */
export async function deployStage(ctx: JobContext, inspected: Inspected): Promise<Deployed> {
  const { options, io } = ctx;
  const { clients, before } = await readBeforeDeploy(ctx, inspected);
  inspected = await stage(ctx, "learn durations", () => withLearnedDurations(ctx, inspected, before));
  let reviewed: Reviewed;
  if (options.requireReviewedPlan) {
    const check = await checkReviewedPlan({
      octokit: ctx.octokit,
      repo: ctx.event.repo ?? { owner: "", repo: "" },
      sha: ctx.event.sha,
      view: planViewOf(ctx, inspected, reviewPlan(ctx, inspected, before), wouldBuild(options)),
      log: (line) => io.info(line),
    });
    if (!check.ok) return { ok: false, reason: check.reason, message: check.message, summary: check.summary };
    reviewed = { commentId: check.reviewed.commentId };
  }

  // Reads only so far (deployed state, the reviewed plan); the builder must work before the
  // first write (the ECR repository), and a refused plan says so even on a runner without one.
  await checkBuilder(options.builder);
  const image = await stage(ctx, "package+build+push", () => buildImage(ctx, clients, inspected));
  return await applyDeploy(ctx, clients, inspected, before, image, (view, status, extra) =>
    updateComment(ctx, reviewed, view, status, extra),
  );
}

/** Where a deploy's progress goes: the reviewed plan's comment, when there is one. */
export type DeployStatusSink = (
  view: PlanView,
  status: PlanView["status"],
  extra?: Partial<PlanView>,
) => Promise<void>;

/** The deploy's inputs checked (before the first AWS call), then what is deployed now. */
export async function readBeforeDeploy(
  ctx: JobContext,
  inspected: Inspected,
): Promise<{ clients: AwsClients; before: DeployedState }> {
  requireInputs(
    ctx.options,
    [
      [Input.EcrRepository, "ecrRepository"],
      [Input.LambdaRoleArn, "lambdaRoleArn"],
      [Input.StateMachineRoleArn, "stateMachineRoleArn"],
    ],
    "to deploy",
  );
  // Every input check before the first AWS call: a refused input leaves nothing behind.
  const checked = await checkInputs(ctx, inspected, { probeBuilder: false });
  for (const warning of checked.warnings) warn(ctx, warning);
  const clients = await ctx.aws.clients();
  const ref = deploymentRefOf(ctx, inspected);
  const before = await stage(ctx, "plan", () => readDeployed(clients, ref));
  return { clients, before };
}

/** The plan made against the image just pushed, applied: one state machine's atomic cutover. */
export async function applyDeploy(
  ctx: JobContext,
  clients: AwsClients,
  inspected: Inspected,
  before: DeployedState,
  image: ImageResult,
  status: DeployStatusSink,
): Promise<Extract<Deployed, { ok: true }>> {
  const { options, io } = ctx;
  const desired = desiredDeployment(ctx, inspected, image.imageUri);
  // What the built image changes is read now (only functions whose bound version is not it).
  const basis = await completeDeployed(clients, before, desired, {
    prune: options.prune,
    keepVersions: options.keepVersions,
  });
  const plan = planDeployment(desired, basis, {
    prune: options.prune,
    keepVersions: options.keepVersions,
  });
  const view = planViewOf(ctx, inspected, plan, {
    state: image.skipped ? "unchanged" : "built",
    uri: image.imageUri,
  });
  await status(view, "deploying");
  let deployed: DeployResult;
  try {
    deployed = await stage(ctx, "deploy", () =>
      applyPlan(clients, plan, desired, { log: (line) => io.info(line) }),
    );
  } catch (error) {
    await status(view, "failed", { statusDetail: errorMessage(error) });
    throw error;
  }
  setOutputs(io, deployOutputs(deployed));
  await status(view, "deployed");
  return { ok: true, plan, view, image: image.imageUri, deployed };
}

/**
 * Package, build and push; then the configuration and, with `registry`, the ECR mirror of the
 * manifest. `pipelines`: the image several pipelines share, smoke-tested for each of them.
 */
export async function buildImage(
  ctx: JobContext,
  clients: AwsClients,
  inspected: Pick<Inspected, "graph">,
  pipelines?: string[],
): Promise<ImageResult> {
  const { options, io } = ctx;
  io.info(`Packaging and building the image with ${options.builder} (each build line is a debug line).`);
  const imageOptions = imageOptionsFrom(options, ctx.event.sha, inspected.graph);
  const image = await buildAndPushImage(pipelines ? { ...imageOptions, pipelines } : imageOptions, {
    ecr: clients.ecr,
    mask: (s) => io.setSecret(s),
    // What the image holds and the smoke test's verdict stay in view.
    log: (line) => io.info(line),
    // Every line of kedro package and the builder: detail, kept out of the folded log.
    debug: (line) => io.debug(line),
  });
  io.info(`Image ${image.skipped ? "unchanged" : "pushed"}: ${image.imageUri}`);
  if (options.confSource.startsWith("s3://")) {
    // Before the functions switch to it: the folder their KEDRO_SFN_CONF_SOURCE names.
    const location = confLocation(options.confSource, options.projectPath);
    const conf = await uploadConf(clients.s3, options.projectPath, location);
    io.info(
      conf.uploaded
        ? `Uploaded ${conf.keys.length} configuration file(s) to ${location}.`
        : `Configuration unchanged: ${location} is already complete.`,
    );
  }
  if (options.registry) {
    const registry = new RegistryClient(parseRegistry(options.registry), image.repository);
    await registerManifestInEcr(clients.ecr, await registry.getManifest(image.digest), image);
  }
  return image;
}

async function updateComment(
  ctx: JobContext,
  reviewed: Reviewed,
  view: PlanView,
  status: PlanView["status"],
  extra: Partial<PlanView> = {},
): Promise<void> {
  const repo = ctx.event.repo;
  if (!reviewed || !repo || ctx.options.commentOnPr === "false") return;
  const r = await setPlanCommentStatus({
    octokit: ctx.octokit,
    repo,
    commentId: reviewed.commentId,
    view: { ...view, ...extra, ...(status ? { status } : {}) },
    log: (line) => ctx.io.info(line),
  });
  if (r.warning) ctx.io.warning(r.warning);
}

export function imageOptionsFrom(options: Options, commitSha: string, graph?: PipelineGraph): ImageOptions {
  return {
    projectPath: options.projectPath,
    python: options.python,
    builder: options.builder,
    baseImage: options.baseImage,
    ...(options.dockerfile ? { dockerfile: options.dockerfile } : {}),
    confSource: options.confSource,
    architecture: options.architecture,
    ecrRepository: options.ecrRepository,
    ...(options.registry ? { registry: options.registry } : {}),
    ...(commitSha ? { commitSha } : {}),
    keepImages: options.keepImages,
    kedroEnv: options.kedroEnv,
    pipeline: options.pipeline,
    ...(options.requirements ? { requirementsFile: options.requirements } : {}),
    ...(graph ? { graph } : {}),
    ...(options.dataLocation ? { dataLocation: options.dataLocation } : {}),
  };
}
