import { f64At, i32At, isNonEmpty, itemAt, range, type NonEmpty } from "./indices.js";
import type { Decomposition } from "./spDecomposition.js";
import type { SampleTable } from "./spMeasured.js";
import { levelsOf, type TaskDag } from "./taskDag.js";
import { setKey, type TaskMarks } from "./taskSets.js";

/** Where forced series cuts (the added constraints) may fall. */
export type CutPolicy =
  /** Anywhere: best for known durations. */
  | "free"
  /**
   * Only between topological levels, so the SP order stays inside the
   * level-by-level order: never slower than the layered chain, whatever the durations.
   */
  | "levels";

/**
 * How candidate cuts are ranked before any is tried (and which one a greedy
 * build takes).
 */
export type CutRanking =
  /** By mean(longest path in A + longest path in B): the run time if neither side needed another cut. */
  | "bound"
  /**
   * By that bound's excess over the set's own longest path (plus a small
   * share of it), per square root of the smaller side's size. The bound alone
   * favours peeling a few tasks off the set: each such cut costs little, but
   * hundreds of them add up (a greedy build at 500-1,000 random tasks ran
   * 1.7-2.4x the critical path); a balanced cut of the same excess leaves
   * halves that need fewer cuts (the greedy build then runs about 1.1x).
   */
  | "balanced";

/** Share of the set's longest path charged to every cut, so that lossless cuts still rank by balance. */
const BALANCED_CUT_CHARGE = 0.001;

/**
 * A forced series cut of a set: a down-set that runs before the rest, with
 * lower bounds on each side's run time (the mean under the guide durations of
 * its longest path: no structure of that side runs faster).
 */
export type Cut = [before: number[], after: number[], bounds: { before: number; after: number }];

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
    private readonly ranking: CutRanking = "bound",
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
    const { predStart, predList, succStart, succList } = localEdges(set, dag, marks);

    const g = this.guide.count;
    const w = this.guide.values;
    const finish = new Float64Array(m * g);
    const tail = new Float64Array(m * g);
    const meanFinish = new Float64Array(m);
    const negMeanTail = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      const base = itemAt(set, i) * g;
      const first = i32At(predStart, i);
      const end = i32At(predStart, i + 1);
      let sum = 0;
      for (let s = 0; s < g; s++) {
        let start = 0;
        for (let e = first; e < end; e++) start = Math.max(start, f64At(finish, i32At(predList, e) * g + s));
        const f = start + f64At(w, base + s);
        finish[i * g + s] = f;
        sum += f / g;
      }
      meanFinish[i] = sum;
    }
    for (let i = m - 1; i >= 0; i--) {
      const base = itemAt(set, i) * g;
      const first = i32At(succStart, i);
      const end = i32At(succStart, i + 1);
      let negSum = 0;
      for (let s = 0; s < g; s++) {
        let rest = 0;
        for (let e = first; e < end; e++) rest = Math.max(rest, f64At(tail, i32At(succList, e) * g + s));
        const t = rest + f64At(w, base + s);
        tail[i * g + s] = t;
        negSum -= t / g;
      }
      negMeanTail[i] = negSum;
    }
    const globalLevel = new Float64Array(m);
    for (let i = 0; i < m; i++) globalLevel[i] = i32At(this.level, itemAt(set, i));
    const keys: Float64Array[] = [];
    if (this.policy === "free" && !allKeys) {
      keys.push(meanFinish, negMeanTail, globalLevel);
    } else if (this.policy === "free") {
      // Longest path in edges from the set's sources (asap) and to its sinks (height).
      const asap = new Float64Array(m);
      for (let i = 0; i < m; i++) {
        let a = 0;
        for (let e = i32At(predStart, i), end = i32At(predStart, i + 1); e < end; e++)
          a = Math.max(a, f64At(asap, i32At(predList, e)) + 1);
        asap[i] = a;
      }
      const height = new Float64Array(m);
      for (let i = m - 1; i >= 0; i--) {
        let h = 0;
        for (let e = i32At(succStart, i), end = i32At(succStart, i + 1); e < end; e++)
          h = Math.max(h, f64At(height, i32At(succList, e)) + 1);
        height[i] = h;
      }
      keys.push(
        meanFinish,
        negMeanTail,
        globalLevel,
        asap,
        height.map((h) => -h),
        asap.map((a, i) => a - f64At(height, i)),
      );
    } else {
      keys.push(globalLevel);
    }
    return { set, predStart, predList, finish, tail, orders: keys.map(thresholds) };
  }

  /**
   * Splits into a down-set A and the rest B, best first by the ranking (see
   * CutRanking), each with its sides' bounds.
   */
  best(a: SetAnalysis, breadth: number): NonEmpty<Cut> {
    const { set, finish, tail } = a;
    const m = set.length;
    const g = this.guide.count;
    // The best `breadth * 2` thresholds (some may give the same split), cheapest first;
    // ties keep the earlier order and position.
    const keep = breadth * 2;
    const top: { cost: number; order: number[]; at: number }[] = [];
    const cost = new Float64Array(m);
    const suffix = new Float64Array(m + 1);
    // The set's own longest path (mean under the guide), rounded like the costs below.
    let whole = 0;
    for (let s = 0; s < g; s++) {
      let latest = 0;
      for (let i = 0; i < m; i++) latest = Math.max(latest, f64At(finish, i * g + s));
      whole += latest / g;
    }
    whole = Math.round(whole * 1e6) / 1e6;
    for (const { order, boundaries } of a.orders) {
      cost.fill(0);
      for (let s = 0; s < g; s++) {
        // suffix[i]: the longest tail among order[i..]; prefix: the latest finish among order[..i].
        let rest = 0;
        suffix[m] = rest;
        for (let i = m - 1; i >= 0; i--) {
          rest = Math.max(rest, f64At(tail, itemAt(order, i) * g + s));
          suffix[i] = rest;
        }
        let prefix = 0;
        for (let i = 0; i < m - 1; i++) {
          prefix = Math.max(prefix, f64At(finish, itemAt(order, i) * g + s));
          cost[i] = f64At(cost, i) + (prefix + f64At(suffix, i + 1));
        }
      }
      for (let b = 1; b < boundaries.length - 1; b++) {
        const at = itemAt(boundaries, b) - 1;
        // Rounded so that ties break by order, not by floating-point noise.
        let c = Math.round((f64At(cost, at) / g) * 1e6) / 1e6;
        if (this.ranking === "balanced") {
          const smaller = Math.min(at + 1, m - at - 1);
          c = (Math.max(0, c - whole) + BALANCED_CUT_CHARGE * whole) / Math.sqrt(smaller);
        }
        const worst = top.length === keep ? top[keep - 1] : undefined;
        if (worst !== undefined && c >= worst.cost) continue;
        // After the last kept threshold that is not dearer (a tie goes after the earlier one).
        const place = top.findLastIndex((t) => !(t.cost > c)) + 1;
        top.splice(place, 0, { cost: c, order, at });
        if (top.length > keep) top.pop();
      }
    }
    const result: Cut[] = [];
    const seen = new Set<string>();
    const inBefore = new Uint8Array(m);
    for (const f of top) {
      if (result.length >= breadth) break;
      inBefore.fill(0);
      for (let i = 0; i <= f.at; i++) inBefore[itemAt(f.order, i)] = 1;
      const before: number[] = [];
      const after: number[] = [];
      set.forEach((v, i) => (inBefore[i] ? before : after).push(v));
      const key = setKey(0, before);
      if (seen.has(key)) continue;
      seen.add(key);
      result.push([before, after, sideBounds(a, g, inBefore)]);
    }
    if (!isNonEmpty(result)) throw new Error("internal: no series cut in a connected set");
    return result;
  }
}

/** Mean over the guide samples of the longest path in each side (finish in the before side, tail in the after side). */
function sideBounds(a: SetAnalysis, g: number, inBefore: Uint8Array): { before: number; after: number } {
  let before = 0;
  let after = 0;
  for (let s = 0; s < g; s++) {
    let latest = 0;
    let longest = 0;
    for (let i = 0; i < a.set.length; i++) {
      if (inBefore[i]) latest = Math.max(latest, f64At(a.finish, i * g + s));
      else longest = Math.max(longest, f64At(a.tail, i * g + s));
    }
    before += latest / g;
    after += longest / g;
  }
  return { before, after };
}

/**
 * Edges inside a set, by place in it, compressed: the predecessors of i are
 * predList[predStart[i] .. predStart[i + 1]), its successors likewise. `marks`
 * holds the set.
 */
function localEdges(
  set: readonly number[],
  dag: TaskDag,
  marks: TaskMarks,
): { predStart: Int32Array; predList: Int32Array; succStart: Int32Array; succList: Int32Array } {
  const m = set.length;
  const predStart = new Int32Array(m + 1);
  const succCount = new Int32Array(m);
  const preds: number[] = [];
  for (let i = 0; i < m; i++) {
    predStart[i] = preds.length;
    for (const p of dag.preds[itemAt(set, i)] ?? []) {
      if (!marks.has(p)) continue;
      const l = marks.position(p);
      preds.push(l);
      succCount[l] = i32At(succCount, l) + 1;
    }
  }
  predStart[m] = preds.length;
  const predList = Int32Array.from(preds);
  const succStart = new Int32Array(m + 1);
  for (let i = 0; i < m; i++) succStart[i + 1] = i32At(succStart, i) + i32At(succCount, i);
  const succList = new Int32Array(predList.length);
  // Next free slot in each task's successor list.
  const fill = succStart.slice(0, m);
  for (let c = 0; c < m; c++) {
    for (let e = i32At(predStart, c), end = i32At(predStart, c + 1); e < end; e++) {
      const p = i32At(predList, e);
      const slot = i32At(fill, p);
      fill[p] = slot + 1;
      succList[slot] = c;
    }
  }
  return { predStart, predList, succStart, succList };
}

/** The places of a set sorted by a key, and where the key's value changes (with 0 and the end). */
function thresholds(key: Float64Array): { order: number[]; boundaries: number[] } {
  const order = sortedByKey(key);
  const boundaries = [0];
  for (let i = 1; i < order.length; i++) {
    if (f64At(key, itemAt(order, i - 1)) !== f64At(key, itemAt(order, i))) boundaries.push(i);
  }
  boundaries.push(order.length);
  return { order, boundaries };
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
  if (!integral || hi - lo > 4 * n) return range(n).sort((x, y) => f64At(key, x) - f64At(key, y) || x - y);
  // start[b]: where the next index with key lo + b goes (after counting, prefix sums of the counts).
  const start = new Int32Array(hi - lo + 2);
  for (const x of key) start[x - lo + 1] = i32At(start, x - lo + 1) + 1;
  for (let b = 1; b < start.length; b++) start[b] = i32At(start, b) + i32At(start, b - 1);
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const b = f64At(key, i) - lo;
    const at = i32At(start, b);
    start[b] = at + 1;
    order[at] = i;
  }
  return order;
}
