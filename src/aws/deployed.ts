import { arnAccount, Tag } from "../plan/desired.js";
import { DEFAULT_KEEP_VERSIONS } from "../plan/versions.js";
import type {
  DeployedFunction,
  DeployedFunctionVersion,
  DeployedState,
  DeployedStateMachine,
  DeployedStateMachineVersion,
  DesiredDeployment,
  ForeignFunction,
} from "../plan/types.js";
import type { SFNClient } from "@aws-sdk/client-sfn";
import { MissingRegionError, type AwsClients } from "./clients.js";
import { explainAwsError, isMissingCredentials } from "./failures.js";
import { listAllFunctions, listTags, publishedVersionNumber, toDeployedFunction } from "./lambda.js";
import { mapWithConcurrency } from "./limiter.js";
import {
  describeStateMachine,
  findStateMachineArn,
  listStateMachineVersions,
  sameRevision,
  stateMachineArn,
  stateMachineTagsOf,
} from "./sfn.js";

/** What to look for. */
export interface DeploymentRef {
  stateMachineName: string;
  /** Desired function names: any that exists without being ours is reported as foreign. */
  functionNames: string[];
  /** Known from the role ARNs; without it the state machine is found by ListStateMachines. */
  accountId?: string;
  partition?: string;
  /** State machine versions kept (`keep-versions`): the newest this many are read in full. */
  keepVersions?: number;
}

export function deploymentRef(desired: DesiredDeployment): DeploymentRef {
  const account = arnAccount(desired.stateMachineRoleArn) ?? arnAccount(desired.lambdaRoleArn);
  return {
    stateMachineName: desired.stateMachineName,
    functionNames: desired.compiled.functions.map((fn) => fn.functionName),
    ...(account ? { accountId: account.accountId, partition: account.partition } : {}),
  };
}

/**
 * Reads the state machine and the functions managed for it. This costs ceil(entries/50)
 * ListFunctions pages (functions and their published versions), DescribeStateMachine, the state
 * machine's ListTagsForResource, ListStateMachineVersions and a DescribeStateMachine of each of
 * the newest `keepVersions` versions (what they invoke is kept; the newest also says which
 * version the state machine runs). Function ownership is read from the Description marker, and
 * function tags are fetched only for desired names held by a function without our marker.
 */
export async function readDeployed(clients: AwsClients, ref: DeploymentRef): Promise<DeployedState> {
  try {
    const [listed, stateMachine] = await Promise.all([
      listAllFunctions(clients.lambda, true),
      (async () => {
        const arn =
          ref.accountId !== undefined
            ? stateMachineArn(ref.partition ?? "aws", clients.region, ref.accountId, ref.stateMachineName)
            : await findStateMachineArn(clients.sfn, ref.stateMachineName);
        if (!arn) return null;
        const described = await describeStateMachine(clients.sfn, arn);
        if (!described) return null;
        const [tags, versions] = await Promise.all([
          stateMachineTagsOf(clients.sfn, described.arn),
          readVersions(clients.sfn, described, ref.keepVersions ?? DEFAULT_KEEP_VERSIONS),
        ]);
        return { ...described, tags, ...versions };
      })(),
    ]);
    const wanted = new Set(ref.functionNames);
    const functions: DeployedFunction[] = [];
    const unmarked: DeployedFunction[] = [];
    const versionsByName = new Map<string, DeployedFunctionVersion[]>();
    for (const config of listed) {
      const version = publishedVersionNumber(config);
      if (version === null) continue;
      const name = config.FunctionName ?? "";
      const versions = versionsByName.get(name) ?? [];
      versions.push({
        arn: config.FunctionArn ?? "",
        version,
        ...(config.CodeSha256 ? { codeSha256: config.CodeSha256 } : {}),
      });
      versionsByName.set(name, versions);
    }
    for (const config of listed) {
      if (publishedVersionNumber(config) !== null) continue;
      const fn = {
        ...toDeployedFunction(config),
        versions: (versionsByName.get(config.FunctionName ?? "") ?? []).sort((a, b) => a.version - b.version),
      };
      if (fn.marker?.stateMachine === ref.stateMachineName) functions.push(fn);
      else if (wanted.has(fn.functionName)) unmarked.push(fn);
    }
    // A desired name taken by a function without our marker: its tag says whose it is.
    const owners = await mapWithConcurrency(
      unmarked,
      4,
      async (fn) => (await listTags(clients.lambda, fn.functionArn))[Tag.stateMachine] ?? null,
    );
    const foreign: ForeignFunction[] = [];
    unmarked.forEach((fn, index) => {
      const owner = owners[index] ?? null;
      if (owner === ref.stateMachineName) functions.push(fn);
      else foreign.push({ functionName: fn.functionName, owner });
    });
    functions.sort((a, b) => (a.functionName < b.functionName ? -1 : 1));
    return { region: clients.region, stateMachine, functions, foreign };
  } catch (error) {
    throw explainAwsError(error, {
      doing: `read the deployed state of state machine "${ref.stateMachineName}"`,
      stateMachineName: ref.stateMachineName,
    });
  }
}

/**
 * The state machine's versions, newest first, the newest `keep` read in full; and the version it
 * runs: the newest, if that has its current definition and settings. This, not the version tag,
 * is what a no-op deploy reports, so a deploy killed between publishing and tagging leaves
 * nothing wrong behind.
 */
async function readVersions(
  sfn: SFNClient,
  machine: DeployedStateMachine,
  keep: number,
): Promise<{ versions: DeployedStateMachineVersion[]; currentVersionArn: string | null }> {
  const listed = await listStateMachineVersions(sfn, machine.arn);
  const read = await mapWithConcurrency(listed.slice(0, keep), 4, (version) =>
    describeStateMachine(sfn, version.arn),
  );
  const versions = listed.map((version, index) => {
    const described = read[index];
    return {
      ...version,
      functionVersionArns: described
        ? Object.values(described.tasks)
            .map((task) => task.versionArn)
            .sort()
        : null,
    };
  });
  const newest = read[0];
  const currentVersionArn = newest && sameRevision(newest, machine) ? (listed[0]?.arn ?? null) : null;
  return { versions, currentVersionArn };
}

export interface PlanBasis {
  deployed: DeployedState | null;
  /** Why AWS was not read, for the plan's note; null when it was. */
  note: string | null;
}

/**
 * `mode: plan` without credentials still plans, against nothing deployed, and says so.
 * The clients belong to the caller (the job shares them between stages and destroys them).
 * Credentials AWS rejects (expired) are an error, not a reason to pretend nothing exists.
 */
export async function readForPlan(
  connect: () => Promise<AwsClients>,
  ref: DeploymentRef,
): Promise<PlanBasis> {
  let clients: AwsClients;
  try {
    clients = await connect();
  } catch (error) {
    if (error instanceof MissingRegionError) {
      return {
        deployed: null,
        note: "No AWS region or credentials configured: planned as if nothing were deployed.",
      };
    }
    throw error;
  }
  try {
    return { deployed: await readDeployed(clients, ref), note: null };
  } catch (error) {
    if (isMissingCredentials(error) || isMissingCredentials((error as { cause?: unknown }).cause)) {
      return { deployed: null, note: "No AWS credentials: planned as if nothing were deployed." };
    }
    throw error;
  }
}
