import type { ChildMachine } from "../compile/types.js";
import { stableStringify } from "../canonicalJson.js";
import { UserError } from "../errors.js";
import { childMachineReferences, type TaskBinding } from "../plan/bind.js";
import { boundChildDefinition } from "../plan/children.js";
import { arnAccount, stateMachineTags, Tag } from "../plan/desired.js";
import { desiredLogging } from "../plan/plan.js";
import type { DesiredDeployment } from "../plan/types.js";
import type { AwsClients } from "./clients.js";
import { explainAwsError, isAwsError } from "./failures.js";
import { mapWithConcurrency } from "./limiter.js";
import {
  createStateMachine,
  describeStateMachine,
  findStateMachineArn,
  stateMachineArn,
  stateMachineTagsOf,
  tagStateMachine,
  updateStateMachine,
  type StateMachineSettings,
} from "./sfn.js";
import { DeleteStateMachineCommand } from "@aws-sdk/client-sfn";

/** Child state machines converged at once (Step Functions' control plane is shared per account). */
const CHILD_CONCURRENCY = 4;

/**
 * Publishes a version of every child state machine of a split pipeline (creating the ones that do
 * not exist yet), each bound to its function versions, and returns child name -> version ARN for
 * the parent to bind. A child whose definition and settings are already deployed keeps its
 * version (no new one). The parent still runs the old versions until its own update: the cutover
 * stays that one call. A child named like ours but owned by another state machine is refused.
 */
export async function deployChildren(
  clients: AwsClients,
  desired: DesiredDeployment,
  bindings: ReadonlyMap<string, TaskBinding>,
  description: string,
  log: (line: string) => void,
  options: {
    /** The ECS task definition revision the children's ECS Tasks run (bound like the parent's). */
    taskDefinitionArn?: string | null;
    /** Children the plan found deployed as wanted (plan.stateMachine.children): not touched. */
    kept?: ReadonlyMap<string, string>;
  } = {},
): Promise<Map<string, string>> {
  const children = desired.compiled.children ?? [];
  const versions = new Map<string, string>();
  await mapWithConcurrency(children, CHILD_CONCURRENCY, async (child) => {
    const kept = options.kept?.get(child.name);
    versions.set(
      child.name,
      kept ??
        (await deployChild(
          clients,
          desired,
          child,
          bindings,
          options.taskDefinitionArn ?? null,
          description,
          log,
        )),
    );
  });
  return versions;
}

async function deployChild(
  clients: AwsClients,
  desired: DesiredDeployment,
  child: ChildMachine,
  bindings: ReadonlyMap<string, TaskBinding>,
  taskDefinitionArn: string | null,
  description: string,
  log: (line: string) => void,
): Promise<string> {
  const settings: StateMachineSettings = {
    definition: boundChildDefinition(child, bindings, taskDefinitionArn),
    roleArn: desired.stateMachineRoleArn,
    logging: desiredLogging(desired),
    tracing: desired.tracing,
    versionDescription: description,
  };
  // Tagged like the parent: its kedro-sfn:state-machine tag names the parent, which owns it.
  const tags = stateMachineTags(desired);
  try {
    const arn = await childArn(clients, desired, child.name);
    const current = arn ? await describeStateMachine(clients.sfn, arn) : null;
    if (!arn || !current) {
      const created = await createStateMachine(clients.sfn, child.name, settings, tags);
      const versionArn = requireVersion(child.name, created.versionArn);
      await tagStateMachine(clients.sfn, created.arn, { [Tag.version]: versionArn });
      log(`created child state machine ${child.name} (${versionArn.split(":").pop() ?? ""})`);
      return versionArn;
    }
    const currentTags = await stateMachineTagsOf(clients.sfn, current.arn);
    if (currentTags[Tag.stateMachine] !== desired.stateMachineName) {
      throw new UserError(
        `State machine ${child.name} exists but is not a part of ${desired.stateMachineName} (its ${Tag.stateMachine} tag is ${currentTags[Tag.stateMachine] ?? "missing"}).`,
        { hint: `Delete or rename ${child.name}, or deploy under another state-machine-name.` },
      );
    }
    // The version tag is set after the update: a deploy killed in between leaves it naming an
    // older version, so the tagged version itself must hold the settings to be kept.
    const kept = currentTags[Tag.version];
    if (kept && sameSettings(current, settings)) {
      const version = await describeStateMachine(clients.sfn, kept);
      if (version && sameSettings(version, settings)) return kept;
    }
    const versionArn = requireVersion(
      child.name,
      await updateStateMachine(clients.sfn, current.arn, settings),
    );
    await tagStateMachine(clients.sfn, current.arn, { ...tags, [Tag.version]: versionArn });
    log(`updated child state machine ${child.name} (${versionArn.split(":").pop() ?? ""})`);
    return versionArn;
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw explainAwsError(error, {
      doing: `deploy child state machine "${child.name}"`,
      stateMachineName: child.name,
      stateMachineRoleArn: desired.stateMachineRoleArn,
      sentDefinition: true,
    });
  }
}

/**
 * After the parent switched: deletes the child state machines the parent ran before and no longer
 * does (a pipeline that shrank, or stopped being split), when they are tagged as its parts.
 */
export async function pruneChildren(
  clients: AwsClients,
  desired: DesiredDeployment,
  previousParentDefinition: Parameters<typeof childMachineReferences>[0] | null,
  log: (line: string) => void,
): Promise<string[]> {
  if (!previousParentDefinition) return [];
  const wanted = new Set((desired.compiled.children ?? []).map((c) => c.name));
  const doomed = [
    ...new Set(childMachineReferences(previousParentDefinition).map((ref) => unversioned(ref))),
  ].filter((arn) => !wanted.has(arn.split(":")[6] ?? ""));
  const deleted: string[] = [];
  for (const arn of doomed) {
    try {
      const tags = await stateMachineTagsOf(clients.sfn, arn);
      if (tags[Tag.stateMachine] !== desired.stateMachineName) continue;
      await clients.sfn.send(new DeleteStateMachineCommand({ stateMachineArn: arn }));
      deleted.push(arn.split(":")[6] ?? arn);
      log(`deleted child state machine ${arn.split(":")[6] ?? arn}`);
    } catch (error) {
      if (isAwsError(error, "StateMachineDoesNotExist") || isAwsError(error, "ResourceNotFound")) continue;
      throw explainAwsError(error, { doing: `delete child state machine ${arn}` });
    }
  }
  return deleted;
}

/** `arn:...:stateMachine:name:3` -> `arn:...:stateMachine:name`. */
function unversioned(reference: string): string {
  return reference.split(":").slice(0, 7).join(":");
}

async function childArn(
  clients: AwsClients,
  desired: DesiredDeployment,
  name: string,
): Promise<string | null> {
  const account = arnAccount(desired.stateMachineRoleArn);
  return account
    ? stateMachineArn(account.partition, clients.region, account.accountId, name)
    : findStateMachineArn(clients.sfn, name);
}

function sameSettings(
  current: NonNullable<Awaited<ReturnType<typeof describeStateMachine>>>,
  settings: StateMachineSettings,
): boolean {
  return (
    stableStringify(current.definition) === stableStringify(settings.definition) &&
    current.roleArn === settings.roleArn &&
    stableStringify(current.logging) === stableStringify(settings.logging) &&
    current.tracing === settings.tracing
  );
}

function requireVersion(name: string, versionArn: string | null): string {
  if (!versionArn) throw new Error(`Step Functions did not return a published version for ${name}.`);
  return versionArn;
}
