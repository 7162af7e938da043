import { parallel, series, task, type SpTree } from "./spTree.js";

/** A DAG over tasks numbered 0..size-1 in a topological order (every edge goes up). */
export interface TaskDag {
  size: number;
  preds: number[][];
  succs: number[][];
}

/** Longest path through the DAG (the lower bound for any structure). */
export function criticalPath(dag: TaskDag, durations: ArrayLike<number>): number {
  const finish = new Float64Array(dag.size);
  let longest = 0;
  for (let v = 0; v < dag.size; v++) {
    let start = 0;
    for (const p of dag.preds[v] ?? []) start = Math.max(start, finish[p] ?? 0);
    finish[v] = start + (durations[v] ?? 0);
    longest = Math.max(longest, finish[v] ?? 0);
  }
  return longest;
}

/** Topological level of each task: 0 for sources, else 1 + the deepest parent. */
export function levelsOf(dag: TaskDag): Int32Array {
  const level = new Int32Array(dag.size);
  for (let v = 0; v < dag.size; v++) {
    let l = 0;
    for (const p of dag.preds[v] ?? []) l = Math.max(l, (level[p] ?? 0) + 1);
    level[v] = l;
  }
  return level;
}

/** The seed's shape: one Parallel per topological level, chained. */
export function layeredTree(dag: TaskDag): SpTree {
  const level = levelsOf(dag);
  const byLevel: number[][] = [];
  for (let v = 0; v < dag.size; v++) {
    const l = level[v] ?? 0;
    (byLevel[l] ??= []).push(v);
  }
  return series(byLevel.map((tasks) => parallel(tasks.map(task))));
}
