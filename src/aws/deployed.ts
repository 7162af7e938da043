import { arnAccount, Tag } from "../plan/desired.js";
import type { DeployedFunction, DeployedState, DesiredDeployment, ForeignFunction } from "../plan/types.js";
import { MissingRegionError, type AwsClients } from "./clients.js";
import { explainAwsError, isMissingCredentials } from "./failures.js";
import { listAllFunctions, listTags, toDeployedFunction } from "./lambda.js";
import { mapWithConcurrency } from "./limiter.js";
import { describeStateMachine, findStateMachineArn, stateMachineArn, stateMachineTagsOf } from "./sfn.js";

/** What to look for. */
export interface DeploymentRef {
  stateMachineName: string;
  /** Desired function names: any that exists without being ours is reported as foreign. */
  functionNames: string[];
  /** Known from the role ARNs; without it the state machine is found by ListStateMachines. */
  accountId?: string;
  partition?: string;
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
 * Reads the state machine and the functions managed for it. This costs ceil(functions/50)
 * ListFunctions pages, DescribeStateMachine and the state machine's ListTagsForResource:
 * function ownership is read from the Description marker, and function tags are fetched only
 * for desired names held by a function without our marker.
 */
export async function readDeployed(clients: AwsClients, ref: DeploymentRef): Promise<DeployedState> {
  try {
    const [listed, stateMachine] = await Promise.all([
      listAllFunctions(clients.lambda),
      (async () => {
        const arn =
          ref.accountId !== undefined
            ? stateMachineArn(ref.partition ?? "aws", clients.region, ref.accountId, ref.stateMachineName)
            : await findStateMachineArn(clients.sfn, ref.stateMachineName);
        if (!arn) return null;
        const described = await describeStateMachine(clients.sfn, arn);
        return described
          ? { ...described, tags: await stateMachineTagsOf(clients.sfn, described.arn) }
          : null;
      })(),
    ]);
    const wanted = new Set(ref.functionNames);
    const functions: DeployedFunction[] = [];
    const unmarked: DeployedFunction[] = [];
    for (const config of listed) {
      const fn = toDeployedFunction(config);
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
