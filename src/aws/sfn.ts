import {
  CreateStateMachineCommand,
  DescribeStateMachineCommand,
  paginateListStateMachines,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UpdateStateMachineCommand,
  type DescribeStateMachineCommandOutput,
  type LoggingConfiguration,
  type SFNClient,
} from "@aws-sdk/client-sfn";
import type { AslDefinition } from "../compile/types.js";
import { boundTasks } from "../plan/bind.js";
import type { DeployedLogging, DeployedStateMachine, LogLevel } from "../plan/types.js";
import { isAwsError } from "./failures.js";

export function stateMachineArn(partition: string, region: string, accountId: string, name: string): string {
  return `arn:${partition}:states:${region}:${accountId}:stateMachine:${name}`;
}

/** The state machine's ARN by name, paging ListStateMachines (used when the account is unknown). */
export async function findStateMachineArn(sfn: SFNClient, name: string): Promise<string | null> {
  for await (const page of paginateListStateMachines({ client: sfn, pageSize: 1000 }, {})) {
    const found = page.stateMachines?.find((machine) => machine.name === name);
    if (found?.stateMachineArn) return found.stateMachineArn;
  }
  return null;
}

/** The state machine (or a version of it) without its tags (a separate call: see stateMachineTagsOf). */
export async function describeStateMachine(
  sfn: SFNClient,
  arn: string,
): Promise<DeployedStateMachine | null> {
  let described: DescribeStateMachineCommandOutput;
  try {
    described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
  } catch (error) {
    if (isAwsError(error, "StateMachineDoesNotExist")) return null;
    throw error;
  }
  const definition = parseDefinition(described.definition ?? "");
  return {
    arn: described.stateMachineArn ?? arn,
    name: described.name ?? "",
    definition,
    roleArn: described.roleArn ?? "",
    logging: deployedLogging(described.loggingConfiguration),
    tracing: described.tracingConfiguration?.enabled ?? false,
    tags: {},
    tasks: boundTasks(definition),
  };
}

/** A definition we cannot read (edited by hand into something odd) compares as empty: it gets replaced. */
function parseDefinition(text: string): AslDefinition {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (
      parsed &&
      typeof parsed === "object" &&
      "States" in parsed &&
      typeof parsed.States === "object" &&
      parsed.States !== null
    ) {
      return parsed as AslDefinition;
    }
  } catch {
    // fall through
  }
  return { StartAt: "", States: {} };
}

function deployedLogging(config: LoggingConfiguration | undefined): DeployedLogging {
  const level: LogLevel = config?.level ?? "OFF";
  const logGroupArn = config?.destinations?.[0]?.cloudWatchLogsLogGroup?.logGroupArn ?? null;
  return {
    level,
    logGroupArn: level === "OFF" ? null : logGroupArn,
    includeExecutionData: level === "OFF" ? false : (config?.includeExecutionData ?? false),
  };
}

export function loggingConfiguration(logging: DeployedLogging): LoggingConfiguration {
  if (logging.level === "OFF" || !logging.logGroupArn) return { level: "OFF", includeExecutionData: false };
  return {
    level: logging.level,
    includeExecutionData: logging.includeExecutionData,
    destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: logging.logGroupArn } }],
  };
}

export interface StateMachineSettings {
  definition: AslDefinition;
  roleArn: string;
  logging: DeployedLogging;
  tracing: boolean;
  versionDescription: string;
}

/** Creates and publishes version 1. Returns ARNs; throws StateMachineAlreadyExists as AWS does. */
export async function createStateMachine(
  sfn: SFNClient,
  name: string,
  settings: StateMachineSettings,
  tags: Record<string, string>,
): Promise<{ arn: string; versionArn: string | null }> {
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name,
      type: "STANDARD",
      definition: JSON.stringify(settings.definition),
      roleArn: settings.roleArn,
      loggingConfiguration: loggingConfiguration(settings.logging),
      tracingConfiguration: { enabled: settings.tracing },
      tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
      publish: true,
      versionDescription: settings.versionDescription.slice(0, 256),
    }),
  );
  return { arn: created.stateMachineArn ?? "", versionArn: created.stateMachineVersionArn ?? null };
}

/** One call switches every task to the new function versions and publishes a version. */
export async function updateStateMachine(
  sfn: SFNClient,
  arn: string,
  settings: StateMachineSettings,
): Promise<string | null> {
  const updated = await sfn.send(
    new UpdateStateMachineCommand({
      stateMachineArn: arn,
      definition: JSON.stringify(settings.definition),
      roleArn: settings.roleArn,
      loggingConfiguration: loggingConfiguration(settings.logging),
      tracingConfiguration: { enabled: settings.tracing },
      publish: true,
      versionDescription: settings.versionDescription.slice(0, 256),
    }),
  );
  return updated.stateMachineVersionArn ?? null;
}

export async function tagStateMachine(
  sfn: SFNClient,
  arn: string,
  tags: Record<string, string>,
): Promise<void> {
  await sfn.send(
    new TagResourceCommand({
      resourceArn: arn,
      tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
    }),
  );
}

export async function stateMachineTagsOf(sfn: SFNClient, arn: string): Promise<Record<string, string>> {
  const listed = await sfn.send(new ListTagsForResourceCommand({ resourceArn: arn }));
  return Object.fromEntries((listed.tags ?? []).map((tag) => [tag.key ?? "", tag.value ?? ""]));
}
