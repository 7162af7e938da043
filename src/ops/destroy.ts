import { DeleteStateMachineAliasCommand, DeleteStateMachineCommand } from "@aws-sdk/client-sfn";
import { listAliases } from "../aws/alias.js";
import type { AwsClients } from "../aws/clients.js";
import { releaseImages } from "../aws/ecr.js";
import { explainAwsError, isAwsError } from "../aws/failures.js";
import { deleteFunction, listAllFunctions, listTags, toDeployedFunction } from "../aws/lambda.js";
import { mapWithConcurrency } from "../aws/limiter.js";
import {
  describeStateMachine,
  findStateMachineArn,
  hasRunningExecutions,
  listStateMachineVersions,
  stateMachineTagsOf,
} from "../aws/sfn.js";
import { UserError } from "../errors.js";
import { Tag } from "../plan/desired.js";
import { scheduleName } from "../plan/schedule.js";
import { isOurSchedule } from "../plan/schedulePlan.js";
import { deleteSchedule, getSchedule } from "../aws/schedule.js";
import { childMachineReferences } from "../plan/bind.js";
import { boundTaskDefinitions } from "../plan/taskDefinitions.js";
import { deregisterTaskDefinition, describeLatestTaskDefinition, listTaskDefinitions } from "../aws/ecs.js";

/** Everything `kedro-sfn destroy` removes for one state machine, read before anything goes. */
export interface DestroyPlan {
  stateMachineName: string;
  stateMachineArn: string | null;
  /** Its EventBridge Scheduler schedule (ours by its Description marker), deleted first; null when none. */
  schedule: string | null;
  /** Aliases of the state machine (deleted first: nothing starts through them any more). */
  aliases: string[];
  /** Published versions (they go with the state machine). */
  versions: string[];
  /** Child state machines of a split pipeline (tagged as this one's), each with its versions. */
  children: string[];
  /** Functions tagged `kedro-sfn:state-machine=<name>`, each with all its versions. */
  functions: string[];
  /** ACTIVE revisions of the ECS task definition family its Tasks run (tagged as this one's). */
  taskDefinitions: string[];
  /** Functions marked or invoked as this state machine's whose tag says otherwise: left alone. */
  skipped: string[];
  /** The repository whose kept tags for this state machine are released (with `ecr-repository`). */
  repository: string | null;
  running: boolean;
}

/**
 * What this state machine owns: itself, its aliases and versions, and the functions whose
 * `kedro-sfn:state-machine` tag names it (candidates come from the Description marker and from
 * the Tasks of its definition; the tag decides, as prune's does). Reads only.
 */
export async function planDestroy(
  clients: AwsClients,
  stateMachineName: string,
  options: { ecrRepository?: string } = {},
): Promise<DestroyPlan> {
  try {
    const arn = await findStateMachineArn(clients.sfn, stateMachineName);
    const [machine, aliases, versions, running, listed, schedule] = await Promise.all([
      arn ? describeStateMachine(clients.sfn, arn) : null,
      arn ? listAliases(clients.sfn, arn) : [],
      arn ? listStateMachineVersions(clients.sfn, arn) : [],
      arn ? hasRunningExecutions(clients.sfn, arn) : false,
      listAllFunctions(clients.lambda),
      getSchedule(clients.scheduler, scheduleName(stateMachineName)),
    ]);
    if (arn) {
      // The state machine itself must be ours too: a name is not proof.
      const owner = (await stateMachineTagsOf(clients.sfn, arn))[Tag.stateMachine];
      if (owner !== stateMachineName)
        throw new UserError(
          `State machine "${stateMachineName}" is not managed by kedro-sfn (its ${Tag.stateMachine} tag is ${owner ? `"${owner}"` : "missing"}): refusing to destroy it.`,
          { hint: "Delete it in the AWS console if it really should go." },
        );
    }
    const invoked = new Set(Object.keys(machine?.tasks ?? {}));
    const candidates = listed
      .map(toDeployedFunction)
      .filter((fn) => fn.marker?.stateMachine === stateMachineName || invoked.has(fn.functionName));
    const owners = await mapWithConcurrency(
      candidates,
      4,
      async (fn) => (await listTags(clients.lambda, fn.functionArn))[Tag.stateMachine] ?? null,
    );
    const functions: string[] = [];
    const skipped: string[] = [];
    candidates.forEach((fn, index) =>
      (owners[index] === stateMachineName ? functions : skipped).push(fn.functionName),
    );
    const repository = options.ecrRepository
      ? options.ecrRepository.slice(options.ecrRepository.indexOf("/") + 1)
      : null;
    const definition = machine?.definition ?? null;
    const owned = definition
      ? await ownedChildren(clients, childMachineReferences(definition), stateMachineName)
      : { machines: [], taskDefinitions: [] };
    const children = owned.machines;
    // A split pipeline's ECS Tasks sit in its children.
    const taskDefinitions = definition
      ? await ownedTaskDefinitions(
          clients,
          [...boundTaskDefinitions(definition), ...owned.taskDefinitions],
          stateMachineName,
        )
      : [];
    return {
      stateMachineName,
      stateMachineArn: arn,
      // A schedule of our name that is not ours stays (and is not said to be deleted).
      schedule: schedule && isOurSchedule(schedule, stateMachineName) ? schedule.name : null,
      aliases,
      versions: versions.map((v) => v.arn),
      children,
      functions: functions.sort(),
      taskDefinitions,
      skipped: skipped.sort(),
      repository: repository || null,
      running,
    };
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw explainAwsError(error, {
      doing: `read what state machine "${stateMachineName}" owns`,
      stateMachineName,
    });
  }
}

/** The child state machines the definition starts, those whose owner tag names this one. */
async function ownedChildren(
  clients: AwsClients,
  references: string[],
  owner: string,
): Promise<{ machines: string[]; taskDefinitions: string[] }> {
  // A child start names a version (`...:stateMachine:<name>-part-01:3`): the machine is the ARN without it.
  const machines = [...new Set(references.map((arn) => arn.split(":").slice(0, 7).join(":")))].sort();
  const read = await mapWithConcurrency(machines, 4, async (arn) => {
    const described = await describeStateMachine(clients.sfn, arn);
    const tag = described ? ((await stateMachineTagsOf(clients.sfn, arn))[Tag.stateMachine] ?? null) : null;
    return { owner: tag, taskDefinitions: described ? boundTaskDefinitions(described.definition) : [] };
  });
  const ours = read.filter((entry) => entry.owner === owner);
  return {
    machines: machines.filter((_arn, index) => read[index]?.owner === owner),
    taskDefinitions: ours.flatMap((entry) => entry.taskDefinitions),
  };
}

/** Every ACTIVE revision of the families the definition runs, when the family's tag names this one. */
async function ownedTaskDefinitions(clients: AwsClients, bound: string[], owner: string): Promise<string[]> {
  const families = [...new Set(bound.map((arn) => arn.slice(arn.indexOf("/") + 1).replace(/:\d+$/, "")))];
  const revisions = await mapWithConcurrency(families, 2, async (family) => {
    const latest = await describeLatestTaskDefinition(clients.ecs, family);
    if (latest?.tags[Tag.stateMachine] !== owner) return [];
    return listTaskDefinitions(clients.ecs, family);
  });
  return revisions.flat().sort();
}

export function isEmpty(plan: DestroyPlan): boolean {
  return (
    !plan.stateMachineArn &&
    plan.functions.length === 0 &&
    !plan.schedule &&
    plan.children.length === 0 &&
    plan.taskDefinitions.length === 0
  );
}

/** The plan as lines, printed before anything is deleted. */
export function describeDestroy(plan: DestroyPlan): string {
  if (isEmpty(plan)) return `Nothing of state machine ${plan.stateMachineName} exists: nothing to destroy.`;
  const short = (arn: string): string => arn.split(":").slice(6).join(":");
  const lines = [`Destroy plan for ${plan.stateMachineName}:`];
  if (plan.stateMachineArn) lines.push(`  state machine ${plan.stateMachineArn}`);
  if (plan.schedule) lines.push(`  EventBridge Scheduler schedule ${plan.schedule}`);
  for (const alias of plan.aliases) lines.push(`  alias ${short(alias)}`);
  if (plan.versions.length > 0)
    lines.push(
      `  ${plan.versions.length} version(s): ${plan.versions.map((v) => v.split(":").pop()).join(", ")}`,
    );
  for (const child of plan.children) lines.push(`  child state machine ${child} (all versions)`);
  for (const fn of plan.functions) lines.push(`  Lambda function ${fn} (all versions)`);
  for (const revision of plan.taskDefinitions)
    lines.push(`  ECS task definition ${revision.slice(revision.indexOf("/") + 1)}`);
  if (plan.repository)
    lines.push(
      `  kept tags of ${plan.stateMachineName} in ECR repository ${plan.repository} (the images stay)`,
    );
  for (const fn of plan.skipped)
    lines.push(`  not deleted: Lambda function ${fn} (its ${Tag.stateMachine} tag names another owner)`);
  return lines.join("\n");
}

/**
 * Deletes what the plan lists: aliases, then the state machine (its versions go with it), its
 * child state machines, the functions, the ECS task definition revisions, then the kept image tags. Refuses while an execution runs (its functions would
 * vanish under it). Each deletion of something already gone counts as done, so a rerun finishes.
 */
export async function applyDestroy(
  clients: AwsClients,
  plan: DestroyPlan,
  log: (line: string) => void,
): Promise<void> {
  if (plan.running)
    throw new UserError(
      `State machine "${plan.stateMachineName}" has running executions: not destroying it.`,
      {
        hint: "Wait for them to finish, or stop them (aws stepfunctions stop-execution), then run destroy again.",
      },
    );
  const doing = (what: string) => ({ doing: what, stateMachineName: plan.stateMachineName });
  if (plan.schedule) {
    try {
      if (await deleteSchedule(clients.scheduler, plan.schedule)) log(`deleted schedule ${plan.schedule}`);
    } catch (error) {
      throw explainAwsError(error, doing(`delete schedule ${plan.schedule}`));
    }
  }
  for (const alias of plan.aliases) {
    try {
      await clients.sfn.send(new DeleteStateMachineAliasCommand({ stateMachineAliasArn: alias }));
      log(`deleted alias ${alias.split(":").pop()}`);
    } catch (error) {
      if (!isAwsError(error, "ResourceNotFound", "StateMachineDoesNotExist"))
        throw explainAwsError(error, doing(`delete alias ${alias}`));
    }
  }
  if (plan.stateMachineArn) {
    try {
      await clients.sfn.send(new DeleteStateMachineCommand({ stateMachineArn: plan.stateMachineArn }));
      log(`deleted state machine ${plan.stateMachineName} and its ${plan.versions.length} version(s)`);
    } catch (error) {
      if (!isAwsError(error, "StateMachineDoesNotExist"))
        throw explainAwsError(error, doing(`delete state machine ${plan.stateMachineArn}`));
    }
  }
  // Children after the parent: nothing starts them any more.
  for (const child of plan.children) {
    try {
      await clients.sfn.send(new DeleteStateMachineCommand({ stateMachineArn: child }));
      log(`deleted child state machine ${child.split(":").pop() ?? child}`);
    } catch (error) {
      if (!isAwsError(error, "StateMachineDoesNotExist"))
        throw explainAwsError(error, doing(`delete child state machine ${child}`));
    }
  }
  await mapWithConcurrency(plan.functions, 4, async (name) => {
    try {
      await deleteFunction(clients.lambda, name);
      log(`deleted Lambda function ${name}`);
    } catch (error) {
      throw explainAwsError(error, doing(`delete Lambda function ${name}`));
    }
  });
  for (const revision of plan.taskDefinitions) {
    try {
      await deregisterTaskDefinition(clients.ecs, revision);
      log(`deregistered ECS task definition ${revision.slice(revision.indexOf("/") + 1)}`);
    } catch (error) {
      throw explainAwsError(error, doing(`deregister ECS task definition ${revision}`));
    }
  }
  if (plan.repository) {
    try {
      const released = await releaseImages(clients.ecr, plan.repository, plan.stateMachineName, new Set());
      if (released.length > 0) log(`released ${released.length} kept image tag(s) in ${plan.repository}`);
    } catch (error) {
      log(`warning: could not release kept image tags in ${plan.repository}: ${(error as Error).message}`);
    }
  }
}

/** `--yes`, or `--confirm NAME` naming this state machine: without one, nothing is deleted. */
export function checkConfirmation(plan: DestroyPlan, flags: { yes: boolean; confirm: string }): void {
  if (flags.confirm && flags.confirm !== plan.stateMachineName)
    throw new UserError(
      `--confirm "${flags.confirm}" does not name the state machine being destroyed ("${plan.stateMachineName}"): nothing was deleted.`,
    );
  if (!flags.yes && !flags.confirm)
    throw new UserError(
      `kedro-sfn destroy deletes the resources listed above; it needs an explicit confirmation: nothing was deleted.`,
      {
        hint: `Run it again with --confirm ${plan.stateMachineName} (or --yes).`,
      },
    );
}
