/**
 * The ECS calls a deploy makes: read the task definition family's latest ACTIVE revision, register
 * a new one. The project has no `@aws-sdk/client-ecs` yet, so this is a small client of ECS's
 * JSON protocol (awsJson1.1, SigV4) on the SDK's own signer and credentials; it reports every
 * attempt to the same recorders as the SDK clients (the IAM test and the zero-writes checks
 * see it) and retries throttling and 5xx with jittered backoff.
 */
import { createHash, createHmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentityProvider, Checksum, SourceData } from "@smithy/types";

/** clients.ts's CallRecorder, restated so this module does not import the one that imports it. */
interface CallRecorder {
  before?(
    call: { service: string; operation: string; iamAction: string },
    input: unknown,
  ): void | Promise<void>;
  record(call: {
    service: string;
    operation: string;
    iamAction: string;
    ok: boolean;
    errorName: string | null;
    httpStatus: number | null;
    durationMs: number;
  }): void | Promise<void>;
}

const ECS_SERVICE = { name: "ecs", targetPrefix: "AmazonEC2ContainerServiceV20141113", envName: "ECS" };
const LOGS_SERVICE = { name: "logs", targetPrefix: "Logs_20140328", envName: "CLOUDWATCH_LOGS" };
const RETRYABLE = new Set([
  "ThrottlingException",
  "ServerException",
  "ServiceUnavailableException",
  "RequestLimitExceeded",
]);

export interface EcsClientOptions {
  region: string;
  /** Default: ECS. CloudWatch Logs speaks the same protocol (LogsClient). */
  service?: { name: string; targetPrefix: string; envName: string };
  credentials: AwsCredentialIdentityProvider;
  /** Default: AWS_ENDPOINT_URL_ECS, AWS_ENDPOINT_URL, else the region's ECS endpoint. */
  endpoint?: string;
  recorders?: CallRecorder[];
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** An ECS error, named like the SDK names them, so isAwsError and explainAwsError read it. */
export class EcsServiceError extends Error {
  readonly $metadata: { httpStatusCode: number };

  constructor(name: string, message: string, status: number) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: status };
  }
}

class Sha256 implements Checksum {
  private readonly hash;

  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", toBuffer(secret));
  }

  update(data: SourceData): void {
    this.hash.update(toBuffer(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }

  reset(): void {
    throw new Error("Sha256.reset is not used by the signer.");
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

export class EcsClient {
  readonly region: string;
  private readonly service: { name: string; targetPrefix: string };
  private readonly endpoint: URL;
  private readonly signer: SignatureV4;
  private readonly recorders: CallRecorder[];
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: EcsClientOptions) {
    this.region = options.region;
    const service = options.service ?? ECS_SERVICE;
    this.service = service;
    const suffix = options.region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
    this.endpoint = new URL(
      options.endpoint ??
        process.env[`AWS_ENDPOINT_URL_${service.envName}`] ??
        process.env.AWS_ENDPOINT_URL ??
        `https://${service.name}.${options.region}.${suffix}`,
    );
    this.signer = new SignatureV4({
      service: service.name,
      region: options.region,
      credentials: options.credentials,
      sha256: Sha256,
    });
    this.recorders = options.recorders ?? [];
    this.maxAttempts = options.maxAttempts ?? 5;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** One ECS API call, e.g. `send("RegisterTaskDefinition", {...})`. */
  async send<T>(operation: string, input: Record<string, unknown>): Promise<T> {
    const service = this.service.name;
    const names = { service, operation, iamAction: `${service}:${operation}` };
    for (let attempt = 1; ; attempt += 1) {
      for (const recorder of this.recorders) await recorder.before?.(names, input);
      const started = Date.now();
      try {
        const result = await this.attempt<T>(operation, input);
        for (const recorder of this.recorders)
          await recorder.record({
            ...names,
            ok: true,
            errorName: null,
            httpStatus: 200,
            durationMs: Date.now() - started,
          });
        return result;
      } catch (error) {
        const status = error instanceof EcsServiceError ? error.$metadata.httpStatusCode : null;
        const name = error instanceof Error ? error.name : "Error";
        for (const recorder of this.recorders)
          await recorder.record({
            ...names,
            ok: false,
            errorName: name,
            httpStatus: status,
            durationMs: Date.now() - started,
          });
        const retryable = status === null || status >= 500 || RETRYABLE.has(name);
        if (!retryable || attempt >= this.maxAttempts) throw error;
        await this.sleep(Math.random() * Math.min(20_000, 200 * 2 ** attempt));
      }
    }
  }

  private async attempt<T>(operation: string, input: Record<string, unknown>): Promise<T> {
    const body = JSON.stringify(input);
    const path = this.endpoint.pathname || "/";
    const request = await this.signer.sign({
      method: "POST",
      protocol: this.endpoint.protocol,
      hostname: this.endpoint.hostname,
      ...(this.endpoint.port ? { port: Number(this.endpoint.port) } : {}),
      path,
      headers: {
        host: this.endpoint.host,
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": `${this.service.targetPrefix}.${operation}`,
      },
      body,
    });
    const response = await fetch(new URL(path, this.endpoint), {
      method: "POST",
      headers: request.headers,
      body,
    });
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!response.ok) {
      const stringOf = (value: unknown): string | undefined =>
        typeof value === "string" ? value : undefined;
      const type = stringOf(parsed["__type"]) ?? response.headers.get("x-amzn-errortype") ?? "UnknownError";
      const name = type.slice(type.lastIndexOf("#") + 1).split(":")[0] ?? type;
      const message = stringOf(parsed["message"]) ?? stringOf(parsed["Message"]) ?? text;
      throw new EcsServiceError(name, message, response.status);
    }
    return parsed as T;
  }
}

/** CloudWatch Logs over the same JSON protocol: the run stage reads a failed ECS task's last lines. */
export class LogsClient extends EcsClient {
  constructor(options: Omit<EcsClientOptions, "service">) {
    super({ ...options, service: LOGS_SERVICE });
  }
}

/** The last `limit` lines of a log stream, oldest first; [] when the stream does not exist. */
export async function lastLogLines(
  logs: LogsClient,
  group: string,
  stream: string,
  limit = 50,
): Promise<string[]> {
  try {
    const out = await logs.send<{ events?: { message?: string }[] }>("GetLogEvents", {
      logGroupName: group,
      logStreamName: stream,
      limit,
      startFromHead: false,
    });
    return (out.events ?? []).map((event) => event.message ?? "");
  } catch (error) {
    if (error instanceof EcsServiceError && error.name === "ResourceNotFoundException") return [];
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
  ecs: EcsClient,
  family: string,
): Promise<LatestTaskDefinition | null> {
  try {
    const out = await ecs.send<{
      taskDefinition?: { taskDefinitionArn?: string; revision?: number; status?: string };
      tags?: { key?: string; value?: string }[];
    }>("DescribeTaskDefinition", { taskDefinition: family, include: ["TAGS"] });
    const definition = out.taskDefinition;
    if (!definition?.taskDefinitionArn || definition.status === "INACTIVE") return null;
    const tags: Record<string, string> = {};
    for (const tag of out.tags ?? []) if (tag.key) tags[tag.key] = tag.value ?? "";
    return { arn: definition.taskDefinitionArn, revision: definition.revision ?? 0, tags };
  } catch (error) {
    // ECS answers a family without revisions with ClientException "Unable to describe task definition."
    if (error instanceof EcsServiceError && error.name === "ClientException") return null;
    throw error;
  }
}

/** Registers a revision (with its tags, one call) and returns its ARN. */
export async function registerTaskDefinition(ecs: EcsClient, input: TaskDefinitionInput): Promise<string> {
  const out = await ecs.send<{ taskDefinition?: { taskDefinitionArn?: string } }>(
    "RegisterTaskDefinition",
    input as unknown as Record<string, unknown>,
  );
  const arn = out.taskDefinition?.taskDefinitionArn;
  if (!arn) throw new Error(`ECS registered task definition ${input.family} but returned no ARN.`);
  return arn;
}

/** Every ACTIVE revision of exactly this family (ListTaskDefinitions pages by prefix). */
export async function listTaskDefinitions(ecs: EcsClient, family: string): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await ecs.send<{ taskDefinitionArns?: string[]; nextToken?: string }>("ListTaskDefinitions", {
      familyPrefix: family,
      status: "ACTIVE",
      ...(nextToken ? { nextToken } : {}),
    });
    for (const arn of out.taskDefinitionArns ?? [])
      if (arn.slice(arn.indexOf("/") + 1).replace(/:\d+$/, "") === family) arns.push(arn);
    nextToken = out.nextToken;
  } while (nextToken);
  return arns;
}

/** Deregisters one revision; one already INACTIVE or gone counts as done (a rerun finishes). */
export async function deregisterTaskDefinition(ecs: EcsClient, arn: string): Promise<void> {
  try {
    await ecs.send("DeregisterTaskDefinition", { taskDefinition: arn });
  } catch (error) {
    if (error instanceof EcsServiceError && error.name === "ClientException") return;
    throw error;
  }
}
