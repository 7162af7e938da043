/** Reads and registers the pipeline's ECS task definition as the plan says (src/plan/taskDefinitions.ts). */
import { TASK_DEFINITION_SPEC_TAG, taskDefinitionInput } from "../plan/taskDefinitions.js";
import type { DeployedTaskDefinition, DesiredDeployment, Plan } from "../plan/types.js";
import type { AwsClients } from "./clients.js";
import type { ECSClient } from "@aws-sdk/client-ecs";
import { describeLatestTaskDefinition, registerTaskDefinition } from "./ecs.js";
import { explainAwsError } from "./failures.js";

/** The family's latest ACTIVE revision, or null when it has none. */
export async function readTaskDefinition(
  ecs: ECSClient,
  family: string,
): Promise<DeployedTaskDefinition | null> {
  const latest = await describeLatestTaskDefinition(ecs, family);
  if (!latest) return null;
  return {
    family,
    arn: latest.arn,
    revision: latest.revision,
    specHash: latest.tags[TASK_DEFINITION_SPEC_TAG] ?? null,
  };
}

/**
 * The task definition ARN (with revision) the state machine's ECS Tasks run: the current one when
 * the plan keeps it, else a revision registered now. Before the state machine switches, so the
 * running version never points at a revision that does not exist; a rerun after a kill finds the
 * registered revision by its spec tag and registers nothing.
 */
export async function convergeTaskDefinition(
  clients: AwsClients,
  plan: Plan,
  desired: DesiredDeployment,
  log: (line: string) => void,
): Promise<string | null> {
  const planned = plan.taskDefinition;
  if (!planned) return null;
  if (planned.action === "noop" && planned.currentArn) return planned.currentArn;
  const input = taskDefinitionInput(desired, clients.region);
  if (!input) throw new Error("The plan has a task definition but no task runs on ECS.");
  try {
    const arn = await registerTaskDefinition(clients.ecs, input);
    log(`registered task definition ${arn.slice(arn.lastIndexOf("/") + 1)}`);
    return arn;
  } catch (error) {
    throw explainAwsError(error, { doing: `register ECS task definition ${planned.family}` });
  }
}
