/**
 * The ECS calls a deploy makes (read the task definition family's latest ACTIVE revision,
 * register a new one, list and deregister revisions on destroy) and the one CloudWatch Logs
 * call a run makes (the end of a failed ECS task's log). The clients are the SDK's, made in
 * clients.ts like the others: same endpoint resolution, adaptive retries and call recorders.
 */
import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { GetLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import {
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  type ECSClient,
} from "@aws-sdk/client-ecs";
import { isAwsError } from "./failures.js";

/** The last `limit` lines of a log stream, oldest first; [] when the stream does not exist. */
export async function lastLogLines(
  logs: CloudWatchLogsClient,
  group: string,
  stream: string,
  limit = 50,
): Promise<string[]> {
  try {
    const out = await logs.send(
      new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, limit, startFromHead: false }),
    );
    return (out.events ?? []).map((event) => event.message ?? "");
  } catch (error) {
    if (isAwsError(error, "ResourceNotFoundException")) return [];
    throw error;
  }
}

export interface KeyValue {
  name: string;
  value: string;
}

/** What a deploy registers (RegisterTaskDefinition's input, ECS's camelCase). */
export interface TaskDefinitionInput {
  family: string;
  taskRoleArn: string;
  executionRoleArn: string;
  networkMode: "awsvpc";
  requiresCompatibilities: ["FARGATE"];
  cpu: string;
  memory: string;
  runtimePlatform: { cpuArchitecture: "X86_64" | "ARM64"; operatingSystemFamily: "LINUX" };
  containerDefinitions: {
    name: string;
    image: string;
    essential: true;
    entryPoint: string[];
    command: string[];
    environment: KeyValue[];
    logConfiguration: { logDriver: "awslogs"; options: Record<string, string> };
  }[];
  tags: { key: string; value: string }[];
}

export interface LatestTaskDefinition {
  /** With its revision: `arn:aws:ecs:<region>:<account>:task-definition/<family>:<n>`. */
  arn: string;
  revision: number;
  tags: Record<string, string>;
}

/** The family's latest ACTIVE revision with its tags; null when the family has none. */
export async function describeLatestTaskDefinition(
  ecs: ECSClient,
  family: string,
): Promise<LatestTaskDefinition | null> {
  try {
    const out = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: family, include: ["TAGS"] }),
    );
    const definition = out.taskDefinition;
    if (!definition?.taskDefinitionArn || definition.status === "INACTIVE") return null;
    const tags: Record<string, string> = {};
    for (const tag of out.tags ?? []) if (tag.key) tags[tag.key] = tag.value ?? "";
    return { arn: definition.taskDefinitionArn, revision: definition.revision ?? 0, tags };
  } catch (error) {
    // ECS answers a family without revisions with ClientException "Unable to describe task definition."
    if (isAwsError(error, "ClientException")) return null;
    throw error;
  }
}

/** Registers a revision (with its tags, one call) and returns its ARN. */
export async function registerTaskDefinition(ecs: ECSClient, input: TaskDefinitionInput): Promise<string> {
  const out = await ecs.send(new RegisterTaskDefinitionCommand(input));
  const arn = out.taskDefinition?.taskDefinitionArn;
  if (!arn) throw new Error(`ECS registered task definition ${input.family} but returned no ARN.`);
  return arn;
}

/** Every ACTIVE revision of exactly this family (ListTaskDefinitions pages by prefix). */
export async function listTaskDefinitions(ecs: ECSClient, family: string): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await ecs.send(
      new ListTaskDefinitionsCommand({
        familyPrefix: family,
        status: "ACTIVE",
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    for (const arn of out.taskDefinitionArns ?? [])
      if (arn.slice(arn.indexOf("/") + 1).replace(/:\d+$/, "") === family) arns.push(arn);
    nextToken = out.nextToken;
  } while (nextToken);
  return arns;
}

/** Deregisters one revision; one already INACTIVE or gone counts as done (a rerun finishes). */
export async function deregisterTaskDefinition(ecs: ECSClient, arn: string): Promise<void> {
  try {
    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
  } catch (error) {
    if (isAwsError(error, "ClientException")) return;
    throw error;
  }
}
