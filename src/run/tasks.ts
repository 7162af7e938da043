import type { AslDefinition, AslState } from "../compile/types.js";
import { dependenciesOf } from "../graph/dag.js";
import type { PipelineGraph } from "../graph/types.js";
import { functionNameOf } from "../compile/names.js";
import { ecsTaskFromState } from "./ecsTaskState.js";
import type { PipelineTask, RunTask } from "./types.js";

/**
 * The Tasks of a deployed state machine, read back from its definition: every
 * Task that invokes Lambda with a `Payload.nodes` list, and every ECS Task whose
 * container overrides name its nodes (ecsTaskState.ts). A Task depends on the
 * Tasks that end the states before it (through Next chains and Parallel
 * branches). This is what `kedro-sfn run` knows without the project at hand.
 */
export function pipelineTasksFromDefinition(definition: AslDefinition): PipelineTask[] {
  const tasks: PipelineTask[] = [];
  walk(definition.States, definition.StartAt, [], tasks, 0);
  return tasks;
}

function walk(
  states: Record<string, AslState>,
  startAt: string,
  before: string[],
  out: PipelineTask[],
  depth: number,
): string[] {
  if (depth > 100) return before;
  let last = before;
  const visited = new Set<string>();
  let name: string | undefined = startAt;
  while (name !== undefined && !visited.has(name)) {
    visited.add(name);
    const state: AslState | undefined = states[name];
    if (!state) break;
    if (state.Type === "Task") {
      const task = kedroTask(name, state) ?? ecsTaskFromState(name, state);
      if (task) {
        out.push({ ...task, dependsOn: [...last] });
        last = [name];
      }
    } else if (state.Type === "Parallel") {
      const ends = branchesOf(state).flatMap((b) => walk(b.States, b.StartAt, last, out, depth + 1));
      last = ends.length > 0 ? [...new Set(ends)] : last;
    } else if (state.Type === "Map") {
      const body = (state["ItemProcessor"] ?? state["Iterator"]) as AslDefinition | undefined;
      if (body?.States) last = walk(body.States, body.StartAt, last, out, depth + 1);
    } else if (state.Type === "Choice") {
      // Compiled machines have no Choice; follow the default branch.
      name = typeof state["Default"] === "string" ? state["Default"] : undefined;
      continue;
    }
    name = state["End"] === true || typeof state["Next"] !== "string" ? undefined : state["Next"];
  }
  return last;
}

function branchesOf(state: AslState): AslDefinition[] {
  const branches = state["Branches"];
  return Array.isArray(branches)
    ? (branches as AslDefinition[]).filter((b) => b && b.States && b.StartAt)
    : [];
}

function kedroTask(stateName: string, state: AslState): RunTask | undefined {
  const resource = state["Resource"];
  if (typeof resource !== "string" || !resource.startsWith("arn:aws:states:::lambda:invoke"))
    return undefined;
  const parameters = (state["Parameters"] ?? state["Arguments"]) as Record<string, unknown> | undefined;
  const payload = parameters?.["Payload"] as Record<string, unknown> | undefined;
  const nodes = payload?.["nodes"];
  const fn = parameters?.["FunctionName"];
  if (!Array.isArray(nodes) || !nodes.every((n) => typeof n === "string") || typeof fn !== "string") {
    return undefined;
  }
  return { stateName, functionName: functionNameOf(fn), nodes };
}

/**
 * Tasks with the dependencies the data implies: Task A waits for Task B when a
 * node of A reads what a node of B writes. Truer than the definition's shape,
 * which may serialise more than the data needs.
 */
export function pipelineTasksFromGraph(tasks: readonly RunTask[], graph: PipelineGraph): PipelineTask[] {
  const taskOfNode = new Map<string, string>();
  for (const task of tasks) for (const node of task.nodes) taskOfNode.set(node, task.stateName);
  const deps = dependenciesOf(graph);
  return tasks.map((task) => {
    const dependsOn = new Set<string>();
    for (const node of task.nodes) {
      for (const parent of deps.get(node) ?? []) {
        const other = taskOfNode.get(parent);
        if (other !== undefined && other !== task.stateName) dependsOn.add(other);
      }
    }
    return {
      stateName: task.stateName,
      functionName: task.functionName,
      nodes: [...task.nodes],
      dependsOn: [...dependsOn].sort(),
    };
  });
}
