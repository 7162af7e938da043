import {
  CreateStateMachineCommand,
  DeleteStateMachineVersionCommand,
  DescribeStateMachineCommand,
  ListExecutionsCommand,
  ListStateMachineVersionsCommand,
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
import { stableStringify } from "../canonicalJson.js";
import { isAwsError } from "./failures.js";
import { sendOnce } from "./idempotent.js";

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
    ...(described.description ? { description: described.description } : {}),
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

/**
 * One call switches every task to the new function versions and publishes a version, its
 * description naming the plan (so the version itself records what it came from). A retry after
 * a lost response first looks whether the lost call already did it: then no second version.
 */
export async function updateStateMachine(
  sfn: SFNClient,
  arn: string,
  settings: StateMachineSettings,
): Promise<string | null> {
  const command = new UpdateStateMachineCommand({
    stateMachineArn: arn,
    definition: JSON.stringify(settings.definition),
    roleArn: settings.roleArn,
    loggingConfiguration: loggingConfiguration(settings.logging),
    tracingConfiguration: { enabled: settings.tracing },
    publish: true,
    versionDescription: settings.versionDescription.slice(0, 256),
  });
  const once = await sendOnce(
    command,
    () => sfn.send(command),
    () => publishedVersionFor(sfn, arn, settings),
  );
  return once.already ?? once.sent.stateMachineVersionArn ?? null;
}

/** The newest version, when it and the state machine both have `settings` (the lost update happened). */
async function publishedVersionFor(
  sfn: SFNClient,
  arn: string,
  settings: StateMachineSettings,
): Promise<string | null> {
  const newest = (await listStateMachineVersions(sfn, arn, 1))[0];
  if (!newest) return null;
  const [machine, version] = await Promise.all([
    describeStateMachine(sfn, arn),
    describeStateMachine(sfn, newest.arn),
  ]);
  return machine && version && hasSettings(machine, settings) && hasSettings(version, settings)
    ? newest.arn
    : null;
}

function hasSettings(machine: DeployedStateMachine, settings: StateMachineSettings): boolean {
  return (
    stableStringify(machine.definition) === stableStringify(settings.definition) &&
    machine.roleArn === settings.roleArn &&
    stableStringify(machine.logging) === stableStringify(settings.logging) &&
    machine.tracing === settings.tracing
  );
}

/** Whether two reads (the state machine and one of its versions) have the same definition and settings. */
export function sameRevision(a: DeployedStateMachine, b: DeployedStateMachine): boolean {
  return hasSettings(a, {
    definition: b.definition,
    roleArn: b.roleArn,
    logging: b.logging,
    tracing: b.tracing,
    versionDescription: "",
  });
}

/** Published versions, newest first (at most `limit`). */
export async function listStateMachineVersions(
  sfn: SFNClient,
  arn: string,
  limit = Number.POSITIVE_INFINITY,
): Promise<{ arn: string; version: number }[]> {
  const versions: { arn: string; version: number }[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new ListStateMachineVersionsCommand({
        stateMachineArn: arn,
        maxResults: Math.min(1000, limit),
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    for (const item of page.stateMachineVersions ?? []) {
      const versionArn = item.stateMachineVersionArn ?? "";
      const version = Number(versionArn.slice(versionArn.lastIndexOf(":") + 1));
      if (Number.isInteger(version)) versions.push({ arn: versionArn, version });
    }
    nextToken = page.nextToken;
  } while (nextToken && versions.length < limit);
  return versions.sort((a, b) => b.version - a.version).slice(0, limit);
}

/** A version some execution still runs (started with its ARN) must not be deleted. */
export async function hasRunningExecutions(sfn: SFNClient, arn: string): Promise<boolean> {
  const listed = await sfn.send(
    new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: "RUNNING", maxResults: 1 }),
  );
  return (listed.executions ?? []).length > 0;
}

/** Deletes one version; one already gone counts as deleted. AWS refuses a version an alias routes to. */
export async function deleteStateMachineVersion(sfn: SFNClient, versionArn: string): Promise<void> {
  try {
    await sfn.send(new DeleteStateMachineVersionCommand({ stateMachineVersionArn: versionArn }));
  } catch (error) {
    if (!isAwsError(error, "StateMachineDoesNotExist")) throw error;
  }
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
