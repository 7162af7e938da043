import { range } from "./indices.js";
import type { Decomposition } from "./spDecomposition.js";
import type { SampleTable } from "./spMeasured.js";
import { levelsOf } from "./taskDag.js";
import { setKey } from "./taskSets.js";

/** Where forced series cuts (the added constraints) may fall. */
export type CutPolicy =
  /** Anywhere: best for known durations. */
  | "free"
  /**
   * Only between topological levels, so the SP order stays inside the
   * level-by-level order: never slower than the layered chain, whatever the durations.
   */
  | "levels";

/** A forced series cut of a set: a down-set that runs before the rest. */
export type Cut = [before: number[], after: number[]];

export interface SetAnalysis {
  set: number[];
  /** Predecessors inside the set, by local index: predList[predStart[i] .. predStart[i + 1]). */
  predStart: Int32Array;
  predList: Int32Array;
  /** Per guide sample g: earliest finish and longest tail (task included) at [i * guides + g]. */
  finish: Float64Array;
  tail: Float64Array;
  orders: { order: number[]; boundaries: number[] }[];
}

/** Candidate cuts of connected sets that have no series factor, ranked under the guide durations. */
export class CutFinder {
  private readonly level: Int32Array;

  constructor(
    private readonly decomposition: Decomposition,
    private readonly guide: SampleTable,
    private readonly policy: CutPolicy,
  ) {
    this.level = levelsOf(decomposition.dag);
  }

  /**
   * Candidate orders of a set: keys that never decrease along an edge, so that
   * every threshold between two distinct key values leaves a down-set before it.
   * Also the guide durations' earliest finish and longest tail inside the set.
   */
  analyse(set: number[], allKeys: boolean): SetAnalysis {
    const m = set.length;
    const { dag, marks } = this.decomposition;
    this.decomposition.visited += m;
    marks.enter(set);
    // Local adjacency, compressed: predecessors then successors inside the set.
    const predStart = new Int32Array(m + 1);
    const succCount = new Int32Array(m);
    const preds: number[] = [];
    for (let i = 0; i < m; i++) {
      predStart[i] = preds.length;
      for (const p of dag.preds[set[i] as number] ?? []) {
        if (!marks.has(p)) continue;
        const l = marks.position(p);
        preds.push(l);
        succCount[l]!++;
      }
    }
    predStart[m] = preds.length;
    const predList = Int32Array.from(preds);
    const succStart = new Int32Array(m + 1);
    for (let i = 0; i < m; i++) succStart[i + 1] = succStart[i]! + succCount[i]!;
    const succList = new Int32Array(predList.length);
    const fill = succStart.slice(0, m);
    for (let c = 0; c < m; c++) {
      for (let e = predStart[c]!; e < predStart[c + 1]!; e++) succList[fill[predList[e]!]!++] = c;
    }

    const g = this.guide.count;
    const w = this.guide.values;
    const finish = new Float64Array(m * g);
    const tail = new Float64Array(m * g);
    const meanFinish = new Float64Array(m);
    const negMeanTail = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      const base = (set[i] as number) * g;
      for (let s = 0; s < g; s++) {
        let start = 0;
        for (let e = predStart[i]!; e < predStart[i + 1]!; e++)
          start = Math.max(start, finish[predList[e]! * g + s]!);
        const f = start + w[base + s]!;
        finish[i * g + s] = f;
        meanFinish[i]! += f / g;
      }
    }
    for (let i = m - 1; i >= 0; i--) {
      const base = (set[i] as number) * g;
      for (let s = 0; s < g; s++) {
        let rest = 0;
        for (let e = succStart[i]!; e < succStart[i + 1]!; e++)
          rest = Math.max(rest, tail[succList[e]! * g + s]!);
        const t = rest + w[base + s]!;
        tail[i * g + s] = t;
        negMeanTail[i]! -= t / g;
      }
    }
    const globalLevel = new Float64Array(m);
    for (let i = 0; i < m; i++) globalLevel[i] = this.level[set[i]!]!;
    const keys: Float64Array[] = [];
    if (this.policy === "free" && !allKeys) {
      keys.push(meanFinish, negMeanTail, globalLevel);
    } else if (this.policy === "free") {
      const asap = new Float64Array(m);
      for (let i = 0; i < m; i++) {
        for (let e = predStart[i]!; e < predStart[i + 1]!; e++)
          asap[i] = Math.max(asap[i]!, asap[predList[e]!]! + 1);
      }
      const height = new Float64Array(m);
      for (let i = m - 1; i >= 0; i--) {
        for (let e = succStart[i]!; e < succStart[i + 1]!; e++)
          height[i] = Math.max(height[i]!, height[succList[e]!]! + 1);
      }
      keys.push(
        meanFinish,
        negMeanTail,
        globalLevel,
        asap,
        height.map((h) => -h),
        asap.map((a, i) => a - height[i]!),
      );
    } else {
      keys.push(globalLevel);
    }
    const orders = keys.map((key) => {
      const order = sortedByKey(key);
      const boundaries = [0];
      for (let i = 1; i < m; i++) if (key[order[i - 1]!]! !== key[order[i]!]!) boundaries.push(i);
      boundaries.push(m);
      return { order, boundaries };
    });
    return { set, predStart, predList, finish, tail, orders };
  }

  /**
   * Splits into a down-set A and the rest B, best first by
   * mean(longest path in A + longest path in B): the run time if both sides
   * needed no further cuts.
   */
  best(a: SetAnalysis, breadth: number): Cut[] {
    const { set, finish, tail } = a;
    const m = set.length;
    const g = this.guide.count;
    // The best `breadth * 2` thresholds (some may give the same split), cheapest first;
    // ties keep the earlier order and position.
    const keep = breadth * 2;
    const top: { cost: number; order: number[]; at: number }[] = [];
    const cost = new Float64Array(m);
    const suffix = new Float64Array(m + 1);
    for (const { order, boundaries } of a.orders) {
      cost.fill(0);
      for (let s = 0; s < g; s++) {
        suffix[m] = 0;
        for (let i = m - 1; i >= 0; i--) suffix[i] = Math.max(suffix[i + 1]!, tail[order[i]! * g + s]!);
        let prefix = 0;
        for (let i = 0; i < m - 1; i++) {
          prefix = Math.max(prefix, finish[order[i]! * g + s]!);
          cost[i]! += prefix + suffix[i + 1]!;
        }
      }
      for (let b = 1; b < boundaries.length - 1; b++) {
        const at = boundaries[b]! - 1;
        // Rounded so that ties break by order, not by floating-point noise.
        const c = Math.round((cost[at]! / g) * 1e6) / 1e6;
        if (top.length === keep && c >= top[keep - 1]!.cost) continue;
        let i = top.length;
        while (i > 0 && top[i - 1]!.cost > c) i--;
        top.splice(i, 0, { cost: c, order, at });
        if (top.length > keep) top.pop();
      }
    }
    if (top.length === 0) throw new Error("internal: no series cut in a connected set");
    const result: Cut[] = [];
    const seen = new Set<string>();
    const inBefore = new Uint8Array(m);
    for (const f of top) {
      if (result.length >= breadth) break;
      inBefore.fill(0);
      for (let i = 0; i <= f.at; i++) inBefore[f.order[i]!] = 1;
      const before: number[] = [];
      const after: number[] = [];
      for (let i = 0; i < m; i++) (inBefore[i] ? before : after).push(set[i] as number);
      const key = setKey(0, before);
      if (seen.has(key)) continue;
      seen.add(key);
      result.push([before, after]);
    }
    return result;
  }
}

/** Indices 0..n-1 by key, ties by index; counting sort when the keys are small integers (levels). */
function sortedByKey(key: Float64Array): number[] {
  const n = key.length;
  let lo = Infinity;
  let hi = -Infinity;
  let integral = true;
  for (const x of key) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
    if (integral && !Number.isInteger(x)) integral = false;
  }
  if (!integral || hi - lo > 4 * n) return range(n).sort((x, y) => key[x]! - key[y]! || x - y);
  const start = new Int32Array(hi - lo + 2);
  for (const x of key) start[x - lo + 1]!++;
  for (let b = 1; b < start.length; b++) start[b]! += start[b - 1]!;
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) order[start[key[i]! - lo]!++] = i;
  return order;
}
