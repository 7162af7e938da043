/**
 * The pipeline's ECS task definition in the plan: one family per state machine, one revision per
 * image digest and settings. The revision's settings hash rides on it as a tag, so the plan
 * compares it with the family's latest ACTIVE revision and a no-op deploy registers nothing. The
 * state machine's ECS Tasks name the family in the compiled definition; plan and apply bind the
 * revision's ARN there, exactly as function versions are bound (bind.ts): one atomic cutover.
 */
import { ECS_CONTAINER_NAME, ECS_RUN_TASK } from "../compile/ecs.js";
import type { AslDefinition, AslState, EcsTaskSpec } from "../compile/types.js";
import { UserError } from "../errors.js";
import { shortHash } from "./canonical.js";
import { functionTags } from "./desired.js";
import type { DeployedTaskDefinition, DesiredDeployment, TaskDefinitionPlan } from "./types.js";

/** On each revision: the hash of what it was registered from. */
export const TASK_DEFINITION_SPEC_TAG = "kedro-sfn:spec";
/** The container runs this instead of the image's Lambda ENTRYPOINT (python/kedro_sfn/ecs_entry.py). */
export const ECS_ENTRY_POINT = ["python3", "-m", "kedro_sfn.ecs_entry"];
/** awslogs names each task's stream `<prefix>/<container>/<task id>`. */
export const ECS_LOG_STREAM_PREFIX = "kedro-sfn";
/** Fargate's smallest size; every Task overrides it with its own (Overrides.Cpu/Memory). */
const BASE_SIZE = { cpu: "256", memory: "512" };

/** CloudWatch Logs group of the family's tasks. */
export function ecsLogGroup(family: string): string {
  return `/ecs/${family}`;
}

/** The log stream of one task, from its ARN (`.../task/<cluster>/<id>`). */
export function ecsLogStream(taskArn: string): string {
  return `${ECS_LOG_STREAM_PREFIX}/${ECS_CONTAINER_NAME}/${taskArn.slice(taskArn.lastIndexOf("/") + 1)}`;
}

function ecsTasksOf(desired: DesiredDeployment): EcsTaskSpec[] {
  return desired.compiled.ecsTasks ?? [];
}

/** What RegisterTaskDefinition gets, less the tags and the region-bound log option. */
function registeredSettings(desired: DesiredDeployment, tasks: EcsTaskSpec[]) {
  const first = tasks[0] as EcsTaskSpec;
  const mixed = tasks.find((t) => t.architecture !== first.architecture);
  if (mixed) {
    throw new UserError(
      `Tasks ${first.taskName} (${first.architecture}) and ${mixed.taskName} (${mixed.architecture}) run on ECS with different architectures; the pipeline's one task definition has one.`,
      { hint: "Give every node routed to ECS (runner: ecs) the same architecture in sfn.yml." },
    );
  }
  return {
    family: first.family,
    imageUri: desired.imageUri,
    executionRoleArn: desired.ecs?.executionRoleArn ?? "",
    taskRoleArn: desired.ecs?.taskRoleArn ?? "",
    architecture: first.architecture,
    entryPoint: ECS_ENTRY_POINT,
  };
}

export function taskDefinitionSpecHash(desired: DesiredDeployment): string | null {
  const tasks = ecsTasksOf(desired);
  return tasks.length === 0 ? null : shortHash(registeredSettings(desired, tasks));
}

/** RegisterTaskDefinition's input for this deployment; null when no task runs on ECS. */
export function taskDefinitionInput(desired: DesiredDeployment, region: string) {
  const tasks = ecsTasksOf(desired);
  if (tasks.length === 0) return null;
  const settings = registeredSettings(desired, tasks);
  const tags = { ...functionTags(desired), [TASK_DEFINITION_SPEC_TAG]: shortHash(settings) };
  return {
    family: settings.family,
    taskRoleArn: settings.taskRoleArn,
    executionRoleArn: settings.executionRoleArn,
    networkMode: "awsvpc" as const,
    requiresCompatibilities: ["FARGATE"] as ["FARGATE"],
    ...BASE_SIZE,
    runtimePlatform: {
      cpuArchitecture: settings.architecture === "arm64" ? ("ARM64" as const) : ("X86_64" as const),
      operatingSystemFamily: "LINUX" as const,
    },
    containerDefinitions: [
      {
        name: ECS_CONTAINER_NAME,
        image: settings.imageUri,
        essential: true as const,
        // The image's ENTRYPOINT is Lambda's (or the runtime interface client): not for a task.
        entryPoint: [...settings.entryPoint],
        command: [],
        environment: [],
        logConfiguration: {
          logDriver: "awslogs" as const,
          options: {
            "awslogs-group": ecsLogGroup(settings.family),
            "awslogs-region": region,
            "awslogs-stream-prefix": ECS_LOG_STREAM_PREFIX,
            "awslogs-create-group": "true",
          },
        },
      },
    ],
    tags: Object.entries(tags)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => ({ key, value })),
  };
}

/** Desired vs the family's latest revision; undefined when no task runs on ECS. */
export function planTaskDefinition(
  desired: DesiredDeployment,
  deployed: DeployedTaskDefinition | null | undefined,
): TaskDefinitionPlan | undefined {
  const specHash = taskDefinitionSpecHash(desired);
  const family = ecsTasksOf(desired)[0]?.family;
  if (specHash === null || family === undefined) return undefined;
  if (!deployed) return { family, action: "create", specHash, currentArn: null, changes: [] };
  if (deployed.specHash === specHash)
    return { family, action: "noop", specHash, currentArn: deployed.arn, changes: [] };
  return {
    family,
    action: "update",
    specHash,
    currentArn: null,
    changes: [{ field: "revision", before: `${family}:${deployed.revision}`, after: `${family}:new` }],
  };
}

/** `family:new` until the apply registers the revision. */
export function plannedTaskDefinitionArn(plan: TaskDefinitionPlan): string {
  return plan.currentArn ?? `${plan.family}:new`;
}

function visitEcsTasks(
  states: Record<string, AslState>,
  visit: (parameters: Record<string, unknown>) => void,
): void {
  for (const state of Object.values(states)) {
    const parameters = state.Parameters as Record<string, unknown> | undefined;
    if (state.Type === "Task" && state.Resource === ECS_RUN_TASK && parameters) visit(parameters);
    for (const branch of (state.Branches as { States: Record<string, AslState> }[] | undefined) ?? [])
      visitEcsTasks(branch.States, visit);
  }
}

/** A copy whose ECS Tasks run `taskDefinitionArn` instead of naming the family. */
export function bindTaskDefinition(
  definition: AslDefinition,
  taskDefinitionArn: string | null,
): AslDefinition {
  if (taskDefinitionArn === null) return definition;
  const copy = structuredClone(definition);
  visitEcsTasks(copy.States, (parameters) => {
    parameters.TaskDefinition = taskDefinitionArn;
  });
  return copy;
}

/** The task definition revisions a deployed definition runs (for destroy/prune and reading back). */
export function boundTaskDefinitions(definition: AslDefinition): string[] {
  const arns = new Set<string>();
  visitEcsTasks(definition.States, (parameters) => {
    if (typeof parameters.TaskDefinition === "string") arns.add(parameters.TaskDefinition);
  });
  return [...arns].sort();
}
