import { resolve } from "node:path";
import { MissingRegionError } from "../aws/clients.js";
import { parseS3Url } from "../aws/confUpload.js";
import { Input } from "../constants.js";
import { errorMessage } from "../errors.js";
import { checkBuilder } from "../image/build.js";
import { checkUserDockerfile } from "../image/context.js";
import { confInImage, parseRegistry, platformFor, validateRepositoryName } from "../image/options.js";
import { validateBaseImage } from "../image/reference.js";
import { readRequirements } from "../image/requirements.js";
import type { CommandRunner } from "../process/command.js";
import { validateDeployInputs } from "../plan/desired.js";
import type { JobContext } from "./context.js";
import { checkEcsInputs } from "./ecsInputs.js";
import type { Inspected } from "./inspect.js";

export interface InputCheckDeps {
  /** Runs the builder's probe (`docker version`, `buildah info`); default: the real runner. */
  run?: CommandRunner;
  /** False: the caller probes the builder itself, later but still before any AWS write (deploy). */
  probeBuilder?: boolean;
}

/**
 * Every check of the inputs a deploy uses, in one place, before the first AWS call of plan
 * and deploy alike: a green plan means the deploy's inputs are right, and a refused input
 * leaves nothing behind (no repository, no image, no function). Returns the region (null when
 * a plan has none) and warnings for what a plan may lack but a deploy needs.
 */
export async function checkInputs(
  ctx: Pick<JobContext, "options" | "mode" | "aws">,
  inspected: Pick<Inspected, "graph"> & Partial<Pick<Inspected, "compiled">>,
  deps: InputCheckDeps = {},
): Promise<{ region: string | null; warnings: string[] }> {
  const { options, mode } = ctx;
  const deploying = mode === "deploy";
  const warnings: string[] = [];
  const region = await regionOf(ctx);

  validateDeployInputs({
    stateMachineName: options.stateMachineName,
    lambdaRoleArn: options.lambdaRoleArn,
    stateMachineRoleArn: options.stateMachineRoleArn,
    ecrRepository: options.ecrRepository,
    ...(region ? { region } : {}),
    logging: {
      level: options.logLevel,
      ...(options.logGroupArn ? { logGroupArn: options.logGroupArn } : {}),
    },
    rolesOptional: !deploying,
    scheduled: options.schedule !== "",
    schedulerRoleArn: options.schedulerRoleArn,
  });
  const missing = [
    [Input.LambdaRoleArn, options.lambdaRoleArn],
    [Input.StateMachineRoleArn, options.stateMachineRoleArn],
    ...(options.schedule ? [[Input.SchedulerRoleArn, options.schedulerRoleArn]] : []),
    [Input.EcrRepository, options.ecrRepository],
  ].filter(([, value]) => !value);
  if (missing.length > 0) {
    // Only a plan gets here without them (deploy requires them first).
    warnings.push(
      `Planned without ${missing.map(([name]) => `'${name}'`).join(", ")}: a deploy needs ${missing.length > 1 ? "them" : "it"}.`,
    );
  }
  warnings.push(...checkEcsInputs(options, inspected.compiled, region, deploying));
  if (options.ecrRepository) validateRepositoryName(options.ecrRepository);
  if (options.registry) parseRegistry(options.registry);
  validateBaseImage(options.baseImage);
  platformFor(options.architecture);
  confInImage(options.confSource);
  if (options.confSource.startsWith("s3://")) parseS3Url(options.confSource, Input.ConfSource);
  const project = resolve(options.projectPath);
  if (options.dockerfile) checkUserDockerfile(resolve(project, options.dockerfile));
  // A missing or broken requirements file (or another Kedro pinned in it) fails here, not after a build.
  readRequirements({
    projectPath: project,
    ...(options.requirements ? { requirementsFile: options.requirements } : {}),
    ...(inspected.graph.runtime ? { runtime: inspected.graph.runtime } : {}),
    ...(inspected.graph.project?.kedro_version
      ? { kedroVersion: inspected.graph.project.kedro_version }
      : {}),
  });

  // Last: the only check that runs a program. A plan on a machine without the builder still plans.
  if (deps.probeBuilder !== false) {
    try {
      await checkBuilder(options.builder, deps.run);
    } catch (error) {
      if (deploying) throw error;
      warnings.push(`A deploy from here would fail: ${errorMessage(error)}`);
    }
  }
  return { region, warnings };
}

/** The deployment region; a plan without one plans against nothing deployed (readForPlan says so). */
async function regionOf(ctx: Pick<JobContext, "mode" | "aws">): Promise<string | null> {
  try {
    return (await ctx.aws.clients()).region;
  } catch (error) {
    if (ctx.mode === "plan" && error instanceof MissingRegionError) return null;
    throw error;
  }
}
