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
        .slice(boundaries[i], boundaries[j])
        .map((l) => set[l] as number)
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
      const lo = boundaries[i] as number;
      spans.fill(0);
      for (let jj = i + 1; jj <= maxEnd[i]!; jj++) {
        for (let p = boundaries[jj - 1] as number; p < (boundaries[jj] as number); p++) {
          const l = order[p] as number;
          const base = (set[l] as number) * k;
          start.fill(0);
          for (let e = predStart[l]!; e < predStart[l + 1]!; e++) {
            const q = predList[e]!;
            if (pos[q]! < lo) continue;
            for (let s = 0; s < k; s++) if (finish[q * k + s]! > start[s]!) start[s] = finish[q * k + s]!;
          }
          for (let s = 0; s < k; s++) {
            const f = start[s]! + w[base + s]!;
            finish[l * k + s] = f;
            if (f > spans[s]!) spans[s] = f;
          }
        }
        decomposition.visited += boundaries[jj]! - boundaries[jj - 1]!;
        const cost = best[i]! + mean(spans);
        if (cost < best[jj]! - 1e-9) {
          best[jj] = cost;
          from[jj] = i;
        }
      }
    }
    const cuts: number[] = [];
    for (let at = units; at > 0; at = from[at]!) cuts.push(at);
    cuts.push(0);
    cuts.reverse();
    chains.push(cuts.slice(1).map((end, c) => slab(cuts[c]!, end)));
  }
  return chains;
}
