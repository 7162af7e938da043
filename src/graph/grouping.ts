import { dependenciesOf, producersOf, topologicalOrder } from "./dag.js";
import { ReadyQueue } from "./readyQueue.js";
import type { TaskDag } from "./taskDag.js";
import type { PipelineGraph } from "./types.js";

/** What may put several Kedro nodes in one task (one Lambda function). */
export type GroupBy = "namespace" | "memory";

export interface TaskGroup {
  /** Readable name of the group: a node name, a namespace, or the first node's name plus a count. */
  label: string;
  /** Kedro node names, in run order. */
  nodes: string[];
}

export interface GroupMerge {
  /** Index into `groups` of the task that absorbed the cycle. */
  task: number;
  /** Labels of the groups merged into it. */
  merged: string[];
  reason: string;
}

export interface Grouping {
  /** Tasks in a topological order; task i is node i of `dag`. */
  groups: TaskGroup[];
  dag: TaskDag;
  /** Node name -> index of its task. */
  taskOf: Map<string, number>;
  merges: GroupMerge[];
}

/**
 * Groups nodes into tasks: one per node by default; by top-level namespace
 * (as Kedro's `group_nodes_by("namespace")`); and/or by ephemeral datasets,
 * so a MemoryDataset never crosses a Lambda boundary. Groups that would depend
 * on each other in a cycle are merged (and reported), keeping the task graph
 * acyclic.
 */
export function groupNodes(graph: PipelineGraph, groupBy: readonly GroupBy[]): Grouping {
  const order = topologicalOrder(graph);
  const position = new Map(order.map((name, i) => [name, i]));
  const deps = dependenciesOf(graph);
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const n = order.length;
  const sets = new DisjointSets(n);
  const at = (name: string): number => position.get(name) as number;
  const namespaceOf = (name: string): string | null => byName.get(name)?.namespace ?? null;

  if (groupBy.includes("namespace")) {
    const firstOf = new Map<string, number>();
    for (const name of order) {
      const ns = topNamespace(byName.get(name)?.namespace ?? null);
      if (ns === null) continue;
      const first = firstOf.get(ns);
      if (first === undefined) firstOf.set(ns, at(name));
      else sets.union(first, at(name));
    }
  }
  if (groupBy.includes("memory")) {
    const producers = producersOf(graph);
    for (const node of graph.nodes) {
      for (const input of node.inputs) {
        const producer = producers.get(input);
        if (producer !== undefined && graph.datasets?.[input]?.ephemeral === true)
          sets.union(at(producer), at(node.name));
      }
    }
  }

  // Initial groups, then the condensation of the group graph (cycles merged).
  const groupOf = Int32Array.from({ length: n }, (_, i) => sets.find(i));
  const groupEdges = new Map<number, Set<number>>();
  for (const [child, parents] of deps) {
    const c = groupOf[at(child)] as number;
    for (const p of parents) {
      const g = groupOf[at(p)] as number;
      if (g !== c) {
        let out = groupEdges.get(g);
        if (!out) groupEdges.set(g, (out = new Set()));
        out.add(c);
      }
    }
  }
  const roots = [...new Set(groupOf)].sort((a, b) => a - b);
  const component = stronglyConnected(roots, (g) => [...(groupEdges.get(g) ?? [])].sort((a, b) => a - b));

  const membersOf = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const c = component.get(groupOf[i] as number) as number;
    let list = membersOf.get(c);
    if (!list) membersOf.set(c, (list = []));
    list.push(i);
  }
  // Tasks ordered topologically: Kahn's algorithm, earliest first node first.
  const taskIds = [...membersOf.keys()];
  const taskDeps = new Map<number, Set<number>>(taskIds.map((t) => [t, new Set()]));
  for (const [child, parents] of deps) {
    const c = component.get(groupOf[at(child)] as number) as number;
    for (const p of parents) {
      const t = component.get(groupOf[at(p)] as number) as number;
      if (t !== c) taskDeps.get(c)?.add(t);
    }
  }
  const firstNode = (t: number): number => (membersOf.get(t) as number[])[0] as number;
  const remaining = new Map(taskIds.map((t) => [t, taskDeps.get(t)?.size ?? 0]));
  const dependents = new Map<number, number[]>(taskIds.map((t) => [t, []]));
  for (const [c, ps] of taskDeps) for (const p of ps) dependents.get(p)?.push(c);
  const ready = new ReadyQueue<number>(firstNode);
  for (const t of taskIds) if (remaining.get(t) === 0) ready.push(t);
  const sorted: number[] = [];
  while (ready.size > 0) {
    const t = ready.pop() as number;
    sorted.push(t);
    for (const c of dependents.get(t) ?? []) {
      const left = (remaining.get(c) ?? 0) - 1;
      remaining.set(c, left);
      if (left === 0) ready.push(c);
    }
  }

  const index = new Map(sorted.map((t, i) => [t, i]));
  const taskOf = new Map<string, number>();
  const groups: TaskGroup[] = sorted.map((t, i) => {
    const nodes = (membersOf.get(t) as number[]).map((p) => order[p] as string);
    for (const name of nodes) taskOf.set(name, i);
    return { label: labelOf(nodes, namespaceOf, groupBy), nodes };
  });
  const preds: number[][] = sorted.map((t) =>
    [...(taskDeps.get(t) ?? [])].map((p) => index.get(p) as number).sort((a, b) => a - b),
  );
  const succs: number[][] = sorted.map(() => []);
  preds.forEach((ps, c) => ps.forEach((p) => succs[p]?.push(c)));

  const merges: GroupMerge[] = [];
  for (const t of sorted) {
    const parts = roots.filter((g) => component.get(g) === t);
    if (parts.length < 2) continue;
    const merged = parts.map((g) =>
      labelOf(
        order.filter((_, i) => groupOf[i] === g),
        namespaceOf,
        groupBy,
      ),
    );
    merges.push({
      task: index.get(t) as number,
      merged,
      reason: `groups ${listOf(merged.map((m) => `'${m}'`))} would depend on each other (a cycle between tasks), so they run as one task`,
    });
  }
  return { groups, dag: { size: groups.length, preds, succs }, taskOf, merges };
}

function listOf(items: string[]): string {
  return items.length <= 2
    ? items.join(" and ")
    : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1] as string}`;
}

export function topNamespace(namespace: string | null): string | null {
  if (namespace === null || namespace === "") return null;
  return namespace.split(".")[0] ?? null;
}

function labelOf(
  nodes: string[],
  namespaceOf: (node: string) => string | null,
  groupBy: readonly GroupBy[],
): string {
  if (nodes.length === 1) return nodes[0] as string;
  if (groupBy.includes("namespace")) {
    const spaces = new Set(nodes.map((name) => topNamespace(namespaceOf(name))));
    const [only] = spaces;
    if (spaces.size === 1 && only !== null && only !== undefined) return only;
  }
  return `${nodes[0] as string}+${nodes.length - 1}`;
}

class DisjointSets {
  private readonly parent: Int32Array;
  constructor(size: number) {
    this.parent = Int32Array.from({ length: size }, (_, i) => i);
  }
  find(x: number): number {
    let root = x;
    while (this.parent[root] !== root) root = this.parent[root] as number;
    while (this.parent[x] !== root) {
      const next = this.parent[x] as number;
      this.parent[x] = root;
      x = next;
    }
    return root;
  }
  /** Keeps the smaller index as the root, so roots are each group's first node. */
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra < rb) this.parent[rb] = ra;
    else if (rb < ra) this.parent[ra] = rb;
  }
}

/** Tarjan's algorithm, iterative. Returns vertex -> smallest vertex of its component. */
function stronglyConnected(vertices: number[], next: (v: number) => number[]): Map<number, number> {
  const indexOf = new Map<number, number>();
  const low = new Map<number, number>();
  const onStack = new Set<number>();
  const stack: number[] = [];
  const component = new Map<number, number>();
  let counter = 0;
  for (const root of vertices) {
    if (indexOf.has(root)) continue;
    const work: { v: number; edges: number[]; i: number }[] = [];
    const open = (v: number): void => {
      indexOf.set(v, counter);
      low.set(v, counter);
      counter++;
      stack.push(v);
      onStack.add(v);
      work.push({ v, edges: next(v), i: 0 });
    };
    open(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { v: number; edges: number[]; i: number };
      if (frame.i < frame.edges.length) {
        const w = frame.edges[frame.i++] as number;
        if (!indexOf.has(w)) open(w);
        else if (onStack.has(w))
          low.set(frame.v, Math.min(low.get(frame.v) as number, indexOf.get(w) as number));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.v, Math.min(low.get(parent.v) as number, low.get(frame.v) as number));
      if (low.get(frame.v) === indexOf.get(frame.v)) {
        const members: number[] = [];
        let w: number;
        do {
          w = stack.pop() as number;
          onStack.delete(w);
          members.push(w);
        } while (w !== frame.v);
        const id = Math.min(...members);
        for (const m of members) component.set(m, id);
      }
    }
  }
  return component;
}
