/**
 * Series-parallel forms of a task DAG. Step Functions can only express nested
 * Parallel/sequence structures, so a pipeline runs as a series-parallel (SP)
 * order containing the DAG's own order. For an SP pipeline that order is the
 * DAG itself; for any other, constraints must be added, and we choose them to
 * keep the expected run time low.
 */

/** A DAG over tasks numbered 0..size-1 in a topological order (every edge goes up). */
export interface TaskDag {
  size: number;
  preds: number[][];
  succs: number[][];
}

export type SpTree =
  | { kind: "task"; task: number }
  | { kind: "series"; children: SpTree[] }
  | { kind: "parallel"; children: SpTree[] };

/** Where forced series cuts (the added constraints) may fall. */
export type CutPolicy =
  /** Anywhere: best for known durations. */
  | "free"
  /**
   * Only between topological levels, so the SP order stays inside the
   * level-by-level order: never slower than the layered chain, whatever the durations.
   */
  | "levels";

export interface SeriesParallelOptions {
  /** Task durations, one array per scenario; the search minimises the mean run time over them. */
  samples: Float64Array[];
  /** Durations that rank candidate cuts before any is tried (default: `samples`). */
  guide?: Float64Array[];
  cuts: CutPolicy;
  /** How many of the best-ranked cuts to try by building both sides (1 = greedy). */
  breadth?: number;
  /** How deep such trials nest. */
  depth?: number;
  /**
   * Also try chains of series-parallel slabs along orders with at most this
   * many distinct key values (0 = never), in the final structure only or also
   * inside trials.
   */
  slabs?: { maxUnits: number; inTrials: boolean };
  /** Tasks analysed after which the search stops trying alternatives, to bound compile time. */
  budget?: number;
  /** Sets of at most this many tasks are solved exactly, over all their down-sets (at most 20). */
  exactUpTo?: number;
}

export function task(index: number): SpTree {
  return { kind: "task", task: index };
}

/** A series composition, flattened (no series directly inside a series). */
export function series(children: SpTree[]): SpTree {
  const flat: SpTree[] = [];
  for (const c of children) {
    if (c.kind === "series") flat.push(...c.children);
    else flat.push(c);
  }
  return flat.length === 1 ? (flat[0] as SpTree) : { kind: "series", children: flat };
}

/** A parallel composition, flattened (no parallel directly inside a parallel). */
export function parallel(children: SpTree[]): SpTree {
  const flat: SpTree[] = [];
  for (const c of children) {
    if (c.kind === "parallel") flat.push(...c.children);
    else flat.push(c);
  }
  return flat.length === 1 ? (flat[0] as SpTree) : { kind: "parallel", children: flat };
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

/** The tasks of a tree in the order the structure lists them. */
export function tasksOf(tree: SpTree, out: number[] = []): number[] {
  if (tree.kind === "task") out.push(tree.task);
  else for (const c of tree.children) tasksOf(c, out);
  return out;
}

/**
 * The DAG's own order when it is series-parallel, or undefined when it is not
 * (some pair of tasks would have to gain a constraint).
 */
export function exactSeriesParallel(dag: TaskDag): SpTree | undefined {
  const d = new Decomposer(dag, { samples: [], cuts: "levels" });
  return d.exact(range(dag.size));
}

/**
 * An SP structure containing the DAG's order, with a low mean run time over
 * the samples. Recursively: independent parts run in parallel; exact series
 * factors run in sequence; a connected set with neither is cut into a down-set
 * A and the rest B (A runs before B, the added constraints). Candidate cuts
 * are thresholds of keys that never decrease along an edge (earliest finish,
 * longest tail, levels), ranked by mean(longest path in A + longest path in B);
 * the best `breadth` are tried by building both sides (`depth` levels deep),
 * chains of exact slabs are compared too, and small sets are solved over all
 * their down-sets.
 */
export function seriesParallelize(dag: TaskDag, options: SeriesParallelOptions): SpTree {
  return new Decomposer(dag, options).build(range(dag.size)).tree;
}

/**
 * Several searches over the same durations and cut policy (differing in
 * breadth, depth, budget...), sharing the greedy builds their trials make.
 */
export function seriesParallelizeEach(
  dag: TaskDag,
  base: Pick<SeriesParallelOptions, "samples" | "guide" | "cuts">,
  variants: Omit<SeriesParallelOptions, "samples" | "guide" | "cuts">[],
): SpTree[] {
  const shared: Memo = new Map<string, MemoEntry[]>();
  return variants.map((v) => new Decomposer(dag, { ...base, ...v }, shared).build(range(dag.size)).tree);
}

function range(n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

type MemoEntry = { set: number[]; built: Built };
type Memo = Map<string, MemoEntry[]>;

interface Built {
  tree: SpTree;
  /** Makespan of `tree` under each sample. */
  spans: Float64Array;
  cost: number;
}

interface Analysis {
  set: number[];
  /** Predecessors inside the set, by local index: predList[predStart[i] .. predStart[i + 1]). */
  predStart: Int32Array;
  predList: Int32Array;
  /** Per guide sample g: earliest finish and longest tail (task included) at [i * guides + g]. */
  finish: Float64Array;
  tail: Float64Array;
  orders: { order: number[]; boundaries: number[] }[];
}

/** Key of a task set for the memo: two 32-bit FNV-1a hashes and the size. */
function setKey(depth: number, set: readonly number[]): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ depth;
  for (const v of set) {
    h1 = Math.imul(h1 ^ v, 0x01000193);
    h2 = Math.imul(h2 ^ (v + 0x9e3779b9), 0x85ebca6b);
    h2 ^= h2 >>> 13;
  }
  return `${depth}:${set.length}:${h1 >>> 0}:${h2 >>> 0}`;
}

class Decomposer {
  private readonly words: number;
  /** desc[v * words ..] = bitset of the tasks reachable from v. */
  private readonly desc: Uint32Array;
  private readonly level: Int32Array;
  private readonly mark: Int32Array;
  private readonly local: Int32Array;
  /** Durations per sample, flat: [v * k + s]. */
  private readonly weights: Float64Array;
  private readonly k: number;
  private readonly guideWeights: Float64Array;
  private readonly guides: number;
  private readonly memo: Memo;
  /** Greedy builds (depth 0, below the final depth) depend only on the set and the durations: shareable. */
  private readonly greedyMemo: Memo;
  private stamp = 0;
  private work = 0;

  constructor(
    private readonly dag: TaskDag,
    private readonly options: SeriesParallelOptions,
    shared?: Memo,
  ) {
    this.memo = new Map<string, MemoEntry[]>();
    this.greedyMemo = shared ?? new Map<string, MemoEntry[]>();
    const n = dag.size;
    this.words = Math.max(1, Math.ceil(n / 32));
    this.desc = new Uint32Array(n * this.words);
    for (let v = n - 1; v >= 0; v--) {
      const base = v * this.words;
      for (const s of dag.succs[v] ?? []) {
        const sb = s * this.words;
        for (let w = 0; w < this.words; w++) this.desc[base + w]! |= this.desc[sb + w]!;
        this.desc[base + (s >>> 5)]! |= 1 << (s & 31);
      }
    }
    this.level = levelsOf(dag);
    this.mark = new Int32Array(n);
    this.local = new Int32Array(n);
    const samples = options.samples.length > 0 ? options.samples : [new Float64Array(n).fill(1)];
    const guide = options.guide && options.guide.length > 0 ? options.guide : samples;
    [this.weights, this.k] = [flatten(samples, n), samples.length];
    [this.guideWeights, this.guides] = [flatten(guide, n), guide.length];
  }

  /** Exact decomposition, or undefined if the set is not series-parallel. */
  exact(set: number[]): SpTree | undefined {
    if (set.length === 1) return task(set[0] as number);
    const comps = this.components(set);
    const parts = comps.length > 1 ? comps : this.seriesFactors(set);
    if (parts.length === 1) return undefined;
    const children: SpTree[] = [];
    for (const p of parts) {
      const c = this.exact(p);
      if (c === undefined) return undefined;
      children.push(c);
    }
    return comps.length > 1 ? parallel(children) : series(children);
  }

  build(set: number[], depth = this.options.depth ?? 0): Built {
    const key = setKey(depth, set);
    const memo = depth === 0 && depth !== (this.options.depth ?? 0) ? this.greedyMemo : this.memo;
    let entries = memo.get(key);
    // The key is a hash: check the set itself, so a collision costs time, never correctness.
    const hit = entries?.find((e) => e.set.length === set.length && e.set.every((v, i) => v === set[i]));
    if (hit) return hit.built;
    const built = this.buildUncached(set, depth);
    if (!entries) memo.set(key, (entries = []));
    entries.push({ set, built });
    return built;
  }

  private leaf(v: number): Built {
    const spans = this.weights.slice(v * this.k, (v + 1) * this.k);
    return { tree: task(v), spans, cost: mean(spans) };
  }

  private combine(kind: "series" | "parallel", parts: Built[]): Built {
    const spans = new Float64Array(this.k);
    for (const p of parts) {
      const ps = p.spans;
      if (kind === "series") for (let s = 0; s < spans.length; s++) spans[s]! += ps[s]!;
      else for (let s = 0; s < spans.length; s++) if (ps[s]! > spans[s]!) spans[s] = ps[s]!;
    }
    const trees = parts.map((p) => p.tree);
    return { tree: kind === "series" ? series(trees) : parallel(trees), spans, cost: mean(spans) };
  }

  private buildUncached(set: number[], depth: number): Built {
    if (set.length === 1) return this.leaf(set[0] as number);
    const comps = this.components(set);
    if (comps.length > 1)
      return this.combine(
        "parallel",
        comps.map((c) => this.build(c, depth)),
      );
    const factors = this.seriesFactors(set);
    if (factors.length > 1)
      return this.combine(
        "series",
        factors.map((f) => this.build(f, depth)),
      );

    const searching = this.work < (this.options.budget ?? Infinity);
    if (depth === (this.options.depth ?? 0) && set.length <= Math.min(20, this.options.exactUpTo ?? 0)) {
      return this.exhaustive(set);
    }
    const trying = depth > 0 && searching;
    const analysis = this.analyse(set, trying);
    const cuts = this.forcedCuts(analysis, trying ? (this.options.breadth ?? 1) : 1);
    let chosen = cuts[0] as [number[], number[]];
    if (cuts.length > 1) {
      let bestCost = Infinity;
      for (const cut of cuts) {
        const cost = this.build(cut[0], depth - 1).cost + this.build(cut[1], depth - 1).cost;
        if (cost < bestCost - 1e-9) {
          bestCost = cost;
          chosen = cut;
        }
      }
    }
    let result = this.combine("series", [this.build(chosen[0], depth), this.build(chosen[1], depth)]);
    const slabs = this.options.slabs;
    if (slabs && slabs.maxUnits > 0 && searching && (depth === (this.options.depth ?? 0) || slabs.inTrials)) {
      for (const chain of this.slabChains(analysis, slabs.maxUnits)) {
        const candidate = this.combine(
          "series",
          chain.map((slab) => this.build(slab, depth)),
        );
        if (candidate.cost < result.cost - 1e-9) result = candidate;
      }
    }
    return result;
  }

  /** Weakly connected components of the subgraph induced by `set` (sorted sets, sorted by first task). */
  private components(set: number[]): number[][] {
    const stamp = ++this.stamp;
    for (const v of set) this.mark[v] = stamp;
    const seen = ++this.stamp;
    const comps: number[][] = [];
    const stack: number[] = [];
    for (const start of set) {
      if (this.mark[start] !== stamp) continue;
      const comp: number[] = [];
      stack.push(start);
      this.mark[start] = seen;
      while (stack.length > 0) {
        const v = stack.pop() as number;
        comp.push(v);
        for (const u of this.dag.preds[v] ?? []) {
          if (this.mark[u] === stamp) {
            this.mark[u] = seen;
            stack.push(u);
          }
        }
        for (const u of this.dag.succs[v] ?? []) {
          if (this.mark[u] === stamp) {
            this.mark[u] = seen;
            stack.push(u);
          }
        }
      }
      if (comp.length === set.length) return [set];
      comps.push(comp.sort((a, b) => a - b));
    }
    return comps;
  }

  /**
   * The finest chain of blocks such that every task of a block precedes every
   * task of the later blocks. Blocks are contiguous in any topological order.
   */
  private seriesFactors(set: number[]): number[][] {
    const words = this.words;
    const common = new Uint32Array(words);
    for (const v of set) common[v >>> 5]! |= 1 << (v & 31);
    const lo = (set[0] as number) >>> 5;
    const hi = (set[set.length - 1] as number) >>> 5;
    const factors: number[][] = [];
    let start = 0;
    for (let i = 0; i < set.length - 1; i++) {
      const base = (set[i] as number) * words;
      let count = 0;
      for (let w = lo; w <= hi; w++) {
        const x = (common[w]! &= this.desc[base + w]!);
        count += popcount(x);
      }
      if (count === set.length - (i + 1)) {
        factors.push(set.slice(start, i + 1));
        start = i + 1;
      }
    }
    if (start === 0) return [set];
    factors.push(set.slice(start));
    return factors;
  }

  /**
   * Candidate orders of a set: keys that never decrease along an edge, so that
   * every threshold between two distinct key values leaves a down-set before it.
   * Also the guide durations' earliest finish and longest tail inside the set.
   */
  private analyse(set: number[], allKeys: boolean): Analysis {
    const m = set.length;
    this.work += m;
    const stamp = ++this.stamp;
    for (let i = 0; i < m; i++) {
      const v = set[i] as number;
      this.mark[v] = stamp;
      this.local[v] = i;
    }
    // Local adjacency, compressed: predecessors then successors inside the set.
    const predStart = new Int32Array(m + 1);
    const succCount = new Int32Array(m);
    const preds: number[] = [];
    for (let i = 0; i < m; i++) {
      predStart[i] = preds.length;
      for (const p of this.dag.preds[set[i] as number] ?? []) {
        if (this.mark[p] !== stamp) continue;
        const l = this.local[p] as number;
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

    const g = this.guides;
    const w = this.guideWeights;
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
    if (this.options.cuts === "free" && !allKeys) {
      keys.push(meanFinish, negMeanTail, globalLevel);
    } else if (this.options.cuts === "free") {
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
  private forcedCuts(a: Analysis, breadth: number): [number[], number[]][] {
    const { set, finish, tail } = a;
    const m = set.length;
    const g = this.guides;
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
    const result: [number[], number[]][] = [];
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

  /**
   * For each candidate order with at most `maxUnits` distinct key values, the
   * cheapest chain of series-parallel slabs (runs of consecutive key values),
   * by dynamic programming: a slab is exact, so its cost under the samples is
   * its critical path, computed without building it.
   */
  private slabChains(a: Analysis, maxUnits: number): number[][][] {
    const { set, predStart, predList } = a;
    const k = this.k;
    const w = this.weights;
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
        if (j === i + 1 && !this.isSeriesParallel(slab(i, j))) feasible = false;
        while (
          feasible &&
          j < units &&
          !(i === 0 && j + 1 === units) &&
          this.isSeriesParallel(slab(i, j + 1))
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
          this.work += boundaries[jj]! - boundaries[jj - 1]!;
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

  /**
   * The best structure for a small set under the samples' mean, over every way
   * to cut it (all down-sets), by dynamic programming on bit masks.
   */
  private exhaustive(set: number[]): Built {
    const m = set.length;
    const k = this.k;
    const stamp = ++this.stamp;
    set.forEach((v, i) => {
      this.mark[v] = stamp;
      this.local[v] = i;
    });
    const predMask = new Int32Array(m);
    const adjMask = new Int32Array(m);
    const descMask = new Int32Array(m);
    for (let i = m - 1; i >= 0; i--) {
      const v = set[i] as number;
      for (const p of this.dag.preds[v] ?? []) {
        if (this.mark[p] !== stamp) continue;
        const l = this.local[p] as number;
        predMask[i]! |= 1 << l;
        adjMask[i]! |= 1 << l;
        adjMask[l]! |= 1 << i;
      }
      for (const q of this.dag.succs[v] ?? []) {
        if (this.mark[q] === stamp) descMask[i]! |= descMask[this.local[q]!]! | (1 << this.local[q]!);
      }
    }
    type Entry = { spans: Float64Array; cost: number; kind: "task" | "parallel" | "series"; parts: number[] };
    const memo = new Map<number, Entry>();
    const components = (mask: number): number[] => {
      const out: number[] = [];
      let rest = mask;
      while (rest !== 0) {
        let comp = rest & -rest;
        let frontier = comp;
        while (frontier !== 0) {
          let next = 0;
          for (let f = frontier; f !== 0; f &= f - 1) next |= adjMask[31 - Math.clz32(f & -f)]!;
          next &= mask & ~comp;
          comp |= next;
          frontier = next;
        }
        out.push(comp);
        rest &= ~comp;
      }
      return out;
    };
    const solve = (mask: number): Entry => {
      const known = memo.get(mask);
      if (known) return known;
      let entry: Entry;
      if ((mask & (mask - 1)) === 0) {
        const v = set[31 - Math.clz32(mask)] as number;
        const spans = this.weights.slice(v * k, (v + 1) * k);
        entry = { spans, cost: mean(spans), kind: "task", parts: [] };
      } else {
        const comps = components(mask);
        if (comps.length > 1) {
          const spans = new Float64Array(k);
          for (const c of comps) {
            const cs = solve(c).spans;
            for (let s = 0; s < k; s++) if (cs[s]! > spans[s]!) spans[s] = cs[s]!;
          }
          entry = { spans, cost: mean(spans), kind: "parallel", parts: comps };
        } else {
          // A series factor adds no constraint: take the first one if there is one.
          let before = 0;
          let common = mask;
          let factor = 0;
          for (let rest = mask; rest !== 0 && factor === 0; rest &= rest - 1) {
            const i = 31 - Math.clz32(rest & -rest);
            before |= 1 << i;
            common &= descMask[i]!;
            if (before !== mask && (common & mask) === (mask & ~before)) factor = before;
          }
          let best = factor;
          if (factor === 0) {
            let bestCost = Infinity;
            const members: number[] = [];
            for (let rest = mask; rest !== 0; rest &= rest - 1) members.push(31 - Math.clz32(rest & -rest));
            // Every down-set of the mask, built in topological order: a task joins only after its predecessors.
            const visit = (at: number, a: number): void => {
              if (at === members.length) {
                if (a === 0 || a === mask) return;
                const c = solve(a).cost + solve(mask & ~a).cost;
                if (c < bestCost - 1e-9) {
                  bestCost = c;
                  best = a;
                }
                return;
              }
              const i = members[at] as number;
              visit(at + 1, a);
              if ((predMask[i]! & mask & ~a) === 0) visit(at + 1, a | (1 << i));
            };
            visit(0, 0);
          }
          const first = solve(best).spans;
          const second = solve(mask & ~best).spans;
          const spans = first.map((x, s) => x + second[s]!);
          entry = { spans, cost: mean(spans), kind: "series", parts: [best, mask & ~best] };
        }
      }
      memo.set(mask, entry);
      return entry;
    };
    const tree = (mask: number): SpTree => {
      const e = solve(mask);
      if (e.kind === "task") return task(set[31 - Math.clz32(mask)] as number);
      const children = e.parts.map(tree);
      return e.kind === "parallel" ? parallel(children) : series(children);
    };
    const full = (1 << m) - 1;
    const root = solve(full);
    return { tree: tree(full), spans: root.spans, cost: root.cost };
  }

  private isSeriesParallel(set: number[]): boolean {
    if (set.length <= 2) return true;
    this.work += set.length;
    const comps = this.components(set);
    const parts = comps.length > 1 ? comps : this.seriesFactors(set);
    if (parts.length === 1) return false;
    return parts.every((p) => this.isSeriesParallel(p));
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

function flatten(samples: readonly Float64Array[], n: number): Float64Array {
  const k = samples.length;
  const flat = new Float64Array(n * k);
  samples.forEach((w, s) => {
    for (let v = 0; v < n; v++) flat[v * k + s] = w[v] ?? 0;
  });
  return flat;
}

function mean(values: Float64Array): number {
  let total = 0;
  for (const v of values) total += v;
  return total / Math.max(1, values.length);
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
