import type { Plan } from "../plan/types.js";
import type { AwsClients } from "./clients.js";
import { awsErrorName } from "./failures.js";
import { errorMessage } from "../errors.js";
import { deleteFunctionVersion } from "./lambda.js";
import { mapWithConcurrency } from "./limiter.js";
import { deleteStateMachineVersion, hasRunningExecutions, tagStateMachine } from "./sfn.js";
import { MAYBE_LEFTOVERS, Tag } from "../plan/desired.js";

export interface CleanupContext {
  stateMachineArn: string;
  /** The version this deploy published or kept: never deleted. */
  currentVersionArn: string | null;
  /** Function versions the state machine now invokes: never deleted. */
  bound: ReadonlySet<string>;
  concurrency: number;
  log: (line: string) => void;
}

/**
 * Deletes the old versions the plan lists, after the cutover. A state machine version an
 * execution still runs stays, and so do the function versions it invokes. Executions started
 * with the unqualified ARN run the revision they started with, which the API does not name
 * (moto does not say which version an execution ran either): while any execution runs, function
 * versions all stay, until a later deploy finds none running. Nothing here fails the deploy,
 * which has already cut over: a failure is a warning and the next deploy tries again.
 */
export async function deleteOldVersions(
  clients: AwsClients,
  plan: Plan,
  context: CleanupContext,
): Promise<string[]> {
  const { log } = context;
  const machines = plan.oldVersions.stateMachineVersions.filter((arn) => arn !== context.currentVersionArn);
  const functions = plan.oldVersions.functionVersions.filter((arn) => !context.bound.has(arn));
  if (machines.length === 0 && functions.length === 0) return [];
  if (!context.currentVersionArn) {
    // The kept count assumes the version this deploy published or runs: without it, delete nothing.
    log("note: old versions not deleted: no state machine version to keep was reported.");
    return [];
  }
  const deleted: string[] = [];
  let running: boolean;
  try {
    running = await hasRunningExecutions(clients.sfn, context.stateMachineArn);
  } catch (error) {
    log(`warning: old versions not deleted: could not list running executions (${errorMessage(error)}).`);
    return [];
  }
  let machinesLeft = false;
  for (const arn of machines) {
    try {
      // Asked per version too: the machine's own listing need not include executions of versions.
      if (await hasRunningExecutions(clients.sfn, arn)) {
        log(`kept ${label(arn)}: an execution still runs it.`);
        machinesLeft = true;
        continue;
      }
      await deleteStateMachineVersion(clients.sfn, arn);
      deleted.push(arn);
    } catch (error) {
      machinesLeft = true;
      log(`warning: could not delete ${label(arn)} (${reason(error)}); the next deploy tries again.`);
    }
  }
  if (running || machinesLeft) {
    if (functions.length > 0) {
      log(
        `kept ${functions.length} old function version(s): ${running ? "executions are running" : "old state machine versions that may invoke them remain"}; a later deploy deletes them.`,
      );
      await markLeftovers(clients, context);
    }
    return summarize(deleted, log);
  }
  await mapWithConcurrency(functions, context.concurrency, async (arn) => {
    try {
      await deleteFunctionVersion(clients.lambda, arn);
      deleted.push(arn);
    } catch (error) {
      log(`warning: could not delete ${label(arn)} (${reason(error)}); the next deploy tries again.`);
    }
  });
  return summarize(deleted, log);
}

/**
 * The deployed read finds old function versions from the state machine versions that invoke
 * them; the ones kept here may outlive those versions, so the tag tells the next read to list
 * them (see src/aws/deployed.ts).
 */
async function markLeftovers(clients: AwsClients, context: CleanupContext): Promise<void> {
  try {
    await tagStateMachine(clients.sfn, context.stateMachineArn, { [Tag.leftovers]: MAYBE_LEFTOVERS });
  } catch (error) {
    context.log(`warning: could not tag ${Tag.leftovers} (${errorMessage(error)}).`);
  }
}

function summarize(deleted: string[], log: (line: string) => void): string[] {
  if (deleted.length > 0) log(`deleted ${deleted.length} old version(s)`);
  return deleted.sort();
}

/** `name:version` from a state machine or function version ARN. */
function label(arn: string): string {
  return arn.split(":").slice(6).join(":");
}

function reason(error: unknown): string {
  // An alias routing to the version is AWS's own reason to refuse (ConflictException / ResourceConflictException).
  const name = awsErrorName(error);
  return /Conflict/.test(name) ? "an alias routes to it" : errorMessage(error);
}
