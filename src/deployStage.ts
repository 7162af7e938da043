import { createAwsClients, type AwsClients } from "./aws/clients.js";
import { uploadConf } from "./aws/confUpload.js";
import { registerManifestInEcr } from "./aws/ecrMirror.js";
import { applyPlan } from "./aws/apply.js";
import { deploymentRef, readDeployed, readForPlan } from "./aws/deployed.js";
import { Input, Output } from "./constants.js";
import { errorMessage } from "./errors.js";
import { createGitHubClient } from "./github/client.js";
import type { EventContext } from "./github/context.js";
import { checkReviewedPlan } from "./github/reviewedPlan.js";
import { buildAndPushImage } from "./image/build.js";
import { parseRegistry } from "./image/options.js";
import { RegistryClient } from "./image/registry.js";
import type { ImageOptions } from "./image/options.js";
import { timed, type JobIO, type JobResult } from "./job.js";
import { requireInputs, type Options } from "./options.js";
import { planDeployment } from "./plan/plan.js";
import { deployOutputs, planOutputs } from "./plan/outputs.js";
import { validateDeployInputs } from "./plan/desired.js";
import type { DeployedState, DesiredDeployment, Plan } from "./plan/types.js";
import { setPlanCommentStatus, upsertPlanComment } from "./github/stickyComment.js";
import type { ImageView, PlanView } from "./report/planComment.js";
import { toPlanView } from "./report/planView.js";
import { renderJobSummary } from "./report/summary.js";
import { executePipeline, executionOutputs } from "./run/execute.js";
import { checkParams } from "./run/params.js";
import { executionName } from "./run/start.js";
import { pipelineTasksFromGraph } from "./run/tasks.js";

/** Until the image exists, plans compare against the image already deployed (code changes ship on deploy). */
const IMAGE_BUILT_ON_DEPLOY = "image-built-on-deploy";

/**
 * Plan, and in deploy mode build, apply and run. `result` holds what the
 * inspect stage found (no pre-flight errors); `context` the event runJob checked.
 */
export async function planAndDeploy(
  options: Options,
  io: JobIO,
  result: JobResult,
  context: EventContext,
): Promise<JobResult> {
  const env = process.env;
  const compiled = result.compiled;
  if (compiled === undefined) throw new Error("planAndDeploy needs the compiled pipeline");
  for (const w of checkParams(options.executionInput, result.graph.parameters)) io.warning(w);
  const commitSha = env["GITHUB_SHA"] ?? "";
  const desiredWith = (imageUri: string): DesiredDeployment => ({
    stateMachineName: options.stateMachineName,
    compiled,
    imageUri,
    lambdaRoleArn: options.lambdaRoleArn,
    stateMachineRoleArn: options.stateMachineRoleArn,
    tags: {},
    commitSha,
    logging: {
      level: options.logLevel,
      ...(options.logGroupArn ? { logGroupArn: options.logGroupArn } : {}),
    },
    tracing: options.tracing,
    project: result.graph.project?.name ?? "",
  });
  const octokit = createGitHubClient(options.githubToken, context.apiUrl);
  const target = options.label || options.stateMachineName;
  const viewOf = (plan: Plan, image: ImageView): PlanView =>
    toPlanView(plan, {
      target,
      findings: result.findings,
      graph: result.graph,
      compiled,
      image,
      ...(context.runUrl ? { summaryUrl: context.runUrl } : {}),
      ...(context.pullRequest?.headSha || context.sha
        ? { commit: context.pullRequest?.headSha ?? context.sha }
        : {}),
    });
  const wouldBuild: ImageView = {
    state: "would-build",
    repository: options.ecrRepository || "(ecr-repository)",
    baseImage: options.baseImage,
  };

  if (result.mode === "plan") {
    const ref = deploymentRef(desiredWith(IMAGE_BUILT_ON_DEPLOY));
    const basis = await timed(result.timings, "plan", () => readForPlan(() => createAwsClients(), ref));
    if (basis.note) io.warning(basis.note);
    const plan = reviewPlan(desiredWith, basis.deployed, options);
    const view = viewOf(plan, wouldBuild);
    setOutputs(io, planOutputs(plan));
    result.plan = plan;
    result.summary = [result.summary, "", renderJobSummary({ plan: view })].join("\n");
    if (context.repo && context.pullRequest) {
      const comment = await upsertPlanComment({
        octokit,
        repo: context.repo,
        issueNumber: context.pullRequest.number,
        view,
        commentOnPr: options.commentOnPr,
        log: (line) => io.info(line),
      });
      if (comment.warning) io.warning(comment.warning);
    }
    return result;
  }

  requireInputs(
    options,
    [
      [Input.EcrRepository, "ecrRepository"],
      [Input.LambdaRoleArn, "lambdaRoleArn"],
      [Input.StateMachineRoleArn, "stateMachineRoleArn"],
    ],
    "to deploy",
  );
  const clients = await createAwsClients();
  try {
    validateDeployInputs({
      stateMachineName: options.stateMachineName,
      lambdaRoleArn: options.lambdaRoleArn,
      stateMachineRoleArn: options.stateMachineRoleArn,
      ecrRepository: options.ecrRepository,
      region: clients.region,
    });
    const ref = deploymentRef(desiredWith(IMAGE_BUILT_ON_DEPLOY));
    const before = await timed(result.timings, "plan", () => readDeployed(clients, ref));
    let reviewed: { commentId: number } | undefined;
    if (options.requireReviewedPlan) {
      const check = await checkReviewedPlan({
        octokit,
        repo: context.repo ?? { owner: "", repo: "" },
        sha: context.sha,
        view: viewOf(reviewPlan(desiredWith, before, options), wouldBuild),
        log: (line) => io.info(line),
      });
      if (!check.ok) return fail(io, result, check.reason, check.message);
      reviewed = { commentId: check.reviewed.commentId };
    }

    const image = await timed(result.timings, "package+build+push", () =>
      buildAndPushImage(imageOptionsFrom(options, commitSha), {
        ecr: clients.ecr,
        mask: (s) => io.setSecret(s),
        log: (line) => io.info(line),
      }),
    );
    io.info(`Image ${image.skipped ? "unchanged" : "pushed"}: ${image.imageUri}`);
    if (options.confSource.startsWith("s3://")) {
      const keys = await uploadConf(clients.s3, options.projectPath, options.confSource);
      io.info(`Uploaded ${keys.length} configuration file(s) to ${options.confSource}.`);
    }
    if (options.registry) {
      const registry = new RegistryClient(parseRegistry(options.registry), image.repository);
      await registerManifestInEcr(clients.ecr, await registry.getManifest(image.digest), image);
    }
    const desired = desiredWith(image.imageUri);
    const plan = planDeployment(desired, before, { prune: options.prune });
    const view = viewOf(plan, { state: image.skipped ? "unchanged" : "built", uri: image.imageUri });
    const updateComment = async (
      status: PlanView["status"],
      extra: Partial<PlanView> = {},
    ): Promise<void> => {
      if (!reviewed || !context.repo || options.commentOnPr === "false") return;
      const r = await setPlanCommentStatus({
        octokit,
        repo: context.repo,
        commentId: reviewed.commentId,
        view: { ...view, ...extra, ...(status ? { status } : {}) },
        log: (line) => io.info(line),
      });
      if (r.warning) io.warning(r.warning);
    };
    await updateComment("deploying");
    let deployed;
    try {
      deployed = await timed(result.timings, "deploy", () =>
        applyPlan(clients, plan, desired, { log: (line) => io.info(line) }),
      );
    } catch (error) {
      await updateComment("failed", { statusDetail: errorMessage(error) });
      throw error;
    }
    setOutputs(io, deployOutputs(deployed));
    result.plan = plan;
    await updateComment("deployed");

    if (!options.startExecution) {
      result.summary = [result.summary, "", renderJobSummary({ plan: view })].join("\n");
      return result;
    }
    return await runPipeline(options, io, result, {
      clients,
      context,
      view,
      image: image.imageUri,
      deployed,
    });
  } finally {
    clients.destroy();
  }
}

export function imageOptionsFrom(options: Options, commitSha: string): ImageOptions {
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
  };
}

/** The plan a reviewer sees: compared with the deployed image, so only configuration and shape show. */
function reviewPlan(
  desiredWith: (imageUri: string) => DesiredDeployment,
  deployed: DeployedState | null,
  options: Options,
): Plan {
  return planDeployment(desiredWith(deployedImage(deployed) ?? IMAGE_BUILT_ON_DEPLOY), deployed, {
    prune: options.prune,
  });
}

/** `repo@sha256:<digest>` when every managed function runs the same image, else null. */
function deployedImage(deployed: DeployedState | null): string | null {
  const digests = new Set((deployed?.functions ?? []).map((f) => f.codeSha256).filter(Boolean));
  if (digests.size !== 1) return null;
  return `deployed@sha256:${[...digests][0] as string}`;
}

async function runPipeline(
  options: Options,
  io: JobIO,
  result: JobResult,
  parts: {
    clients: AwsClients;
    context: EventContext;
    view: PlanView;
    image: string;
    deployed: Awaited<ReturnType<typeof applyPlan>>;
  },
): Promise<JobResult> {
  const compiled = result.compiled;
  if (compiled === undefined) throw new Error("runPipeline needs the compiled pipeline");
  const env = process.env;
  const report = await timed(result.timings, "run", () =>
    executePipeline(
      parts.clients.sfn,
      {
        stateMachineArn: parts.deployed.stateMachineVersionArn ?? parts.deployed.stateMachineArn,
        name: executionName({
          commitSha: env["GITHUB_SHA"] ?? "",
          runId: env["GITHUB_RUN_ID"] ?? "",
          runAttempt: env["GITHUB_RUN_ATTEMPT"] ?? "",
          now: Date.now(),
        }),
        input: options.executionInput,
        wait: options.waitForExecution,
        timeoutMs: options.executionTimeoutMinutes * 60_000,
        tasks: compiled.functions,
        failOnExecutionFailure: options.failOnExecutionFailure,
      },
      {
        log: (line) => io.info(line),
        warn: (line) => io.warning(line),
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        now: Date.now,
      },
    ),
  );
  for (const [name, value] of executionOutputs(report)) io.setOutput(name, value);
  result.summary = [
    result.summary,
    "",
    renderJobSummary({
      run: {
        run: report,
        pipeline: pipelineTasksFromGraph(compiled.functions, result.graph),
        image: parts.image,
      },
      plan: parts.view,
    }),
  ].join("\n");
  result.run = report;
  if (report.failure) {
    result.failure = report.failure;
    io.setOutput(Output.FailureReason, report.failure.reason);
  }
  return result;
}

function setOutputs(io: JobIO, outputs: Record<string, string>): void {
  for (const [name, value] of Object.entries(outputs)) io.setOutput(name as Output, value);
}

function fail(io: JobIO, result: JobResult, reason: string, message: string): JobResult {
  io.setOutput(Output.FailureReason, reason);
  result.failure = { reason, message };
  return result;
}
