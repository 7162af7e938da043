/**
 * The structure of a deployed definition, read back as a series-parallel tree
 * over this compile's tasks, so a deploy can keep it (learned durations that
 * gain too little must not redeploy another structure: see
 * src/run/durationsLearned.ts).
 */
import { parallel, series, task, type SpTree } from "../graph/spTree.js";
import type { TaskDag } from "../graph/taskDag.js";
import type { AslState } from "./types.js";

type Machine = { StartAt: string; States: Record<string, AslState> };

/**
 * The tree, or undefined when the definition does not run exactly these
 * functions once each (the pipeline changed) or its order breaks one of the
 * DAG's edges. Function names may be bound (`...:function:NAME:VERSION`).
 */
export function treeFromDefinition(
  definition: Machine,
  functionNames: readonly string[],
  dag: TaskDag,
  byStateName = false,
): SpTree | undefined {
  // byStateName: `functionNames` are Task state names (shared functions name several Tasks).
  const index = new Map(functionNames.map((n, i) => [n, i]));
  const seen = new Set<number>();
  const chain = (m: Machine): SpTree[] | undefined => {
    const steps: SpTree[] = [];
    const visited = new Set<string>();
    let name: string | undefined = m.StartAt;
    while (name !== undefined) {
      if (visited.has(name)) return undefined;
      visited.add(name);
      const state: AslState | undefined = m.States[name];
      if (state === undefined) return undefined;
      if (state.Type === "Task") {
        const fn = byStateName
          ? name
          : (state["Parameters"] as Record<string, unknown> | undefined)?.["FunctionName"];
        const i = typeof fn === "string" ? index.get(byStateName ? fn : unbound(fn)) : undefined;
        if (i === undefined || seen.has(i)) return undefined;
        seen.add(i);
        steps.push(task(i));
      } else if (state.Type === "Parallel") {
        const branches = (state["Branches"] ?? []) as Machine[];
        const parts: SpTree[] = [];
        for (const b of branches) {
          const c = chain(b);
          if (c === undefined) return undefined;
          if (c.length > 0) parts.push(series(c));
        }
        if (parts.length > 0) steps.push(parallel(parts));
      } else if (state.Type !== "Pass") {
        return undefined;
      }
      name = typeof state["Next"] === "string" ? state["Next"] : undefined;
    }
    return steps;
  };
  const steps = chain(definition);
  if (steps === undefined || seen.size !== functionNames.length || steps.length === 0) return undefined;
  const tree = series(steps);
  return respectsEdges(tree, dag) ? tree : undefined;
}

/** `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:VERSION]` -> NAME; a plain name stays. */
function unbound(fn: string): string {
  const parts = fn.split(":");
  return fn.startsWith("arn:") && parts.length >= 7 ? (parts[6] as string) : fn;
}

/**
 * Every edge u -> v runs u first: where their paths from the root part, the
 * node is a series and u's child comes before v's.
 */
function respectsEdges(tree: SpTree, dag: TaskDag): boolean {
  const paths = new Map<number, { node: SpTree; at: number }[]>();
  const walk = (t: SpTree, path: { node: SpTree; at: number }[]): void => {
    if (t.kind === "task") {
      paths.set(t.task, path);
      return;
    }
    t.children.forEach((c, at) => walk(c, [...path, { node: t, at }]));
  };
  walk(tree, []);
  for (let v = 0; v < dag.size; v++) {
    const pv = paths.get(v);
    if (pv === undefined) return false;
    for (const u of dag.preds[v] ?? []) {
      const pu = paths.get(u);
      if (pu === undefined) return false;
      let d = 0;
      while (d < pu.length && d < pv.length && pu[d]?.node === pv[d]?.node && pu[d]?.at === pv[d]?.at) d++;
      const a = pu[d];
      const b = pv[d];
      if (a === undefined || b === undefined || a.node !== b.node) return false;
      if (a.node.kind !== "series" || a.at >= b.at) return false;
    }
  }
  return true;
}
