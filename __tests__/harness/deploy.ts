/** Read -> plan -> apply, and the checks deploy tests and the benchmark share. */
import { GetFunctionCommand, ListFunctionsCommand, type FunctionConfiguration } from "@aws-sdk/client-lambda";
import { DescribeStateMachineCommand } from "@aws-sdk/client-sfn";
import { applyPlan, type ApplyOptions } from "../../src/aws/apply.js";
import type { AwsClients } from "../../src/aws/clients.js";
import { deploymentRef, readDeployed } from "../../src/aws/deployed.js";
import { boundTasks, parseFunctionDescription, planDeployment } from "../../src/plan/index.js";
import { childMachineReferences } from "../../src/plan/bind.js";
import type { DeployResult, DesiredDeployment, Plan } from "../../src/plan/types.js";
import type { AslDefinition } from "../../src/compile/types.js";
import { executePipeline, type ExecuteRequest, type RunDeps, type RunReport } from "../../src/run/execute.js";
import type { SFNClient } from "@aws-sdk/client-sfn";

export interface DeployRun {
  plan: Plan;
  result: DeployResult;
}

export async function planOnly(
  clients: AwsClients,
  desired: DesiredDeployment,
  prune = false,
  keepVersions?: number,
): Promise<Plan> {
  const keep = keepVersions !== undefined ? { keepVersions } : {};
  const deployed = await readDeployed(clients, { ...deploymentRef(desired), ...keep, prune });
  return planDeployment(desired, deployed, { prune, region: clients.region, ...keep });
}

export async function deploy(
  clients: AwsClients,
  desired: DesiredDeployment,
  options: ApplyOptions & { prune?: boolean; keepVersions?: number } = {},
): Promise<DeployRun> {
  const { prune, keepVersions, ...applyOptions } = options;
  const plan = await planOnly(clients, desired, prune ?? false, keepVersions);
  const result = await applyPlan(clients, plan, desired, { pollIntervalMs: 50, ...applyOptions });
  return { plan, result };
}

/**
 * Runs a deployed pipeline to its end, quietly: input `{}`, a minute's wait, no failure thrown
 * (tests read the report), polling fast as moto answers at once. `request` and `deps` override.
 */
export function runToEnd(
  sfn: SFNClient,
  request: Pick<ExecuteRequest, "stateMachineArn" | "name" | "tasks"> & Partial<ExecuteRequest>,
  deps: Partial<RunDeps> = {},
): Promise<RunReport> {
  return executePipeline(
    sfn,
    { input: "{}", wait: true, timeoutMs: 60_000, failOnExecutionFailure: false, ...request },
    {
      log: () => undefined,
      warn: () => undefined,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      now: Date.now,
      pollMs: 100,
      maxPollMs: 500,
      ...deps,
    },
  );
}

/** Every function of the account (one unpaged list: direct clients talk to moto itself). */
export async function allFunctions(clients: AwsClients): Promise<FunctionConfiguration[]> {
  const found: FunctionConfiguration[] = [];
  let marker: string | undefined;
  do {
    const page = await clients.lambda.send(
      new ListFunctionsCommand({ MaxItems: 50, ...(marker ? { Marker: marker } : {}) }),
    );
    found.push(...(page.Functions ?? []));
    marker = page.NextMarker;
  } while (marker);
  return found;
}

/**
 * The invariant the deploy order guarantees: every function version the state machine invokes
 * exists. Returns the problems found (empty when it holds, or when there is no state machine).
 */
export async function missingReferencedVersions(
  clients: AwsClients,
  stateMachineArn: string,
): Promise<string[]> {
  let definition: string;
  try {
    definition =
      (await clients.sfn.send(new DescribeStateMachineCommand({ stateMachineArn }))).definition ?? "{}";
  } catch (error) {
    if ((error as { name?: string }).name === "StateMachineDoesNotExist") return [];
    throw error;
  }
  const missing: string[] = [];
  const parent = JSON.parse(definition) as AslDefinition;
  const definitions = [parent];
  // A split pipeline's parent starts child state machine versions: their Tasks count too.
  for (const child of childMachineReferences(parent)) {
    if (!/:\d+$/.test(child)) {
      missing.push(`${child} is not a published state machine version`);
      continue;
    }
    try {
      const described = await clients.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: child }));
      definitions.push(JSON.parse(described.definition ?? "{}") as AslDefinition);
    } catch (error) {
      missing.push(`${child}: ${(error as Error).name}`);
    }
  }
  for (const task of definitions.flatMap((bound) => Object.values(boundTasks(bound)))) {
    const qualifier = task.versionArn.split(":")[7];
    if (!qualifier || !/^\d+$/.test(qualifier)) {
      missing.push(`${task.versionArn} is not a published version`);
      continue;
    }
    try {
      await clients.lambda.send(
        new GetFunctionCommand({ FunctionName: task.functionName, Qualifier: qualifier }),
      );
    } catch (error) {
      missing.push(`${task.versionArn}: ${(error as Error).name}`);
    }
  }
  return missing;
}

/** Managed functions of the state machine that it does not invoke (should be none after a pruning deploy). */
export async function orphanedFunctions(
  clients: AwsClients,
  stateMachineName: string,
  stateMachineArn: string,
): Promise<string[]> {
  const definition =
    (await clients.sfn.send(new DescribeStateMachineCommand({ stateMachineArn }))).definition ?? "{}";
  const used = new Set(Object.keys(boundTasks(JSON.parse(definition) as AslDefinition)));
  return (await allFunctions(clients))
    .filter(
      (fn) =>
        parseFunctionDescription(fn.Description)?.stateMachine === stateMachineName &&
        !used.has(fn.FunctionName ?? ""),
    )
    .map((fn) => fn.FunctionName ?? "");
}
