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
  /** Functions tagged `kedro-sfn:state-machine=<name>`, each with all its versions. */
  functions: string[];
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
    return {
      stateMachineName,
      stateMachineArn: arn,
      // A schedule of our name that is not ours stays (and is not said to be deleted).
      schedule: schedule && isOurSchedule(schedule, stateMachineName) ? schedule.name : null,
      aliases,
      versions: versions.map((v) => v.arn),
      functions: functions.sort(),
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

export function isEmpty(plan: DestroyPlan): boolean {
  return !plan.stateMachineArn && plan.functions.length === 0 && !plan.schedule;
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
  for (const fn of plan.functions) lines.push(`  Lambda function ${fn} (all versions)`);
  if (plan.repository)
    lines.push(
      `  kept tags of ${plan.stateMachineName} in ECR repository ${plan.repository} (the images stay)`,
    );
  for (const fn of plan.skipped)
    lines.push(`  not deleted: Lambda function ${fn} (its ${Tag.stateMachine} tag names another owner)`);
  return lines.join("\n");
}

/**
 * Deletes what the plan lists: aliases, then the state machine (its versions go with it), then
 * the functions, then the kept image tags. Refuses while an execution runs (its functions would
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
  await mapWithConcurrency(plan.functions, 4, async (name) => {
    try {
      await deleteFunction(clients.lambda, name);
      log(`deleted Lambda function ${name}`);
    } catch (error) {
      throw explainAwsError(error, doing(`delete Lambda function ${name}`));
    }
  });
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
