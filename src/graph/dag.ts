import { ReadyQueue } from "./readyQueue.js";
import { UserError } from "../errors.js";
import type { PipelineGraph } from "./types.js";

/**
 * Kedro transcoding: `x@pandas` and `x@spark` are one dataset read two ways,
 * so edges follow the name before `@`.
 */
export function datasetKey(name: string): string {
  const at = name.indexOf("@");
  return at > 0 ? name.slice(0, at) : name;
}

/** Dataset (transcoding stripped) -> the node that writes it. */
export function producersOf(graph: PipelineGraph): Map<string, string> {
  const producers = new Map<string, string>();
  for (const node of graph.nodes) {
    for (const raw of node.outputs) {
      const output = datasetKey(raw);
      const previous = producers.get(output);
      if (previous !== undefined && previous !== node.name) {
        throw new UserError(
          `Dataset '${output}' is produced by two nodes: '${previous}' and '${node.name}'.`,
          { hint: "Kedro requires one producer per dataset; rename one of the outputs." },
        );
      }
      producers.set(output, node.name);
    }
  }
  return producers;
}

/** Node name -> names of the nodes it depends on (sorted, deduplicated). */
export function dependenciesOf(graph: PipelineGraph): Map<string, string[]> {
  const producers = producersOf(graph);
  const deps = new Map<string, string[]>();
  for (const node of graph.nodes) {
    const parents = new Set<string>();
    for (const input of node.inputs) {
      const p = producers.get(datasetKey(input));
      if (p !== undefined && p !== node.name) parents.add(p);
    }
    deps.set(node.name, [...parents].sort());
  }
  return deps;
}

/**
 * Node names in a topological order, keeping the graph's own order where it is
 * already valid (Kedro's). Throws a UserError naming a cycle if there is one.
 */
export function topologicalOrder(graph: PipelineGraph): string[] {
  const deps = dependenciesOf(graph);
  const indegree = new Map<string, number>();
  const children = new Map<string, string[]>();
  for (const node of graph.nodes) {
    indegree.set(node.name, deps.get(node.name)?.length ?? 0);
    children.set(node.name, []);
  }
  for (const [child, parents] of deps) for (const p of parents) children.get(p)?.push(child);
  const position = new Map(graph.nodes.map((n, i) => [n.name, i]));
  const ready = new ReadyQueue<string>((name) => position.get(name) ?? 0);
  for (const n of graph.nodes) if (indegree.get(n.name) === 0) ready.push(n.name);
  const order: string[] = [];
  while (ready.size > 0) {
    const next = ready.pop() as string;
    order.push(next);
    for (const c of children.get(next) ?? []) {
      const d = (indegree.get(c) ?? 0) - 1;
      indegree.set(c, d);
      if (d === 0) ready.push(c);
    }
  }
  if (order.length < graph.nodes.length) {
    const stuck = graph.nodes.map((n) => n.name).filter((n) => !order.includes(n));
    throw new UserError(`The pipeline has a cycle among nodes: ${findCycle(stuck, deps).join(" -> ")}.`, {
      hint: "A node cannot (indirectly) consume its own output; break the cycle in the pipeline definition.",
    });
  }
  return order;
}

function findCycle(stuck: string[], deps: Map<string, string[]>): string[] {
  const inStuck = new Set(stuck);
  let current = stuck[0] as string;
  const seen: string[] = [];
  while (!seen.includes(current)) {
    seen.push(current);
    const next = (deps.get(current) ?? []).find((p) => inStuck.has(p));
    if (next === undefined) break;
    current = next;
  }
  const cycle = seen.slice(seen.indexOf(current));
  return [...cycle.reverse(), cycle[0] as string];
}
