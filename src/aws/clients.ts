import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { ECRClient } from "@aws-sdk/client-ecr";
import { ECSClient } from "@aws-sdk/client-ecs";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { SFNClient } from "@aws-sdk/client-sfn";
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  FinalizeHandler,
  FinalizeHandlerArguments,
  HandlerExecutionContext,
  MetadataBearer,
  MiddlewareStack,
} from "@smithy/types";
import { UserError, errorMessage } from "../errors.js";
import { createRateLimiter, LAMBDA_CONTROL_PLANE_PER_SECOND, type RateLimiter } from "./limiter.js";

/** One HTTP attempt of one AWS API call. */
export interface AwsCall {
  /** IAM service prefix: lambda, states, ecr, s3. */
  service: string;
  /** API operation, e.g. UpdateFunctionCode. */
  operation: string;
  /** IAM action authorising it, e.g. lambda:UpdateFunctionCode. */
  iamAction: string;
  ok: boolean;
  errorName: string | null;
  httpStatus: number | null;
  durationMs: number;
}

export type CallName = Pick<AwsCall, "service" | "operation" | "iamAction">;

/**
 * Sees every attempt: `before` may refuse it by throwing (nothing is sent), `record` runs after
 * it completes. An async recorder delays the caller until it resolves. `input` is the command's
 * own input (read it, never change it): what IAM authorises can depend on it (tags, publish, a
 * role passed), so the IAM test derives the required actions from it.
 */
export interface CallRecorder {
  before?(call: CallName, input: unknown): void | Promise<void>;
  record(call: AwsCall): void | Promise<void>;
}

export interface AwsClientOptions {
  /** Default: the SDK's own resolution (AWS_REGION, profile). */
  region?: string;
  /** Default: the SDK's own resolution (AWS_ENDPOINT_URL and friends, else AWS). */
  endpoint?: string;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Attempts per call, first included, under the SDK's adaptive retry mode. */
  maxAttempts?: number;
  recorders?: CallRecorder[];
  /** Paces Lambda control-plane calls (all but GetFunction); null turns pacing off. */
  lambdaLimiter?: RateLimiter | null;
}

export interface AwsClients {
  readonly region: string;
  readonly lambda: LambdaClient;
  readonly sfn: SFNClient;
  readonly ecr: ECRClient;
  readonly s3: S3Client;
  /** ECS task definitions of tasks routed to Fargate (src/aws/ecs.ts). */
  readonly ecs: ECSClient;
  /** CloudWatch Logs: a failed ECS task's last lines (the node's error) for the summary. */
  readonly logs: CloudWatchLogsClient;
  /** EventBridge Scheduler: the `schedule` input's one schedule per state machine. */
  readonly scheduler: SchedulerClient;
  destroy(): void;
}

const SERVICE_PREFIX: Record<string, string> = {
  LambdaClient: "lambda",
  SFNClient: "states",
  ECRClient: "ecr",
  S3Client: "s3",
  SchedulerClient: "scheduler",
  ECSClient: "ecs",
  CloudWatchLogsClient: "logs",
};

/** API operations whose IAM action has another name. */
const IAM_ACTION_ALIASES: Record<string, string> = {
  "s3:ListObjectsV2": "s3:ListBucket",
  "s3:HeadObject": "s3:GetObject",
  "s3:HeadBucket": "s3:ListBucket",
};

/** GetFunction has its own, higher quota: polling it never slows the control plane. */
const UNPACED_LAMBDA_OPERATIONS = new Set(["GetFunction"]);

export const DEFAULT_MAX_ATTEMPTS = 8;

/** The per-attempt middleware's name: per-command middleware (idempotent.ts) places itself around it. */
export const ATTEMPT_MIDDLEWARE = "kedroSfnAttemptMiddleware";

/**
 * The one place AWS clients are made. Region, endpoint and credentials come from the SDK's own
 * configuration chain unless given; retries use the SDK's adaptive mode.
 */
export async function createAwsClients(options: AwsClientOptions = {}): Promise<AwsClients> {
  const common = {
    retryMode: "adaptive",
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
  const lambda = new LambdaClient(common);
  const region = await resolveRegion(lambda);
  const withRegion = { ...common, region };
  const sfn = new SFNClient(withRegion);
  const ecr = new ECRClient(withRegion);
  // Path-style addressing when an endpoint is overridden: a local S3 has no per-bucket host names.
  const s3 = new S3Client({ ...withRegion, forcePathStyle: hasEndpointOverride(options.endpoint) });
  const scheduler = new SchedulerClient(withRegion);
  const ecs = new ECSClient(withRegion);
  const logs = new CloudWatchLogsClient(withRegion);

  const limiter =
    options.lambdaLimiter === undefined
      ? createRateLimiter({ perSecond: LAMBDA_CONTROL_PLANE_PER_SECOND })
      : options.lambdaLimiter;
  const recorders = options.recorders ?? [];
  attachAttemptMiddleware(lambda.middlewareStack, recorders, limiter);
  attachAttemptMiddleware(sfn.middlewareStack, recorders, null);
  attachAttemptMiddleware(ecr.middlewareStack, recorders, null);
  attachAttemptMiddleware(s3.middlewareStack, recorders, null);
  attachAttemptMiddleware(scheduler.middlewareStack, recorders, null);
  attachAttemptMiddleware(ecs.middlewareStack, recorders, null);
  attachAttemptMiddleware(logs.middlewareStack, recorders, null);

  return {
    region,
    lambda,
    sfn,
    ecr,
    s3,
    ecs,
    logs,
    scheduler,
    destroy() {
      for (const client of [lambda, sfn, ecr, s3, scheduler, ecs, logs]) client.destroy();
    },
  };
}

/** No region anywhere in the SDK's configuration chain (a plan can still run: against nothing). */
export class MissingRegionError extends UserError {
  constructor(detail: string) {
    super(`No AWS region configured${detail ? `: ${detail}` : "."}`, {
      hint: "Set aws-region in aws-actions/configure-aws-credentials, or AWS_REGION for the command line.",
    });
    this.name = "MissingRegionError";
  }
}

async function resolveRegion(client: LambdaClient): Promise<string> {
  let region: string | undefined;
  try {
    region = await client.config.region();
  } catch (error) {
    throw new MissingRegionError(errorMessage(error));
  }
  if (!region) throw new MissingRegionError("");
  return region;
}

function hasEndpointOverride(endpoint: string | undefined): boolean {
  return Boolean(endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL);
}

/** `lambda:UpdateFunctionCode` from the SDK's client and command names. */
export function iamActionOf(
  clientName: string,
  commandName: string,
): { service: string; operation: string; iamAction: string } {
  const service = SERVICE_PREFIX[clientName] ?? clientName.replace(/Client$/, "").toLowerCase();
  const operation = commandName.replace(/Command$/, "");
  const action = `${service}:${operation}`;
  return { service, operation, iamAction: IAM_ACTION_ALIASES[action] ?? action };
}

/**
 * Runs once per HTTP attempt (inside the SDK's retry loop): waits for the limiter, then reports
 * the attempt to every recorder. Retries of a throttled call are therefore paced and counted too.
 */
function attachAttemptMiddleware<Input extends object, Output extends MetadataBearer>(
  stack: MiddlewareStack<Input, Output>,
  recorders: CallRecorder[],
  limiter: RateLimiter | null,
): void {
  stack.addRelativeTo(
    (next: FinalizeHandler<Input, Output>, context: HandlerExecutionContext) =>
      async (args: FinalizeHandlerArguments<Input>) => {
        const names = iamActionOf(context.clientName ?? "", context.commandName ?? "");
        for (const recorder of recorders) await recorder.before?.(names, args.input);
        if (limiter && !UNPACED_LAMBDA_OPERATIONS.has(names.operation)) await limiter.acquire();
        const started = Date.now();
        try {
          const result = await next(args);
          await report(recorders, {
            ...names,
            ok: true,
            errorName: null,
            httpStatus: httpStatusOf(result.response),
            durationMs: Date.now() - started,
          });
          return result;
        } catch (error) {
          const meta = (error as { $metadata?: { httpStatusCode?: number }; name?: string }) ?? {};
          await report(recorders, {
            ...names,
            ok: false,
            errorName: meta.name ?? "Error",
            httpStatus: meta.$metadata?.httpStatusCode ?? null,
            durationMs: Date.now() - started,
          });
          throw error;
        }
      },
    { relation: "after", toMiddleware: "retryMiddleware", name: ATTEMPT_MIDDLEWARE, override: true },
  );
}

async function report(recorders: CallRecorder[], call: AwsCall): Promise<void> {
  for (const recorder of recorders) await recorder.record(call);
}

function httpStatusOf(response: unknown): number | null {
  const status = (response as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === "number" ? status : null;
}

/** Reads (Get/List/Describe/Head) change nothing; everything else is a write. */
export function isReadOperation(operation: string): boolean {
  return /^(Get|List|Describe|Head|BatchGet)/.test(operation);
}

/** A write attempted where only reads may run (plan mode): refused before anything is sent. */
export class WriteRefusedError extends UserError {
  readonly call: CallName;

  constructor(call: CallName) {
    super(`Refusing ${call.iamAction} (${call.operation}) in plan mode: planning never writes to AWS.`, {
      hint:
        "Plan mode runs its AWS clients read-only (with the plan role's credentials it could not write anyway). " +
        "A write reaching this guard is a bug in kedro-sfn: please report it with this message.",
    });
    this.name = "WriteRefusedError";
    this.call = call;
  }
}

/** Refuses every write: what `mode: plan` runs under, so "plans never write" holds by construction. */
export const readOnlyGuard: CallRecorder = {
  before(call) {
    if (!isReadOperation(call.operation)) throw new WriteRefusedError(call);
  },
  record() {},
};

/** Keeps every attempt: for the IAM test, the benchmark and the "zero writes" checks. */
export class CallLog implements CallRecorder {
  readonly calls: AwsCall[] = [];

  record(call: AwsCall): void {
    this.calls.push(call);
  }

  /** Distinct IAM actions called, sorted. */
  actions(): string[] {
    return [...new Set(this.calls.map((call) => call.iamAction))].sort();
  }

  writes(): AwsCall[] {
    return this.calls.filter((call) => !isReadOperation(call.operation));
  }

  count(predicate: (call: AwsCall) => boolean = () => true): number {
    return this.calls.filter(predicate).length;
  }

  clear(): void {
    this.calls.length = 0;
  }
}
