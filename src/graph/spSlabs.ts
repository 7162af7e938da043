import { f64At, i32At, itemAt } from "./indices.js";
import type { SetAnalysis } from "./spCuts.js";
import type { Decomposition } from "./spDecomposition.js";
import { mean, type SampleTable } from "./spMeasured.js";

/**
 * For each candidate order with at most `maxUnits` distinct key values, the
 * cheapest chain of series-parallel slabs (runs of consecutive key values),
 * by dynamic programming: a slab is exact, so its cost under the samples is
 * its critical path, computed without building it.
 */
export function slabChains(
  a: SetAnalysis,
  decomposition: Decomposition,
  samples: SampleTable,
  maxUnits: number,
): number[][][] {
  const { set, predStart, predList } = a;
  const k = samples.count;
  const w = samples.values;
  const m = set.length;
  const chains: number[][][] = [];
  const pos = new Int32Array(m);
  const finish = new Float64Array(m * k);
  const spans = new Float64Array(k);
  const start = new Float64Array(k);
  for (const { order, boundaries } of a.orders) {
    const units = boundaries.length - 1;
    if (units > maxUnits) continue;
    order.forEach((l, i) => (pos[l] = i));
    const slab = (i: number, j: number): number[] =>
      order
        .slice(itemAt(boundaries, i), itemAt(boundaries, j))
        .map((l) => itemAt(set, l))
        .sort((x, y) => x - y);
    // maxEnd[i]: the furthest boundary j such that slab(i, j) is series-parallel
    // (a slab containing a non-SP one is not SP either, so this never decreases).
    const maxEnd = new Int32Array(units);
    let j = 1;
    let feasible = true;
    for (let i = 0; i < units && feasible; i++) {
      j = Math.max(j, i + 1);
      if (j === i + 1 && !decomposition.isSeriesParallel(slab(i, j))) feasible = false;
      while (
        feasible &&
        j < units &&
        !(i === 0 && j + 1 === units) &&
        decomposition.isSeriesParallel(slab(i, j + 1))
      )
        j++;
      maxEnd[i] = j;
    }
    if (!feasible) continue;
    const best = new Float64Array(units + 1).fill(Infinity);
    const from = new Int32Array(units + 1);
    best[0] = 0;
    for (let i = 0; i < units; i++) {
      const lo = itemAt(boundaries, i);
      const bestBefore = f64At(best, i);
      spans.fill(0);
      // Grow the slab from boundary i one unit at a time, finishing each task within the slab.
      for (let jj = i + 1; jj <= i32At(maxEnd, i); jj++) {
        const unitStart = itemAt(boundaries, jj - 1);
        const unitEnd = itemAt(boundaries, jj);
        for (let p = unitStart; p < unitEnd; p++) {
          const l = itemAt(order, p);
          const base = itemAt(set, l) * k;
          start.fill(0);
          for (let e = i32At(predStart, l), end = i32At(predStart, l + 1); e < end; e++) {
            const q = i32At(predList, e);
            if (i32At(pos, q) < lo) continue;
            for (let s = 0; s < k; s++) {
              const f = f64At(finish, q * k + s);
              if (f > f64At(start, s)) start[s] = f;
            }
          }
          for (let s = 0; s < k; s++) {
            const f = f64At(start, s) + f64At(w, base + s);
            finish[l * k + s] = f;
            if (f > f64At(spans, s)) spans[s] = f;
          }
        }
        decomposition.visited += unitEnd - unitStart;
        const cost = bestBefore + mean(spans);
        if (cost < f64At(best, jj) - 1e-9) {
          best[jj] = cost;
          from[jj] = i;
        }
      }
    }
    // Walk the chain back from the last boundary, then cut slabs between consecutive boundaries.
    const cuts: number[] = [];
    for (let at = units; at > 0; at = i32At(from, at)) cuts.push(at);
    cuts.push(0);
    cuts.reverse();
    const chain: number[][] = [];
    for (let c = 1; c < cuts.length; c++) chain.push(slab(itemAt(cuts, c - 1), itemAt(cuts, c)));
    chains.push(chain);
  }
  return chains;
}
