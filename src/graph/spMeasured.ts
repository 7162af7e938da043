import { f64At } from "./indices.js";
import { parallel, series, task, type SpTree } from "./spTree.js";

/** Durations of every task under `count` samples, flat: values[task * count + sample]. */
export interface SampleTable {
  readonly values: Float64Array;
  readonly count: number;
}

export function sampleTable(samples: readonly Float64Array[], size: number): SampleTable {
  const count = samples.length;
  const values = new Float64Array(size * count);
  samples.forEach((w, s) => {
    for (let v = 0; v < size; v++) values[v * count + s] = w[v] ?? 0;
  });
  return { values, count };
}

/** One task's durations, one per sample. */
export function taskSpans(table: SampleTable, v: number): Float64Array {
  return table.values.slice(v * table.count, (v + 1) * table.count);
}

/** A structure with its makespan under each sample, so that candidates compare without walking trees. */
export interface MeasuredTree {
  tree: SpTree;
  /** Makespan of `tree` under each sample. */
  spans: Float64Array;
  cost: number;
}

export function measuredTask(table: SampleTable, v: number): MeasuredTree {
  const spans = taskSpans(table, v);
  return { tree: task(v), spans, cost: mean(spans) };
}

export function measuredComposition(
  kind: "series" | "parallel",
  parts: readonly MeasuredTree[],
  samples: number,
): MeasuredTree {
  const spans = new Float64Array(samples);
  const fold = kind === "series" ? addSpans : maxSpans;
  for (const p of parts) fold(spans, p.spans);
  const trees = parts.map((p) => p.tree);
  return { tree: kind === "series" ? series(trees) : parallel(trees), spans, cost: mean(spans) };
}

/** Series: spans[s] += more[s] under every sample. */
export function addSpans(spans: Float64Array, more: Float64Array): void {
  for (let s = 0; s < spans.length; s++) spans[s] = f64At(spans, s) + f64At(more, s);
}

/** Parallel: spans[s] = max(spans[s], more[s]) under every sample. */
export function maxSpans(spans: Float64Array, more: Float64Array): void {
  for (let s = 0; s < spans.length; s++) {
    const x = f64At(more, s);
    if (x > f64At(spans, s)) spans[s] = x;
  }
}

export function mean(values: Float64Array): number {
  let total = 0;
  for (const v of values) total += v;
  return total / Math.max(1, values.length);
}
