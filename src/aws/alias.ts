import {
  CreateStateMachineAliasCommand,
  DescribeStateMachineAliasCommand,
  ListStateMachineAliasesCommand,
  UpdateStateMachineAliasCommand,
  type SFNClient,
} from "@aws-sdk/client-sfn";
import { STATE_MACHINE_ALIAS } from "../constants.js";
import { isAwsError } from "./failures.js";

/** What an alias routes to: one version, all traffic (the only routing kedro-sfn makes). */
export interface DeployedAlias {
  arn: string;
  name: string;
  /** The version with the most weight; null when it routes nowhere we can read. */
  versionArn: string | null;
}

/** `arn:...:stateMachine:NAME:live`: the ARN executions and schedules start through. */
export function aliasArnOf(stateMachineArn: string, name: string = STATE_MACHINE_ALIAS): string {
  return `${stateMachineArn}:${name}`;
}

/** The alias, or null when the state machine has none of that name (or does not exist). */
export async function describeAlias(
  sfn: SFNClient,
  stateMachineArn: string,
  name: string = STATE_MACHINE_ALIAS,
): Promise<DeployedAlias | null> {
  const arn = aliasArnOf(stateMachineArn, name);
  try {
    const described = await sfn.send(new DescribeStateMachineAliasCommand({ stateMachineAliasArn: arn }));
    const routes = [...(described.routingConfiguration ?? [])].sort(
      (a, b) => (b.weight ?? 0) - (a.weight ?? 0),
    );
    return { arn, name, versionArn: routes[0]?.stateMachineVersionArn ?? null };
  } catch (error) {
    if (isAwsError(error, "ResourceNotFound", "StateMachineDoesNotExist")) return null;
    throw error;
  }
}

/** Every alias of the state machine (destroy removes them all, not only ours). */
export async function listAliases(sfn: SFNClient, stateMachineArn: string): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new ListStateMachineAliasesCommand({ stateMachineArn, ...(nextToken ? { nextToken } : {}) }),
    );
    for (const alias of page.stateMachineAliases ?? [])
      if (alias.stateMachineAliasArn) arns.push(alias.stateMachineAliasArn);
    nextToken = page.nextToken;
  } while (nextToken);
  return arns.sort();
}

/**
 * Points the alias at one version in one call: CreateStateMachineAlias the first time,
 * UpdateStateMachineAlias after, nothing when it already routes there (`current` is what the
 * caller read). A create that finds the alias made meanwhile (our own retried call whose response
 * was lost, or another deploy) updates it instead. Returns whether it wrote.
 */
export async function pointAlias(
  sfn: SFNClient,
  stateMachineArn: string,
  versionArn: string,
  current: DeployedAlias | null,
  description: string,
  name: string = STATE_MACHINE_ALIAS,
): Promise<{ arn: string; wrote: boolean }> {
  const arn = aliasArnOf(stateMachineArn, name);
  if (current?.versionArn === versionArn) return { arn, wrote: false };
  const routingConfiguration = [{ stateMachineVersionArn: versionArn, weight: 100 }];
  if (!current) {
    try {
      await sfn.send(
        new CreateStateMachineAliasCommand({
          name,
          routingConfiguration,
          description: description.slice(0, 256),
        }),
      );
      return { arn, wrote: true };
    } catch (error) {
      // AWS answers a create of an existing alias with the same routing as success, else Conflict.
      if (!isAwsError(error, "ConflictException", "ResourceConflict")) throw error;
    }
  }
  await sfn.send(
    new UpdateStateMachineAliasCommand({
      stateMachineAliasArn: arn,
      routingConfiguration,
      description: description.slice(0, 256),
    }),
  );
  return { arn, wrote: true };
}
