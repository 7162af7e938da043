/**
 * A split pipeline's children in the plan and the apply: each child's definition as deployed
 * (its Lambda Tasks bound to function versions, its ECS Tasks to the task definition revision),
 * and which children keep the version the parent starts now. Plan and apply bind them alike, so
 * a no-op of a split pipeline plans no change and the apply touches no child.
 */
import { stableStringify } from "../canonicalJson.js";
import type { AslDefinition, ChildMachine } from "../compile/types.js";
import { bindDefinition, type TaskBinding } from "./bind.js";
import { bindTaskDefinition } from "./taskDefinitions.js";
import type { DeployedChild, DeployedLogging } from "./types.js";

/** The child's definition as sent: function versions and the task definition revision bound. */
export function boundChildDefinition(
  child: ChildMachine,
  bindings: ReadonlyMap<string, TaskBinding>,
  taskDefinitionArn: string | null,
): AslDefinition {
  return bindTaskDefinition(bindDefinition(child.definition, bindings), taskDefinitionArn);
}

export interface ChildSettings {
  roleArn: string;
  logging: DeployedLogging;
  tracing: boolean;
}

/**
 * For each desired child, the deployed version that already holds exactly its bound definition
 * and settings (the parent may start it again), or null: the apply publishes a new one.
 */
export function keptChildVersions(
  children: readonly ChildMachine[],
  bindings: ReadonlyMap<string, TaskBinding>,
  taskDefinitionArn: string | null,
  settings: ChildSettings,
  deployed: readonly DeployedChild[] | undefined,
): { name: string; versionArn: string | null }[] {
  const byName = new Map((deployed ?? []).map((child) => [child.name, child]));
  return children.map((child) => {
    const current = byName.get(child.name);
    const same =
      current?.definition != null &&
      current.roleArn === settings.roleArn &&
      current.tracing === settings.tracing &&
      stableStringify(current.logging) === stableStringify(settings.logging) &&
      stableStringify(current.definition) ===
        stableStringify(boundChildDefinition(child, bindings, taskDefinitionArn));
    return { name: child.name, versionArn: same && current ? current.versionArn : null };
  });
}
