/**
 * Series-parallel (SP) structures over tasks: the nested Parallel/sequence
 * shapes Step Functions can express, and their run time under durations.
 */

export type SpTree =
  | { kind: "task"; task: number }
  | { kind: "series"; children: SpTree[] }
  | { kind: "parallel"; children: SpTree[] };

export function task(index: number): SpTree {
  return { kind: "task", task: index };
}

/** A series composition, flattened (no series directly inside a series). */
export function series(children: SpTree[]): SpTree {
  return composition("series", children);
}

/** A parallel composition, flattened (no parallel directly inside a parallel). */
export function parallel(children: SpTree[]): SpTree {
  return composition("parallel", children);
}

function composition(kind: "series" | "parallel", children: SpTree[]): SpTree {
  const flat: SpTree[] = [];
  for (const c of children) {
    if (c.kind === kind) flat.push(...c.children);
    else flat.push(c);
  }
  const only = flat.length === 1 ? flat[0] : undefined;
  return only ?? { kind, children: flat };
}

/** Run time of an SP structure: sums along series, maxima across parallel branches. */
export function makespan(tree: SpTree, durations: ArrayLike<number>): number {
  switch (tree.kind) {
    case "task":
      return durations[tree.task] ?? 0;
    case "series": {
      let total = 0;
      for (const c of tree.children) total += makespan(c, durations);
      return total;
    }
    case "parallel": {
      let longest = 0;
      for (const c of tree.children) longest = Math.max(longest, makespan(c, durations));
      return longest;
    }
  }
}

export function meanMakespan(tree: SpTree, samples: readonly Float64Array[]): number {
  let total = 0;
  for (const s of samples) total += makespan(tree, s);
  return total / Math.max(1, samples.length);
}

/** The tasks of a tree in the order the structure lists them. */
export function tasksOf(tree: SpTree, out: number[] = []): number[] {
  if (tree.kind === "task") out.push(tree.task);
  else for (const c of tree.children) tasksOf(c, out);
  return out;
}
