/**
 * An `ecs:runTask.sync` Task of a deployed definition, read back as a RunTask: the nodes are the
 * KEDRO_SFN_NODES environment override the compiler gives the task's container (src/compile/ecs.ts),
 * the log group is the task definition family's. What `kedro-sfn run` and resume know of a Task
 * routed to ECS without the project at hand.
 */
import { ECS_CONTAINER_NAME, ECS_RUN_TASK } from "../compile/ecs.js";
import type { AslState } from "../compile/types.js";
import { ecsLogGroup } from "../plan/taskDefinitions.js";
import type { RunTask } from "./types.js";

/** The Task's RunTask, or undefined when it is not a compiled ECS Task (no nodes in its overrides). */
export function ecsTaskFromState(stateName: string, state: AslState): RunTask | undefined {
  if (state["Resource"] !== ECS_RUN_TASK) return undefined;
  const parameters = record(state["Parameters"] ?? state["Arguments"]);
  const family = familyOf(parameters?.["TaskDefinition"]);
  const overrides = record(parameters?.["Overrides"]);
  const containers = overrides?.["ContainerOverrides"];
  if (!family || !Array.isArray(containers)) return undefined;
  const container = containers.map(record).find((c) => c?.["Name"] === ECS_CONTAINER_NAME);
  const environment = container?.["Environment"];
  if (!Array.isArray(environment)) return undefined;
  const entry = environment.map(record).find((e) => e?.["Name"] === "KEDRO_SFN_NODES");
  const nodes = parseNodes(entry?.["Value"]);
  if (!nodes) return undefined;
  // There is no Lambda function: the family names what runs the nodes (and its log group).
  return { stateName, functionName: family, nodes, logGroup: ecsLogGroup(family) };
}

/** `family`, `family:3` or the revision's ARN (`arn:aws:ecs:...:task-definition/family:3`): the family. */
export function familyOf(taskDefinition: unknown): string | undefined {
  if (typeof taskDefinition !== "string" || taskDefinition === "") return undefined;
  const name = taskDefinition.startsWith("arn:")
    ? taskDefinition.slice(taskDefinition.indexOf("/") + 1)
    : taskDefinition;
  return name.replace(/:\d+$/, "") || undefined;
}

function parseNodes(value: unknown): string[] | undefined {
  if (typeof value !== "string") return undefined;
  let nodes: unknown;
  try {
    nodes = JSON.parse(value);
  } catch {
    return undefined;
  }
  return Array.isArray(nodes) && nodes.length > 0 && nodes.every((n) => typeof n === "string")
    ? nodes
    : undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
