import { childMachineReferences } from "../plan/bind.js";
import {
  arnAccount,
  functionHashes,
  functionTagsCurrent,
  imageDigestHex,
  NO_LEFTOVERS,
  NO_SCHEDULE,
  NOT_DEPLOYING,
  RETAINED_FUNCTIONS,
  Tag,
  taggedImage,
  type FunctionHashes,
} from "../plan/desired.js";
import { planDeployment } from "../plan/plan.js";
import { versionImageDigest } from "../plan/versions.js";
import type { FunctionSpec } from "../compile/types.js";
import type {
  DeployedChild,
  DeployedFunction,
  DeployedFunctionVersion,
  DeployedState,
  DeployedStateMachine,
  DeployedStateMachineVersion,
  DesiredDeployment,
} from "../plan/types.js";
import type { SFNClient } from "@aws-sdk/client-sfn";
import { MissingRegionError, type AwsClients } from "./clients.js";
import { explainAwsError, isMissingCredentials } from "./failures.js";
import {
  getFunctionAndTags,
  listAllFunctions,
  publishedVersionNumber,
  toDeployedFunction,
  unqualifiedArn,
} from "./lambda.js";
import { createRateLimiter, mapWithConcurrency } from "./limiter.js";
import { describeAlias } from "./alias.js";
import { readTaskDefinition } from "./taskDefinitionApply.js";
import { getSchedule } from "./schedule.js";
import { scheduleName } from "../plan/schedule.js";
import {
  describeStateMachine,
  findStateMachineArn,
  listStateMachineVersions,
  sameRevision,
  stateMachineArn,
  stateMachineTagsOf,
} from "./sfn.js";

/** GetFunction reads in flight, and their pace: GetFunction has its own quota (100/s), shared with waits. */
const READ_CONCURRENCY = 8;
const GET_FUNCTION_PER_SECOND = 80;
/** Child state machine versions described at once (Step Functions' control plane is shared per account). */
const CHILD_READ_CONCURRENCY = 4;

/** What to look for. */
export interface DeploymentRef {
  stateMachineName: string;
  /** Desired function names (kept for callers; the desired deployment says more, see desiredFor). */
  functionNames: string[];
  /** Known from the role ARNs; without it the state machine is found by ListStateMachines. */
  accountId?: string;
  partition?: string;
  /** State machine versions kept (`keep-versions`): the newest this many are read in full. */
  keepVersions?: number;
  /** `prune`: functions that left the pipeline are looked for, orphans of a crashed deploy included. */
  prune?: boolean;
  /**
   * The deployment to complete the read against (see completeDeployed), given what the state
   * machine says (its image tag). Without it only the state machine is read.
   */
  desiredFor?: (stateMachineOnly: DeployedState) => DesiredDeployment;
  /** The ECS task definition family, when a task runs on ECS: its latest revision is read too. */
  taskDefinitionFamily?: string;
}

export function deploymentRef(desired: DesiredDeployment): DeploymentRef {
  const account = arnAccount(desired.stateMachineRoleArn) ?? arnAccount(desired.lambdaRoleArn);
  return {
    stateMachineName: desired.stateMachineName,
    functionNames: desired.compiled.functions.map((fn) => fn.functionName),
    ...(desired.compiled.ecsTasks?.[0] ? { taskDefinitionFamily: desired.compiled.ecsTasks[0].family } : {}),
    ...(account ? { accountId: account.accountId, partition: account.partition } : {}),
    desiredFor: () => desired,
  };
}

/**
 * Reads what this state machine owns, at a cost that does not grow with the account: its
 * DescribeStateMachine, ListTagsForResource, ListStateMachineVersions and DescribeStateMachineAlias
 * (where `live` routes), and a DescribeStateMachine of the newest version (what it runs). The functions are known from the
 * definition: each Task names a published (immutable) version and records the spec hash it was
 * built from. With `ref.desiredFor` the read is completed against that deployment (see
 * completeDeployed): a 200-node no-op plan is those five calls, whatever else the region holds
 * (a sixth, GetSchedule, when the state machine has a schedule: see readSchedule).
 */
export async function readDeployed(clients: AwsClients, ref: DeploymentRef): Promise<DeployedState> {
  const state = await explained(ref.stateMachineName, async () => {
    const [stateMachine, taskDefinition] = await Promise.all([
      readStateMachine(clients.sfn, clients.region, ref),
      // Only when a node runs on ECS: the family's latest revision (one call).
      ref.taskDefinitionFamily ? readTaskDefinition(clients.ecs, ref.taskDefinitionFamily) : undefined,
    ]);
    return {
      region: clients.region,
      stateMachine,
      functions: stateMachine ? boundFunctions(stateMachine) : [],
      foreign: [],
      imageUri: stateMachine ? taggedImage(stateMachine.tags) : null,
      ...(taskDefinition !== undefined ? { taskDefinition } : {}),
    } satisfies DeployedState;
  });
  const desired = ref.desiredFor?.(state);
  const scheduled = await explained(ref.stateMachineName, () =>
    readSchedule(clients, state, ref.stateMachineName, desired),
  );
  return desired ? completeDeployed(clients, scheduled, desired, ref) : scheduled;
}

/**
 * The schedule, by name (one GetSchedule), when one is wanted or may exist: the state machine's
 * schedule tag is not `none` (a tag-less one, deployed before schedules, may have one too).
 * A no-op without a schedule makes no call; one with a schedule makes this one.
 */
async function readSchedule(
  clients: AwsClients,
  state: DeployedState,
  stateMachineName: string,
  desired: DesiredDeployment | undefined,
): Promise<DeployedState> {
  const machine = state.stateMachine;
  const mayExist = machine !== null && machine.tags[Tag.schedule] !== NO_SCHEDULE;
  if (!desired?.schedule && !mayExist) return state;
  return { ...state, schedule: await getSchedule(clients.scheduler, scheduleName(stateMachineName)) };
}

/**
 * Reads what planning `desired` needs beyond the state machine, and no more:
 * - a desired function whose Task is bound to a version built from the desired spec (and whose
 *   tags the state machine's tags vouch for) is taken as it is bound: no call;
 * - every other desired name: one GetFunction ($LATEST and tags: ours, foreign, or absent);
 * - when the plan changes something, or the state machine's leftovers tag is not `none`, or
 *   old versions wait for cleanup: every state machine version is described (which function
 *   versions and image each invokes: what cleanup may delete), and functions the versions name
 *   that left the pipeline are read (prune);
 * - ListFunctions over the region only where nothing else can find it: with prune, when there
 *   is no state machine, or the deploy changes something and the deploying tag is not `none` (a
 *   deploy killed between creating a function and the switch, or one without prune, leaves one
 *   no definition names); and with versions when the leftovers tag is not `none` (old function
 *   versions kept while executions ran).
 * Completing a completed state again (another desired image) reads only what is still unknown.
 */
export async function completeDeployed(
  clients: AwsClients,
  state: DeployedState,
  desired: DesiredDeployment,
  options: { prune?: boolean | undefined; keepVersions?: number | undefined } = {},
): Promise<DeployedState> {
  return explained(desired.stateMachineName, () => complete(clients, state, desired, options));
}

async function complete(
  clients: AwsClients,
  state: DeployedState,
  desired: DesiredDeployment,
  options: { prune?: boolean | undefined; keepVersions?: number | undefined },
): Promise<DeployedState> {
  const name = desired.stateMachineName;
  const machine = state.stateMachine;
  const byName = new Map(state.functions.map((fn) => [fn.functionName, fn]));
  const absent = new Set(state.absent ?? []);
  const foreign = new Map((state.foreign ?? []).map((fn) => [fn.functionName, fn]));
  const tagsCurrent = machine !== null && functionTagsCurrent(machine.tags, desired);
  const digest = imageDigestHex(desired.imageUri);
  const boundImage = imageOnlyChange(machine, desired);
  const toRead: string[] = [];
  // Nothing deployed (a first deploy, or one killed before its state machine existed): one
  // listing says which desired names exist, where a GetFunction per name would say it for each.
  let listed = state.listed === true;
  if (machine === null && !listed) {
    const existing = new Set<string>();
    for (const config of await listAllFunctions(clients.lambda)) {
      const fn = toDeployedFunction(config);
      existing.add(fn.functionName);
      if (fn.marker?.stateMachine === name) byName.set(fn.functionName, fn);
    }
    for (const spec of desired.compiled.functions)
      if (!existing.has(spec.functionName)) absent.add(spec.functionName);
    listed = true;
  }
  for (const spec of desired.compiled.functions) {
    const known = byName.get(spec.functionName);
    if (foreign.has(spec.functionName) || (known && known.source !== "bound")) continue;
    if (!known && absent.has(spec.functionName)) continue;
    const hashes = functionHashes(spec, desired);
    const task = machine?.tasks[spec.functionName];
    if (known && task?.specHash === hashes.spec && tagsCurrent && digest) {
      byName.set(spec.functionName, asBound(known, spec, desired, hashes, digest));
    } else if (
      known &&
      tagsCurrent &&
      digest &&
      boundImage &&
      task?.specHash === functionHashes(spec, { ...desired, imageUri: boundImage.uri }).spec
    ) {
      // Built from the desired settings and the image the state machine was deployed with: only
      // the image changes. No read: the apply's code update reports $LATEST (see FunctionPlan.unread).
      byName.set(spec.functionName, asBound(known, spec, desired, hashes, boundImage.digest));
    } else {
      toRead.push(spec.functionName);
    }
  }
  const limiter = createRateLimiter({ perSecond: GET_FUNCTION_PER_SECOND });
  const read = await mapWithConcurrency(toRead, READ_CONCURRENCY, async (functionName) => {
    await limiter.acquire();
    return getFunctionAndTags(clients.lambda, functionName);
  });
  toRead.forEach((functionName, index) => {
    const found = read[index];
    const versions = byName.get(functionName)?.versions;
    byName.delete(functionName);
    if (!found) {
      absent.add(functionName);
      return;
    }
    const fn = { ...toDeployedFunction(found.config), ...(versions ? { versions } : {}) };
    const owner = fn.marker?.stateMachine === name ? name : (found.tags[Tag.stateMachine] ?? null);
    if (owner === name) byName.set(functionName, fn);
    else foreign.set(functionName, { functionName, owner });
  });
  let next: DeployedState = {
    ...state,
    functions: sortedFunctions(byName),
    foreign: [...foreign.values()],
    absent: [...absent].sort(),
    ...(listed ? { listed } : {}),
  };
  if (next.foreign.length > 0 || next.versionsRead) return next; // the plan refuses foreign names
  // Without a state machine there are no old versions; a tag-less one (deployed before the tag) is unknown.
  const leftovers = machine ? (machine.tags[Tag.leftovers] ?? "unknown") : NO_LEFTOVERS;
  const plan = planDeployment(desired, next, {
    prune: options.prune ?? false,
    ...(options.keepVersions !== undefined ? { keepVersions: options.keepVersions } : {}),
  });
  const changes = plan.summary.hasChanges;
  if (!changes && leftovers === NO_LEFTOVERS && plan.oldVersions.stateMachineVersions.length === 0)
    return next;

  next = await readAllVersions(clients, next, desired, byName);
  // Functions no definition names come from a deploy killed between creating them and the
  // switch, or from one without prune: either leaves the deploying tag other than `none`.
  const orphansPossible = machine?.tags[Tag.deploying] !== NOT_DEPLOYING;
  const listOrphans = options.prune === true && !listed && changes && orphansPossible;
  if (listOrphans || leftovers !== NO_LEFTOVERS) {
    next = await listRegion(clients, next, desired, byName, leftovers !== NO_LEFTOVERS);
  }
  return next;
}

/** Every state machine version described; function versions known from them; old functions they name read. */
async function readAllVersions(
  clients: AwsClients,
  state: DeployedState,
  desired: DesiredDeployment,
  byName: Map<string, DeployedFunction>,
): Promise<DeployedState> {
  const machine = state.stateMachine;
  if (!machine) return { ...state, versionsRead: true };
  const versions = await mapWithConcurrency(machine.versions ?? [], 4, async (version) =>
    version.functionVersionArns !== null ? version : versionRead(clients.sfn, version.arn, version.version),
  );
  const described: DeployedStateMachine = { ...machine, versions };
  const known = new Map<string, Map<string, DeployedFunctionVersion>>();
  const add = (arn: string, imageDigest: string | null | undefined): void => {
    const version = Number(arn.slice(arn.lastIndexOf(":") + 1));
    const functionName = arn.split(":")[6] ?? "";
    if (!Number.isInteger(version) || !functionName) return;
    const entries = known.get(functionName) ?? new Map<string, DeployedFunctionVersion>();
    if (!entries.get(arn)?.codeSha256)
      entries.set(arn, { arn, version, ...(imageDigest ? { codeSha256: imageDigest } : {}) });
    known.set(functionName, entries);
  };
  for (const version of versions)
    for (const arn of version.functionVersionArns ?? []) add(arn, version.imageDigest);
  const running = versions.find((version) => version.arn === machine.currentVersionArn);
  for (const task of Object.values(machine.tasks)) add(task.versionArn, running?.imageDigest);

  // Functions old versions invoke that left the pipeline (a prune whose deploy was killed after the switch).
  const desiredNames = new Set(desired.compiled.functions.map((spec) => spec.functionName));
  const others = [...known.keys()].filter((fn) => !byName.has(fn) && !desiredNames.has(fn));
  const read = await mapWithConcurrency(others, READ_CONCURRENCY, (fn) =>
    getFunctionAndTags(clients.lambda, fn),
  );
  others.forEach((functionName, index) => {
    const found = read[index];
    if (!found) return;
    const fn = toDeployedFunction(found.config);
    if (fn.marker?.stateMachine === desired.stateMachineName) byName.set(functionName, fn);
  });
  for (const [functionName, fn] of byName) {
    const merged = new Map((fn.versions ?? []).map((version) => [version.arn, version]));
    for (const [arn, version] of known.get(functionName) ?? [])
      if (!merged.get(arn)?.codeSha256) merged.set(arn, version);
    byName.set(functionName, { ...fn, versions: [...merged.values()].sort((a, b) => a.version - b.version) });
  }
  return { ...state, stateMachine: described, functions: sortedFunctions(byName), versionsRead: true };
}

/**
 * ListFunctions over the region: functions with our marker no definition names, and with
 * `withVersions` every published version of ours (what a cleanup left while executions ran).
 */
async function listRegion(
  clients: AwsClients,
  state: DeployedState,
  desired: DesiredDeployment,
  byName: Map<string, DeployedFunction>,
  withVersions: boolean,
): Promise<DeployedState> {
  const listed = await listAllFunctions(clients.lambda, withVersions);
  const versionsByName = new Map<string, DeployedFunctionVersion[]>();
  for (const config of listed) {
    const version = publishedVersionNumber(config);
    if (version === null) continue;
    const functionName = config.FunctionName ?? "";
    versionsByName.set(functionName, [
      ...(versionsByName.get(functionName) ?? []),
      {
        arn: config.FunctionArn ?? "",
        version,
        ...(config.CodeSha256 ? { codeSha256: config.CodeSha256 } : {}),
      },
    ]);
  }
  const absent = new Set(state.absent ?? []);
  for (const config of listed) {
    if (publishedVersionNumber(config) !== null) continue;
    const fn = toDeployedFunction(config);
    if (fn.marker?.stateMachine !== desired.stateMachineName) continue;
    const current = byName.get(fn.functionName);
    const versions = withVersions
      ? (versionsByName.get(fn.functionName) ?? []).sort((a, b) => a.version - b.version)
      : current?.versions;
    byName.set(fn.functionName, { ...(current ?? fn), ...(versions ? { versions } : {}) });
    absent.delete(fn.functionName);
  }
  return { ...state, functions: sortedFunctions(byName), absent: [...absent].sort(), listed: true };
}

/** A function as the deployed definition shows it: the version its Task names (see DeployedFunction.source). */
function boundFunctions(machine: DeployedStateMachine): DeployedFunction[] {
  const byName = new Map<string, DeployedFunction>();
  for (const task of Object.values(machine.tasks)) {
    const version = Number(task.versionArn.slice(task.versionArn.lastIndexOf(":") + 1));
    byName.set(task.functionName, {
      functionName: task.functionName,
      functionArn: unqualifiedArn(task.versionArn),
      revisionId: null,
      marker: null,
      codeSha256: "",
      architecture: null,
      memoryMb: null,
      timeoutSeconds: null,
      ephemeralStorageMb: null,
      environment: {},
      role: null,
      versions: Number.isInteger(version) ? [{ arn: task.versionArn, version }] : [],
      source: "bound",
    });
  }
  return sortedFunctions(byName);
}

/**
 * The image the state machine's last deploy ran (its image tag), when it is not the desired one:
 * a bound Task whose spec hash is that image with the desired settings differs only by its image.
 * A stale tag (a deploy killed before tagging) matches no hash: those functions are read, as
 * they are after a deploy that changed functions and was killed before the switch.
 */
function imageOnlyChange(
  machine: DeployedStateMachine | null,
  desired: DesiredDeployment,
): { uri: string; digest: string } | null {
  // A deploy killed after changing functions, before the switch, may have left $LATEST ahead.
  const deploying = machine?.tags[Tag.deploying];
  if (!machine || (deploying !== NOT_DEPLOYING && deploying !== RETAINED_FUNCTIONS)) return null;
  const uri = taggedImage(machine.tags);
  const digest = uri ? imageDigestHex(uri) : null;
  return uri && digest && uri !== desired.imageUri ? { uri, digest } : null;
}

/** The bound version was built from the desired spec: it holds the desired image and configuration. */
function asBound(
  known: DeployedFunction,
  spec: FunctionSpec,
  desired: DesiredDeployment,
  hashes: FunctionHashes,
  digest: string,
): DeployedFunction {
  return {
    ...known,
    marker: { stateMachine: desired.stateMachineName, config: hashes.config, tags: hashes.tags },
    codeSha256: digest,
    architecture: spec.architecture,
    memoryMb: spec.memoryMb,
    timeoutSeconds: spec.timeoutSeconds,
    ephemeralStorageMb: spec.ephemeralStorageMb,
    environment: spec.environment,
    role: desired.lambdaRoleArn,
    versions: (known.versions ?? []).map((version) => ({
      ...version,
      codeSha256: version.codeSha256 ?? digest,
    })),
  };
}

function sortedFunctions(byName: ReadonlyMap<string, DeployedFunction>): DeployedFunction[] {
  return [...byName.values()].sort((a, b) => (a.functionName < b.functionName ? -1 : 1));
}

async function explained<T>(stateMachineName: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw explainAwsError(error, {
      doing: `read the deployed state of state machine "${stateMachineName}"`,
      stateMachineName,
    });
  }
}

async function readStateMachine(
  sfn: SFNClient,
  region: string,
  ref: DeploymentRef,
): Promise<DeployedStateMachine | null> {
  const arn =
    ref.accountId !== undefined
      ? stateMachineArn(ref.partition ?? "aws", region, ref.accountId, ref.stateMachineName)
      : await findStateMachineArn(sfn, ref.stateMachineName);
  if (!arn) return null;
  const described = await describeStateMachine(sfn, arn);
  if (!described) return null;
  const [tags, versions, children, alias] = await Promise.all([
    stateMachineTagsOf(sfn, described.arn),
    readVersions(sfn, described),
    readChildren(sfn, described),
    describeAlias(sfn, described.arn),
  ]);
  const machine = children ? withChildren(described, children) : described;
  return {
    ...machine,
    tags,
    ...(children ? withChildVersions(versions, machine) : versions),
    alias: alias && { arn: alias.arn, versionArn: alias.versionArn },
  };
}

/**
 * The version the split parent runs (its definition is the parent's, see readVersions) invokes
 * the function versions its children bind: known now, so cleanup can tell what it keeps.
 */
function withChildVersions(
  read: { versions: DeployedStateMachineVersion[]; currentVersionArn: string | null },
  machine: DeployedStateMachine,
): { versions: DeployedStateMachineVersion[]; currentVersionArn: string | null } {
  if (machine.children?.some((child) => child.definition === null)) return read;
  const functionVersionArns = Object.values(machine.tasks)
    .map((task) => task.versionArn)
    .sort();
  return {
    ...read,
    versions: read.versions.map((version) =>
      version.arn === read.currentVersionArn ? { ...version, functionVersionArns } : version,
    ),
  };
}

/**
 * A split pipeline's parent names no function: its children do. Each child version the parent
 * starts is described once (its definition is immutable), so the functions are vouched for by
 * the Tasks the children bind, as a one-machine pipeline's are by its own: a no-op of a split
 * pipeline reads the five calls plus one per child. Null when the parent starts no child.
 */
async function readChildren(
  sfn: SFNClient,
  parent: DeployedStateMachine,
): Promise<{ child: DeployedChild; tasks: DeployedStateMachine["tasks"] }[] | null> {
  const references = [...new Set(childMachineReferences(parent.definition))];
  if (references.length === 0) return null;
  return mapWithConcurrency(references, CHILD_READ_CONCURRENCY, async (versionArn) => {
    const name = versionArn.split(":")[6] ?? versionArn;
    // Only a version ARN is immutable (a parent bound by an older deploy could name the machine).
    const described = /:\d+$/.test(versionArn) ? await describeStateMachine(sfn, versionArn) : null;
    const child: DeployedChild = described
      ? {
          name,
          versionArn,
          definition: described.definition,
          roleArn: described.roleArn,
          logging: described.logging,
          tracing: described.tracing,
        }
      : { name, versionArn, definition: null, roleArn: "", logging: parent.logging, tracing: false };
    return { child, tasks: described?.tasks ?? {} };
  });
}

/**
 * The parent with its children's Lambda Tasks as its own. A shared function may serve Tasks in
 * several parts: bound once (one version), it serves all their nodes (as boundTasks merges them).
 */
function withChildren(
  parent: DeployedStateMachine,
  children: { child: DeployedChild; tasks: DeployedStateMachine["tasks"] }[],
): DeployedStateMachine {
  const tasks = { ...parent.tasks };
  for (const { tasks: childTasks } of children)
    for (const [functionName, task] of Object.entries(childTasks)) {
      const earlier = tasks[functionName];
      tasks[functionName] = earlier
        ? {
            ...earlier,
            nodes: [...earlier.nodes, ...task.nodes.filter((node) => !earlier.nodes.includes(node))],
          }
        : task;
    }
  return { ...parent, tasks, children: children.map(({ child }) => child) };
}

/**
 * The state machine's versions, newest first, the newest read in full; and the version it
 * runs: the newest, if that has its current definition and settings. This, not the version tag,
 * is what a no-op deploy reports, so a deploy killed between publishing and tagging leaves
 * nothing wrong behind. Older versions are described only when cleanup needs them.
 */
async function readVersions(
  sfn: SFNClient,
  machine: DeployedStateMachine,
): Promise<{ versions: DeployedStateMachineVersion[]; currentVersionArn: string | null }> {
  const listed = await listStateMachineVersions(sfn, machine.arn);
  const newest = listed[0];
  const read = newest ? await describeStateMachine(sfn, newest.arn) : null;
  const versions = listed.map((version, index) =>
    index === 0 && read
      ? versionOf(read, version.arn, version.version)
      : { ...version, functionVersionArns: null },
  );
  const currentVersionArn = read && newest && sameRevision(read, machine) ? newest.arn : null;
  return { versions, currentVersionArn };
}

async function versionRead(
  sfn: SFNClient,
  arn: string,
  version: number,
): Promise<DeployedStateMachineVersion> {
  const described = await describeStateMachine(sfn, arn);
  return described ? versionOf(described, arn, version) : { arn, version, functionVersionArns: null };
}

function versionOf(
  described: DeployedStateMachine,
  arn: string,
  version: number,
): DeployedStateMachineVersion {
  return {
    arn,
    version,
    // A split pipeline's version invokes functions through child state machine versions this
    // read does not follow: unknown, so no function version is deleted from under it.
    functionVersionArns:
      childMachineReferences(described.definition).length === 0
        ? Object.values(described.tasks)
            .map((task) => task.versionArn)
            .sort()
        : null,
    imageDigest: versionImageDigest(described.description),
  };
}

export interface PlanBasis {
  deployed: DeployedState | null;
  /** Why AWS was not read, for the plan's note; null when it was. */
  note: string | null;
}

/**
 * `mode: plan` without credentials still plans, against nothing deployed, and says so.
 * The clients belong to the caller (the job shares them between stages and destroys them).
 * Credentials AWS rejects (expired) are an error, not a reason to pretend nothing exists.
 */
export async function readForPlan(
  connect: () => Promise<AwsClients>,
  ref: DeploymentRef,
): Promise<PlanBasis> {
  let clients: AwsClients;
  try {
    clients = await connect();
  } catch (error) {
    if (error instanceof MissingRegionError) {
      return {
        deployed: null,
        note: "No AWS region or credentials configured: planned as if nothing were deployed.",
      };
    }
    throw error;
  }
  try {
    return { deployed: await readDeployed(clients, ref), note: null };
  } catch (error) {
    if (isMissingCredentials(error) || isMissingCredentials((error as { cause?: unknown }).cause)) {
      return { deployed: null, note: "No AWS credentials: planned as if nothing were deployed." };
    }
    throw error;
  }
}
