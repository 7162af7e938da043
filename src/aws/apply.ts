import type { AslDefinition, FunctionSpec } from "../compile/types.js";
import { stableStringify } from "../canonicalJson.js";
import { deployChildren, pruneChildren } from "./children.js";
import { UserError } from "../errors.js";
import { bindChildMachines, bindDefinition, childMachineReferences, type TaskBinding } from "../plan/bind.js";
import {
  arnAccount,
  desiredHash,
  functionHashes,
  functionTags,
  imageDigestHex,
  NOT_DEPLOYING,
  RETAINED_FUNCTIONS,
  stateMachineTags,
  Tag,
  type FunctionHashes,
} from "../plan/desired.js";
import { desiredLogging, planFunction } from "../plan/plan.js";
import { stateMachineVersionDescription } from "../plan/versions.js";
import type { BoundTask, DeployResult, DesiredDeployment, FunctionPlan, Plan } from "../plan/types.js";
import type { AwsClients } from "./clients.js";
import { explainAwsError, isAwsError } from "./failures.js";
import {
  createFunction,
  deleteFunction,
  getFunction,
  listTags,
  publishedVersionOf,
  publishVersion,
  replaceTags,
  toDeployedFunction,
  updateFunctionCode,
  updateFunctionConfiguration,
  type StepResult,
  type VersionContent,
  type WaitOptions,
} from "./lambda.js";
import { mapWithConcurrency } from "./limiter.js";
import { aliasArnOf, describeAlias, pointAlias } from "./alias.js";
import { STATE_MACHINE_ALIAS } from "../constants.js";
import { deleteOldVersions } from "./versionCleanup.js";
import { bindTaskDefinition } from "../plan/taskDefinitions.js";
import { convergeTaskDefinition } from "./taskDefinitionApply.js";
import { applySchedule } from "./scheduleApply.js";
import { ecrImageOf, keptImageTag, protectImage, releaseImages } from "./ecr.js";
import { errorMessage } from "../errors.js";
import {
  createStateMachine,
  describeStateMachine,
  findStateMachineArn,
  stateMachineArn,
  tagStateMachine,
  updateStateMachine,
  type StateMachineSettings,
} from "./sfn.js";

export interface ApplyOptions {
  log?: (line: string) => void;
  /** Functions converged at once; the Lambda limiter in the clients sets the pace. */
  concurrency?: number;
  /** First delay when polling a function that is still updating. */
  pollIntervalMs?: number;
  maxWaitMs?: number;
}

const DEFAULT_CONCURRENCY = 16;
/** Re-reads of one function after RevisionId conflicts before giving up. */
const MAX_REPLANS = 3;

/**
 * Converges AWS to `desired` as `plan` says, in an order where every intermediate state is
 * consistent: functions are updated and versions published first (the state machine still runs
 * the old versions), then one state machine call switches every task to the new versions, and
 * only then are functions that left the pipeline deleted. Killed anywhere, a rerun converges.
 */
export async function applyPlan(
  clients: AwsClients,
  plan: Plan,
  desired: DesiredDeployment,
  options: ApplyOptions = {},
): Promise<DeployResult> {
  if (plan.desiredHash !== desiredHash(desired)) {
    throw new Error("The plan was made for other inputs than this deploy: plan again before applying.");
  }
  const log = options.log ?? (() => undefined);
  const wait: WaitOptions = {
    pollIntervalMs: options.pollIntervalMs ?? 1000,
    maxWaitMs: options.maxWaitMs ?? 15 * 60 * 1000,
  };
  const context: FunctionContext = { clients, desired, wait, log, warnedDigest: false };
  const specs = new Map(desired.compiled.functions.map((spec) => [spec.functionName, spec]));

  const versions = new Map<string, string>();
  const changing: FunctionPlan[] = [];
  for (const fn of plan.functions) {
    if (fn.action === "delete") continue;
    if (fn.action === "noop" && fn.currentVersionArn) versions.set(fn.functionName, fn.currentVersionArn);
    else changing.push(fn);
  }
  if (changing.some((fn) => fn.steps.some((step) => step !== "publish"))) await markDeploying(clients, plan);
  if (changing.length > 0) log(`Updating ${changing.length} Lambda function(s)...`);
  await mapWithConcurrency(changing, options.concurrency ?? DEFAULT_CONCURRENCY, async (fn) => {
    const spec = specs.get(fn.functionName);
    if (!spec)
      throw new Error(
        `The plan names function ${fn.functionName}, which the compiled pipeline does not have.`,
      );
    versions.set(fn.functionName, await convergeFunction(context, fn, spec));
  });

  if (plan.stateMachine.steps.includes("create") || plan.stateMachine.steps.includes("update"))
    await protectDeployedImage(clients, desired, log);
  // A schedule that goes is deleted before the switch retags the state machine `none` (see readSchedule).
  if (plan.schedule?.action === "delete") await applySchedule(clients, plan, desired, null, log);
  const taskDefinitionArn = await convergeTaskDefinition(clients, plan, desired, log);
  let previousParent: AslDefinition | null = null;
  const { arn, versionArn } = await switchStateMachine(
    clients,
    plan,
    desired,
    versions,
    log,
    (previous) => {
      previousParent = previous;
    },
    taskDefinitionArn,
  );
  const aliasArn = await moveAlias(clients, plan, desired, arn, versionArn, log);
  if (plan.schedule?.action === "create" || plan.schedule?.action === "update")
    await applySchedule(clients, plan, desired, aliasArnOf(arn), log);
  const deleted = await prune(clients, plan, desired, options.concurrency ?? DEFAULT_CONCURRENCY, log);
  // Child state machines the parent stopped running, with prune as for functions (old parent
  // versions kept for rollback may still start them).
  if (plan.prune) deleted.push(...(await pruneChildren(clients, desired, previousParent, log)));
  const deletedVersions = await deleteOldVersions(clients, plan, {
    stateMachineArn: arn,
    currentVersionArn: versionArn,
    bound: new Set(versions.values()),
    concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
    log,
  });
  if (deletedVersions.some((deleted) => deleted.includes(":states:")))
    await releaseOldImages(clients, plan, desired, log);

  const functionArns: Record<string, string> = {};
  for (const spec of desired.compiled.functions)
    functionArns[spec.functionName] = versions.get(spec.functionName) ?? "";
  return {
    stateMachineArn: arn,
    stateMachineVersionArn: versionArn,
    stateMachineAliasArn: aliasArn,
    imageUri: desired.imageUri,
    functionArns,
    plan,
    deleted,
    deletedVersions,
  };
}

/**
 * Before the first function is created or its $LATEST changes: the state machine says a deploy is
 * under way until its switch retags it (switchTags), so a read after a deploy killed in between
 * reads the functions instead of taking $LATEST to be the version bound, and a pruning deploy
 * lists the region for functions it created that no definition names (Tag.deploying). One write,
 * on the state machine; a deploy that only publishes needs none ($LATEST stays as it is).
 */
/**
 * The state machine's tags at the switch: what it is asked for, and whether functions of nodes that
 * left the pipeline stay (no prune), which a later pruning deploy must look for (Tag.deploying).
 */
function switchTags(desired: DesiredDeployment, plan: Plan): Record<string, string> {
  return {
    ...stateMachineTags(desired),
    [Tag.deploying]: plan.retained.length > 0 ? RETAINED_FUNCTIONS : NOT_DEPLOYING,
  };
}

async function markDeploying(clients: AwsClients, plan: Plan): Promise<void> {
  if (!plan.stateMachine.arn) return;
  try {
    await tagStateMachine(clients.sfn, plan.stateMachine.arn, { [Tag.deploying]: plan.hash.slice(0, 12) });
  } catch (error) {
    throw explainAwsError(error, {
      doing: `tag state machine "${plan.stateMachineName}" as being deployed`,
      stateMachineName: plan.stateMachineName,
    });
  }
}

/**
 * Before any state machine version runs the image, it gets this state machine's kept tag, which
 * the repository's lifecycle policy never expires (see lifecyclePolicy): killed anywhere, no
 * published version runs an image the count rule may delete.
 */
async function protectDeployedImage(
  clients: AwsClients,
  desired: DesiredDeployment,
  log: (line: string) => void,
): Promise<void> {
  const digest = imageDigestHex(desired.imageUri);
  if (!digest || !ecrImageOf(desired.imageUri)) return;
  const tag = keptImageTag(desired.stateMachineName, digest);
  try {
    if (await protectImage(clients.ecr, desired.imageUri, tag)) log(`tagged the image ${tag}`);
  } catch (error) {
    throw explainAwsError(error, { doing: `tag the image ${desired.imageUri} as ${tag}` });
  }
}

/** After old versions went: images no kept version runs lose their kept tag (a warning if that fails). */
async function releaseOldImages(
  clients: AwsClients,
  plan: Plan,
  desired: DesiredDeployment,
  log: (line: string) => void,
): Promise<void> {
  const image = ecrImageOf(desired.imageUri);
  const kept = plan.oldVersions.keptImages;
  if (!image || !kept) return;
  try {
    const released = await releaseImages(
      clients.ecr,
      image.repositoryName,
      desired.stateMachineName,
      new Set(kept),
    );
    if (released.length > 0)
      log(`released ${released.length} image(s) no kept version runs to the lifecycle policy`);
  } catch (error) {
    log(
      `warning: could not release old images to the lifecycle policy (${errorMessage(error)}); the next cleanup tries again.`,
    );
  }
}

interface FunctionContext {
  clients: AwsClients;
  desired: DesiredDeployment;
  wait: WaitOptions;
  log: (line: string) => void;
  warnedDigest: boolean;
}

/** Brings one function to its desired state and returns the version ARN the state machine should invoke. */
async function convergeFunction(
  context: FunctionContext,
  planned: FunctionPlan,
  spec: FunctionSpec,
): Promise<string> {
  const { clients, desired } = context;
  const hashes = functionHashes(spec, desired);
  // What the plan knew of the Task bound to this function, for re-planning after a conflict.
  const bound: BoundTask | undefined = planned.currentVersionArn
    ? {
        functionName: spec.functionName,
        versionArn: planned.currentVersionArn,
        specHash: planned.steps.includes("publish") ? null : planned.specHash,
        nodes: spec.nodes,
      }
    : undefined;
  let current = planned;
  for (let round = 0; ; round += 1) {
    try {
      return await runSteps(context, current, spec, hashes);
    } catch (error) {
      // Someone (often our own retried call whose response was lost) changed the function since
      // we read it: read it again and redo only what is still missing.
      const conflict =
        isAwsError(error, "PreconditionFailedException") ||
        (current.steps.includes("create") && isAwsError(error, "ResourceConflictException")) ||
        // Planned from the bound version without a read: $LATEST was not as bound, or is gone.
        error instanceof LatestNotAsBound ||
        (current.unread === true && isAwsError(error, "ResourceNotFoundException"));
      if (!conflict || round >= MAX_REPLANS) {
        if (conflict)
          throw new Error(
            `Lambda function ${spec.functionName} kept changing while deploying: is another deploy running?`,
            { cause: error },
          );
        throw explainAwsError(error, {
          doing: `deploy Lambda function ${spec.functionName}`,
          lambdaRoleArn: desired.lambdaRoleArn,
        });
      }
      try {
        current = await replan(clients, spec, desired, bound);
      } catch (replanError) {
        throw explainAwsError(replanError, {
          doing: `read Lambda function ${spec.functionName} again after it changed while deploying (GetFunction)`,
          lambdaRoleArn: desired.lambdaRoleArn,
        });
      }
    }
  }
}

async function replan(
  clients: AwsClients,
  spec: FunctionSpec,
  desired: DesiredDeployment,
  bound: BoundTask | undefined,
): Promise<FunctionPlan> {
  const config = await getFunction(clients.lambda, spec.functionName);
  if (!config) return planFunction(spec, desired, undefined, bound);
  const deployed = toDeployedFunction(config);
  if (deployed.marker?.stateMachine !== desired.stateMachineName) {
    const owner = (await listTags(clients.lambda, deployed.functionArn))[Tag.stateMachine] ?? null;
    if (owner !== desired.stateMachineName) {
      throw new UserError(
        `Lambda function "${spec.functionName}" appeared while deploying and ${owner ? `belongs to state machine "${owner}"` : "is not managed by kedro-sfn"}; refusing to take it over.`,
      );
    }
  }
  return planFunction(spec, desired, deployed, bound);
}

async function runSteps(
  context: FunctionContext,
  planned: FunctionPlan,
  spec: FunctionSpec,
  hashes: FunctionHashes,
): Promise<string> {
  const { clients, desired, wait, log } = context;
  const name = spec.functionName;
  const steps = new Set(planned.steps);
  if (steps.has("create")) {
    const created = await createFunction(clients.lambda, spec, desired, hashes, wait);
    checkDigest(context, name, created.codeSha256);
    log(`created ${versionLabel(created.versionArn)}`);
    return requireVersion(name, created.versionArn);
  }
  let revisionId = planned.revisionId;
  let versionArn: string | null = null;
  const content: VersionContent = {
    functionName: name,
    codeSha256: imageDigestHex(desired.imageUri),
    architecture: spec.architecture,
    hashes,
  };
  if (steps.has("publish") && !steps.has("code") && !steps.has("config")) {
    // $LATEST is already right (an earlier deploy stopped before the switch, or a conflict was
    // re-planned): its newest version may be exactly what a publish would make.
    versionArn = await publishedVersionOf(clients.lambda, content);
    if (versionArn) steps.delete("publish");
  }
  if (steps.has("code")) {
    // With nothing else to change, the code update publishes the version itself: one call.
    const publishNow = steps.has("publish") && !steps.has("config");
    const updated = await updateFunctionCode(
      clients.lambda,
      spec,
      desired.imageUri,
      revisionId,
      publishNow ? content : null,
      wait,
    );
    checkDigest(context, name, updated.codeSha256);
    if (planned.unread) checkLatestAsBound(name, updated, desired, hashes);
    revisionId = updated.revisionId;
    // PublishVersion's CodeSha256 precondition only when Lambda reports the digest (see checkDigest).
    if (updated.codeSha256 !== content.codeSha256) content.codeSha256 = null;
    if (publishNow) versionArn = updated.versionArn;
  }
  if (steps.has("tags")) {
    if (!planned.functionArn) throw new Error(`No ARN known for Lambda function ${name}.`);
    await replaceTags(clients.lambda, planned.functionArn, functionTags(desired));
  }
  if (steps.has("config")) {
    revisionId = (await updateFunctionConfiguration(clients.lambda, spec, desired, hashes, revisionId, wait))
      .revisionId;
  }
  if (steps.has("publish") && !versionArn) {
    const description = `kedro-sfn commit ${desired.commitSha} spec ${hashes.spec}`;
    versionArn = (await publishVersion(clients.lambda, content, description, revisionId, wait)).versionArn;
  }
  // A tags-only change publishes nothing: the state machine keeps its version.
  versionArn ??= planned.currentVersionArn;
  log(`updated ${versionLabel(versionArn)} (${planned.steps.join(", ")})`);
  return requireVersion(name, versionArn);
}

/** $LATEST did not hold what the bound version says (a killed deploy or a hand edit moved it on). */
class LatestNotAsBound extends Error {}

/**
 * A function planned from its bound version (FunctionPlan.unread) had only its code updated,
 * without a RevisionId: what the update reports of $LATEST must carry the desired settings and
 * tags (the Description marker records them), else the version it may have published is not
 * bound and the function is read and converged as any other (convergeFunction re-plans).
 */
function checkLatestAsBound(
  name: string,
  updated: StepResult,
  desired: DesiredDeployment,
  hashes: FunctionHashes,
): void {
  const marker = updated.marker;
  if (
    marker?.stateMachine === desired.stateMachineName &&
    marker.config === hashes.config &&
    marker.tags === hashes.tags
  )
    return;
  throw new LatestNotAsBound(
    `Lambda function ${name}'s $LATEST was not the version the state machine runs: reading it again.`,
  );
}

function requireVersion(name: string, versionArn: string | null): string {
  if (!versionArn) throw new Error(`Lambda did not return a published version for ${name}.`);
  return versionArn;
}

function versionLabel(versionArn: string | null): string {
  return versionArn ? versionArn.split(":").slice(6).join(":") : "(no version)";
}

/** Change detection relies on Lambda reporting the image digest as CodeSha256: say so when it does not. */
function checkDigest(context: FunctionContext, name: string, codeSha256: string | null): void {
  const digest = imageDigestHex(context.desired.imageUri);
  if (context.warnedDigest || !codeSha256 || !digest || codeSha256 === digest) return;
  context.warnedDigest = true;
  context.log(
    `warning: Lambda reports CodeSha256 ${codeSha256.slice(0, 12)}… for ${name}, not the image digest ${digest.slice(0, 12)}…: the next plan will see its code as changed.`,
  );
}

async function switchStateMachine(
  clients: AwsClients,
  plan: Plan,
  desired: DesiredDeployment,
  versions: ReadonlyMap<string, string>,
  log: (line: string) => void,
  /** Called with the parent's definition before the switch when children are involved. */
  onSplit: (previous: AslDefinition | null) => void,
  taskDefinitionArn: string | null,
): Promise<{ arn: string; versionArn: string | null }> {
  const bindings = new Map<string, TaskBinding>();
  for (const spec of desired.compiled.functions) {
    const functionArn = versions.get(spec.functionName);
    if (!functionArn) throw new Error(`No version of ${spec.functionName} to bind.`);
    bindings.set(spec.functionName, { functionArn, specHash: functionHashes(spec, desired).spec });
  }
  const versionDescription = stateMachineVersionDescription(desired.commitSha, plan.hash, desired.imageUri);
  const settings: StateMachineSettings = {
    definition: bindTaskDefinition(bindDefinition(desired.compiled.definition, bindings), taskDefinitionArn),
    roleArn: desired.stateMachineRoleArn,
    logging: desiredLogging(desired),
    tracing: desired.tracing,
    versionDescription,
  };
  const name = desired.stateMachineName;
  // A split pipeline: children first (each publishes a version), then the parent binds them.
  const split = await splitParent(clients, plan, desired, settings, bindings, taskDefinitionArn, log);
  onSplit(split?.previous ?? null);
  if (split?.unchanged) return split.unchanged;
  const failure = {
    doing: `deploy state machine "${name}"`,
    stateMachineName: name,
    stateMachineRoleArn: desired.stateMachineRoleArn,
    sentDefinition: true,
  };
  try {
    if (plan.stateMachine.action === "create") {
      try {
        const created = await createStateMachine(clients.sfn, name, settings, switchTags(desired, plan));
        if (created.versionArn)
          await tagStateMachine(clients.sfn, created.arn, { [Tag.version]: created.versionArn });
        log(`created state machine ${name} (${versionLabel(created.versionArn)})`);
        return created;
      } catch (error) {
        // Created since we read (a retried call, or another deploy): update it instead.
        if (!isAwsError(error, "StateMachineAlreadyExists")) throw error;
      }
    }
    const arn = plan.stateMachine.arn ?? (await existingStateMachineArn(clients, desired));
    if (plan.stateMachine.action === "create" || plan.stateMachine.steps.includes("update")) {
      const versionArn = await updateStateMachine(clients.sfn, arn, settings);
      // After the switch, never before: the tags record what the state machine now runs.
      await tagStateMachine(clients.sfn, arn, {
        ...switchTags(desired, plan),
        ...(versionArn ? { [Tag.version]: versionArn } : {}),
      });
      log(`updated state machine ${name} (${versionLabel(versionArn)})`);
      return { arn, versionArn };
    }
    const versionArn = plan.stateMachine.currentVersionArn;
    if (plan.stateMachine.steps.includes("tags")) {
      // Also repairs a version tag a killed deploy left stale.
      await tagStateMachine(clients.sfn, arn, {
        ...switchTags(desired, plan),
        ...(versionArn ? { [Tag.version]: versionArn } : {}),
      });
      log(`retagged state machine ${name}`);
    }
    return { arn, versionArn };
  } catch (error) {
    throw explainAwsError(error, failure);
  }
}

/**
 * After the switch, one call moves the alias executions and schedules start through to the
 * version just published (or kept). The plan says what the alias routed to when it was read; a
 * retry after a lost response re-reads it, so a second run makes no second write.
 */
async function moveAlias(
  clients: AwsClients,
  plan: Plan,
  desired: DesiredDeployment,
  arn: string,
  versionArn: string | null,
  log: (line: string) => void,
): Promise<string | null> {
  if (!versionArn) {
    log(
      `warning: no published version of ${desired.stateMachineName} was reported: the alias stays where it is.`,
    );
    return null;
  }
  const planned = plan.stateMachine.alias;
  const known = planned && planned.action === "noop" && planned.currentVersionArn === versionArn;
  try {
    const current = known
      ? { arn: aliasArnOf(arn), name: planned.name, versionArn }
      : await describeAlias(clients.sfn, arn);
    const moved = await pointAlias(
      clients.sfn,
      arn,
      versionArn,
      current,
      `kedro-sfn commit ${desired.commitSha} plan ${plan.hash.slice(0, 12)}`,
    );
    if (moved.wrote) log(`alias ${STATE_MACHINE_ALIAS} -> ${versionLabel(versionArn)}`);
    return moved.arn;
  } catch (error) {
    throw explainAwsError(error, {
      doing: `point alias ${STATE_MACHINE_ALIAS} of state machine "${desired.stateMachineName}" at ${versionLabel(versionArn)}`,
      stateMachineName: desired.stateMachineName,
    });
  }
}

/**
 * For a split pipeline: deploys the children, binds the parent's child starts to their versions
 * and, when the bound parent is what the state machine already runs, says so (no new version:
 * the plan cannot know the children's versions, so it always expects an update).
 */
async function splitParent(
  clients: AwsClients,
  plan: Plan,
  desired: DesiredDeployment,
  settings: StateMachineSettings,
  bindings: ReadonlyMap<string, TaskBinding>,
  taskDefinitionArn: string | null,
  log: (line: string) => void,
): Promise<{
  unchanged?: { arn: string; versionArn: string | null };
  previous: AslDefinition | null;
} | null> {
  // The plan read the children the parent starts: when it publishes nothing, none changed.
  const publishes = plan.stateMachine.steps.includes("create") || plan.stateMachine.steps.includes("update");
  if (!publishes && plan.stateMachine.children) return null;
  // Read only when children are involved: now, or before (the plan's diff removes child starts).
  const wasSplit = plan.stateMachine.definitionChanges.some(
    (change) =>
      change.kind !== "added" &&
      JSON.stringify(change.before ?? null).includes(":states:::states:startExecution"),
  );
  if (!desired.compiled.children && !wasSplit) return null;
  const previous = plan.stateMachine.arn
    ? await describeStateMachine(clients.sfn, plan.stateMachine.arn)
    : null;
  if (!desired.compiled.children && !(previous && childMachineReferences(previous.definition).length > 0))
    return null;
  if (desired.compiled.children) {
    const kept = new Map(
      (plan.stateMachine.children ?? []).flatMap((child) =>
        child.versionArn ? [[child.name, child.versionArn] as const] : [],
      ),
    );
    const children = await deployChildren(clients, desired, bindings, settings.versionDescription, log, {
      taskDefinitionArn,
      kept,
    });
    settings.definition = bindChildMachines(settings.definition, children);
  }
  const same =
    previous !== null &&
    plan.stateMachine.currentVersionArn !== null &&
    plan.stateMachine.changes.length === 0 &&
    stableStringify(previous.definition) === stableStringify(settings.definition);
  if (same && plan.stateMachine.arn) {
    // No switch to retag it: the deploy is over all the same (see markDeploying).
    await tagStateMachine(clients.sfn, plan.stateMachine.arn, {
      [Tag.deploying]: switchTags(desired, plan)[Tag.deploying] ?? NOT_DEPLOYING,
    });
    log(`state machine ${desired.stateMachineName} unchanged (its children are up to date)`);
    return {
      unchanged: { arn: plan.stateMachine.arn, versionArn: plan.stateMachine.currentVersionArn },
      previous: previous.definition,
    };
  }
  return { previous: previous?.definition ?? null };
}

async function existingStateMachineArn(clients: AwsClients, desired: DesiredDeployment): Promise<string> {
  const account = arnAccount(desired.stateMachineRoleArn);
  const arn = account
    ? stateMachineArn(account.partition, clients.region, account.accountId, desired.stateMachineName)
    : await findStateMachineArn(clients.sfn, desired.stateMachineName);
  if (!arn) throw new Error(`State machine ${desired.stateMachineName} exists but could not be found.`);
  return arn;
}

/** Deletes functions that left the pipeline, now that the state machine no longer invokes them. */
async function prune(
  clients: AwsClients,
  plan: Plan,
  desired: DesiredDeployment,
  concurrency: number,
  log: (line: string) => void,
): Promise<string[]> {
  const doomed = plan.functions.filter((fn) => fn.action === "delete");
  const deleted: string[] = [];
  await mapWithConcurrency(doomed, concurrency, async (fn) => {
    try {
      // The Description marker said it is ours; the tag confirms before anything is destroyed.
      const owner = fn.functionArn
        ? (await listTags(clients.lambda, fn.functionArn))[Tag.stateMachine]
        : undefined;
      if (owner !== desired.stateMachineName) {
        log(
          `warning: not deleting ${fn.functionName}: its ${Tag.stateMachine} tag is ${owner ?? "missing"}.`,
        );
        return;
      }
      await deleteFunction(clients.lambda, fn.functionName);
      deleted.push(fn.functionName);
      log(`deleted ${fn.functionName}`);
    } catch (error) {
      if (isAwsError(error, "ResourceNotFoundException")) return;
      throw explainAwsError(error, { doing: `delete Lambda function ${fn.functionName}` });
    }
  });
  return deleted.sort();
}
