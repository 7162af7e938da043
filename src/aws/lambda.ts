import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  ListTagsCommand,
  PublishVersionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  paginateListFunctions,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  type FunctionConfiguration,
  type LambdaClient,
} from "@aws-sdk/client-lambda";
import type { FunctionSpec } from "../compile/types.js";
import {
  functionDescription,
  functionTags,
  parseFunctionDescription,
  type FunctionHashes,
} from "../plan/desired.js";
import type { DeployedFunction, DesiredDeployment } from "../plan/types.js";
import { isAwsError } from "./failures.js";

/** AWS's page size limit for ListFunctions. */
const LIST_PAGE_SIZE = 50;

export interface WaitOptions {
  /** First poll delay; doubles up to 8x. */
  pollIntervalMs: number;
  /** Give up after this long (a Lambda update normally settles within a minute). */
  maxWaitMs: number;
}

/** Every function of the account and region: ListFunctions pages carry each function's configuration. */
export async function listAllFunctions(lambda: LambdaClient): Promise<FunctionConfiguration[]> {
  const functions: FunctionConfiguration[] = [];
  for await (const page of paginateListFunctions({ client: lambda, pageSize: LIST_PAGE_SIZE }, {}))
    functions.push(...(page.Functions ?? []));
  return functions;
}

export function toDeployedFunction(config: FunctionConfiguration): DeployedFunction {
  return {
    functionName: config.FunctionName ?? "",
    functionArn: unqualifiedArn(config.FunctionArn ?? ""),
    revisionId: config.RevisionId ?? null,
    marker: parseFunctionDescription(config.Description),
    codeSha256: config.CodeSha256 ?? "",
    architecture: config.Architectures?.[0] ?? null,
    memoryMb: config.MemorySize ?? null,
    timeoutSeconds: config.Timeout ?? null,
    ephemeralStorageMb: config.EphemeralStorage?.Size ?? null,
    environment: config.Environment?.Variables ?? {},
    role: config.Role ?? null,
  };
}

export async function listTags(lambda: LambdaClient, functionArn: string): Promise<Record<string, string>> {
  return (await lambda.send(new ListTagsCommand({ Resource: functionArn }))).Tags ?? {};
}

/** Configuration fields set by create and by update-config. */
export function functionSettings(spec: FunctionSpec, desired: DesiredDeployment, hashes: FunctionHashes) {
  return {
    Role: desired.lambdaRoleArn,
    MemorySize: spec.memoryMb,
    Timeout: spec.timeoutSeconds,
    EphemeralStorage: { Size: spec.ephemeralStorageMb },
    Environment: { Variables: spec.environment },
    Description: functionDescription(desired.stateMachineName, hashes, spec.nodes),
  };
}

/** What a step leaves behind: the lock for the next call, and a version when one was published. */
export interface StepResult {
  revisionId: string | null;
  versionArn: string | null;
  codeSha256: string | null;
}

export async function createFunction(
  lambda: LambdaClient,
  spec: FunctionSpec,
  desired: DesiredDeployment,
  hashes: FunctionHashes,
  wait: WaitOptions,
): Promise<StepResult> {
  const created = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: spec.functionName,
      PackageType: "Image",
      Code: { ImageUri: desired.imageUri },
      Architectures: [spec.architecture],
      ...functionSettings(spec, desired, hashes),
      Tags: functionTags(desired),
      Publish: true,
    }),
  );
  return settle(lambda, created, wait);
}

export async function updateFunctionCode(
  lambda: LambdaClient,
  spec: FunctionSpec,
  imageUri: string,
  revisionId: string | null,
  publish: boolean,
  wait: WaitOptions,
): Promise<StepResult> {
  const updated = await withConflictRetry(lambda, spec.functionName, wait, () =>
    lambda.send(
      new UpdateFunctionCodeCommand({
        FunctionName: spec.functionName,
        ImageUri: imageUri,
        Architectures: [spec.architecture],
        Publish: publish,
        ...(revisionId ? { RevisionId: revisionId } : {}),
      }),
    ),
  );
  return settle(lambda, updated, wait);
}

export async function updateFunctionConfiguration(
  lambda: LambdaClient,
  spec: FunctionSpec,
  desired: DesiredDeployment,
  hashes: FunctionHashes,
  revisionId: string | null,
  wait: WaitOptions,
): Promise<StepResult> {
  const updated = await withConflictRetry(lambda, spec.functionName, wait, () =>
    lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: spec.functionName,
        ...functionSettings(spec, desired, hashes),
        ...(revisionId ? { RevisionId: revisionId } : {}),
      }),
    ),
  );
  return settle(lambda, updated, wait);
}

export async function publishVersion(
  lambda: LambdaClient,
  functionName: string,
  description: string,
  revisionId: string | null,
  wait: WaitOptions,
): Promise<StepResult> {
  const published = await withConflictRetry(lambda, functionName, wait, () =>
    lambda.send(
      new PublishVersionCommand({
        FunctionName: functionName,
        Description: description.slice(0, 256),
        ...(revisionId ? { RevisionId: revisionId } : {}),
      }),
    ),
  );
  return settle(lambda, published, wait);
}

/** Makes the function's tags exactly `tags` (besides AWS's own `aws:` keys). */
export async function replaceTags(
  lambda: LambdaClient,
  functionArn: string,
  tags: Record<string, string>,
): Promise<void> {
  const current = await listTags(lambda, functionArn);
  const stale = Object.keys(current).filter((key) => !(key in tags) && !key.startsWith("aws:"));
  if (stale.length > 0)
    await lambda.send(new UntagResourceCommand({ Resource: functionArn, TagKeys: stale }));
  const missing = Object.entries(tags).some(([key, value]) => current[key] !== value);
  if (missing) await lambda.send(new TagResourceCommand({ Resource: functionArn, Tags: tags }));
}

/** Deletes the function and all its versions; a function already gone counts as deleted. */
export async function deleteFunction(lambda: LambdaClient, functionName: string): Promise<void> {
  try {
    await lambda.send(new DeleteFunctionCommand({ FunctionName: functionName }));
  } catch (error) {
    if (!isAwsError(error, "ResourceNotFoundException")) throw error;
  }
}

export async function getFunction(
  lambda: LambdaClient,
  functionName: string,
  qualifier?: string,
): Promise<FunctionConfiguration | null> {
  try {
    const found = await lambda.send(
      new GetFunctionCommand({ FunctionName: functionName, ...(qualifier ? { Qualifier: qualifier } : {}) }),
    );
    return found.Configuration ?? null;
  } catch (error) {
    if (isAwsError(error, "ResourceNotFoundException")) return null;
    throw error;
  }
}

/**
 * Waits until the function (or version) is Active and its last update finished, with the
 * SDK's waiters (GetFunction, which has its own quota; backoff with jitter from
 * `pollIntervalMs` up to 8x). Returns the settled configuration.
 */
export async function waitUntilSettled(
  lambda: LambdaClient,
  functionName: string,
  qualifier: string | undefined,
  wait: WaitOptions,
): Promise<FunctionConfiguration> {
  const input = { FunctionName: functionName, ...(qualifier ? { Qualifier: qualifier } : {}) };
  const started = Date.now();
  let config = await getFunction(lambda, functionName, qualifier);
  while (config && isBusy(config) && !failureOf(config)) {
    const remainingMs = wait.maxWaitMs - (Date.now() - started);
    const waiter = {
      client: lambda,
      minDelay: wait.pollIntervalMs / 1000,
      maxDelay: (wait.pollIntervalMs * 8) / 1000,
      maxWaitTime: Math.max(remainingMs, wait.pollIntervalMs + 1) / 1000,
    };
    try {
      // Pending is the state a new function or version starts in; InProgress, an update's.
      const settled =
        config.State === "Pending"
          ? await waitUntilFunctionActiveV2(waiter, input)
          : await waitUntilFunctionUpdatedV2(waiter, input);
      config = settled.final?.Configuration ?? (await getFunction(lambda, functionName, qualifier));
    } catch {
      // The waiter failed (a Failed state) or timed out: read once more to say which, and why.
      config = await getFunction(lambda, functionName, qualifier);
      if (config && isBusy(config) && !failureOf(config)) {
        throw new Error(
          `Lambda function ${functionName} is still ${config.State}/${config.LastUpdateStatus} after ${Math.round(wait.maxWaitMs / 1000)} s.`,
        );
      }
    }
  }
  if (!config)
    throw new Error(`Lambda function ${functionName} disappeared while waiting for it to become ready.`);
  const failure = failureOf(config);
  if (failure)
    throw new Error(`Lambda function ${functionName}${qualifier ? `:${qualifier}` : ""} failed: ${failure}`);
  return config;
}

function isBusy(config: FunctionConfiguration): boolean {
  return config.State === "Pending" || config.LastUpdateStatus === "InProgress";
}

function failureOf(config: FunctionConfiguration): string | null {
  if (config.State === "Failed")
    return `${config.StateReasonCode ?? "Failed"}: ${config.StateReason ?? "no reason given"}`;
  if (config.LastUpdateStatus === "Failed")
    return `${config.LastUpdateStatusReasonCode ?? "Failed"}: ${config.LastUpdateStatusReason ?? "no reason given"}`;
  return null;
}

/** Turns a call's response into a settled StepResult, waiting only when the response says it must. */
async function settle(
  lambda: LambdaClient,
  response: FunctionConfiguration,
  wait: WaitOptions,
): Promise<StepResult> {
  const version = response.Version && response.Version !== "$LATEST" ? response.Version : null;
  let config = response;
  const failure = failureOf(response);
  if (failure) throw new Error(`Lambda function ${response.FunctionName ?? ""} failed: ${failure}`);
  if (isBusy(response))
    config = await waitUntilSettled(lambda, response.FunctionName ?? "", version ?? undefined, wait);
  return {
    revisionId: config.RevisionId ?? response.RevisionId ?? null,
    versionArn: version ? qualifiedArn(response.FunctionArn ?? "", version) : null,
    codeSha256: config.CodeSha256 ?? response.CodeSha256 ?? null,
  };
}

/**
 * ResourceConflictException means another update is still running on the function: wait for it
 * to settle and try again (a few times; a persistent conflict is someone else deploying).
 */
async function withConflictRetry<T>(
  lambda: LambdaClient,
  functionName: string,
  wait: WaitOptions,
  call: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (!isAwsError(error, "ResourceConflictException") || attempt >= 4) throw error;
      await waitUntilSettled(lambda, functionName, undefined, wait);
    }
  }
}

export function unqualifiedArn(arn: string): string {
  const parts = arn.split(":");
  return parts.length > 7 ? parts.slice(0, 7).join(":") : arn;
}

export function qualifiedArn(arn: string, version: string): string {
  return `${unqualifiedArn(arn)}:${version}`;
}
