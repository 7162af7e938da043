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
  paginateListVersionsByFunction,
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
import type { DeployedFunction, DesiredDeployment, FunctionMarker } from "../plan/types.js";
import { isAwsError } from "./failures.js";
import { sendOnce } from "./idempotent.js";

/** AWS's page size limit for ListFunctions. */
const LIST_PAGE_SIZE = 50;

export interface WaitOptions {
  /** First poll delay; doubles up to 8x. */
  pollIntervalMs: number;
  /** Give up after this long (a Lambda update normally settles within a minute). */
  maxWaitMs: number;
}

/**
 * Every function of the account and region: ListFunctions pages carry each function's
 * configuration. With `allVersions`, published versions too (each with `Version` set), in the
 * same pages: what old-version cleanup needs, without a call per function.
 */
export async function listAllFunctions(
  lambda: LambdaClient,
  allVersions = false,
): Promise<FunctionConfiguration[]> {
  const functions: FunctionConfiguration[] = [];
  const input = allVersions ? { FunctionVersion: "ALL" as const } : {};
  for await (const page of paginateListFunctions({ client: lambda, pageSize: LIST_PAGE_SIZE }, input))
    functions.push(...(page.Functions ?? []));
  return functions;
}

/** A listing entry for a published version (not $LATEST). */
export function publishedVersionNumber(config: FunctionConfiguration): number | null {
  const version = Number(config.Version);
  return config.Version && config.Version !== "$LATEST" && Number.isInteger(version) ? version : null;
}

/** What a published version must hold to be the one a deploy wants (see `publishedVersionOf`). */
export interface VersionContent {
  functionName: string;
  /** The image digest (hex); null when the image is not pinned by digest (nothing can be matched). */
  codeSha256: string | null;
  architecture: string;
  hashes: FunctionHashes;
}

/**
 * The newest published version when it, and $LATEST, already hold `content`: what a publish
 * would make. Matches by the image digest, the architecture and the configuration hash (in the
 * Description marker a version copies from $LATEST, or the `spec` a PublishVersion description names).
 */
export async function publishedVersionOf(
  lambda: LambdaClient,
  content: VersionContent,
): Promise<string | null> {
  if (!content.codeSha256) return null;
  let latest: FunctionConfiguration | undefined;
  let newest: FunctionConfiguration | undefined;
  try {
    for await (const page of paginateListVersionsByFunction(
      { client: lambda, pageSize: LIST_PAGE_SIZE },
      { FunctionName: content.functionName },
    )) {
      for (const config of page.Versions ?? []) {
        const version = publishedVersionNumber(config);
        if (version === null) latest = config;
        else if (!newest || version > (publishedVersionNumber(newest) ?? 0)) newest = config;
      }
    }
  } catch (error) {
    if (isAwsError(error, "ResourceNotFoundException")) return null;
    throw error;
  }
  if (!latest || !newest) return null;
  const holds = (config: FunctionConfiguration): boolean =>
    config.CodeSha256 === content.codeSha256 &&
    (config.Architectures?.[0] ?? "x86_64") === content.architecture &&
    (parseFunctionDescription(config.Description)?.config === content.hashes.config ||
      (config.Description ?? "").endsWith(` spec ${content.hashes.spec}`));
  return holds(latest) &&
    parseFunctionDescription(latest.Description)?.config === content.hashes.config &&
    holds(newest)
    ? qualifiedArn(newest.FunctionArn ?? "", newest.Version ?? "")
    : null;
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
  /** The Description marker the call reports ($LATEST's, copied into a version it published). */
  marker: FunctionMarker | null;
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

/** With `publish`, a retry after a lost response reuses the version the lost call published. */
export async function updateFunctionCode(
  lambda: LambdaClient,
  spec: FunctionSpec,
  imageUri: string,
  revisionId: string | null,
  publish: VersionContent | null,
  wait: WaitOptions,
): Promise<StepResult> {
  let already: string | undefined;
  const updated = await withConflictRetry(lambda, spec.functionName, wait, async () => {
    const command = new UpdateFunctionCodeCommand({
      FunctionName: spec.functionName,
      ImageUri: imageUri,
      Architectures: [spec.architecture],
      Publish: publish !== null,
      ...(revisionId ? { RevisionId: revisionId } : {}),
    });
    if (!publish) return lambda.send(command);
    const once = await sendOnce(
      command,
      () => lambda.send(command),
      () => publishedVersionOf(lambda, publish),
    );
    already = once.already;
    return once.sent ?? null;
  });
  if (!updated) return alreadyPublished(lambda, already ?? "", wait);
  return settle(lambda, updated, wait);
}

/** The version a lost call published, once it is ready (as `settle` waits for one this call published). */
async function alreadyPublished(
  lambda: LambdaClient,
  versionArn: string,
  wait: WaitOptions,
): Promise<StepResult> {
  const parts = versionArn.split(":");
  const config = await waitUntilSettled(lambda, parts[6] ?? "", parts[7], wait);
  return {
    revisionId: null,
    versionArn,
    codeSha256: config.CodeSha256 ?? null,
    marker: parseFunctionDescription(config.Description),
  };
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

/**
 * Publishes $LATEST, only if its code is still the image digest (CodeSha256) and, when known,
 * its RevisionId is the one the last step left. A retry after a lost response reuses the
 * version the lost call published.
 */
export async function publishVersion(
  lambda: LambdaClient,
  content: VersionContent,
  description: string,
  revisionId: string | null,
  wait: WaitOptions,
): Promise<StepResult> {
  const functionName = content.functionName;
  let already: string | undefined;
  const published = await withConflictRetry(lambda, functionName, wait, async () => {
    const command = new PublishVersionCommand({
      FunctionName: functionName,
      Description: description.slice(0, 256),
      ...(content.codeSha256 ? { CodeSha256: content.codeSha256 } : {}),
      ...(revisionId ? { RevisionId: revisionId } : {}),
    });
    const once = await sendOnce(
      command,
      () => lambda.send(command),
      () => publishedVersionOf(lambda, content),
    );
    already = once.already;
    return once.sent ?? null;
  });
  if (!published) return alreadyPublished(lambda, already ?? "", wait);
  return settle(lambda, published, wait);
}

/** Deletes one published version; one already gone counts as deleted. */
export async function deleteFunctionVersion(lambda: LambdaClient, versionArn: string): Promise<void> {
  const parts = versionArn.split(":");
  const qualifier = parts[7];
  if (!qualifier || !/^\d+$/.test(qualifier)) throw new Error(`Not a published version: ${versionArn}`);
  try {
    await lambda.send(new DeleteFunctionCommand({ FunctionName: parts[6] ?? "", Qualifier: qualifier }));
  } catch (error) {
    if (!isAwsError(error, "ResourceNotFoundException")) throw error;
  }
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

/** $LATEST's configuration and the function's tags in one call (GetFunction, not the control-plane quota). */
export async function getFunctionAndTags(
  lambda: LambdaClient,
  functionName: string,
): Promise<{ config: FunctionConfiguration; tags: Record<string, string> } | null> {
  try {
    const found = await lambda.send(new GetFunctionCommand({ FunctionName: functionName }));
    return found.Configuration ? { config: found.Configuration, tags: found.Tags ?? {} } : null;
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
    marker: parseFunctionDescription(config.Description ?? response.Description),
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
