/**
 * Series-parallel forms of a task DAG. Step Functions can only express nested
 * Parallel/sequence structures, so a pipeline runs as a series-parallel (SP)
 * order containing the DAG's own order. For an SP pipeline that order is the
 * DAG itself; for any other, constraints must be added, and we choose them to
 * keep the expected run time low.
 */
import { itemAt, range } from "./indices.js";
import { CutFinder, type CutPolicy, type CutRanking } from "./spCuts.js";
import { Decomposition } from "./spDecomposition.js";
import { bestOverAllCuts } from "./spExhaustive.js";
import {
  measuredComposition,
  measuredTask,
  sampleTable,
  type MeasuredTree,
  type SampleTable,
} from "./spMeasured.js";
import { slabChains } from "./spSlabs.js";
import type { SpTree } from "./spTree.js";
import { levelsOf, type TaskDag } from "./taskDag.js";
import { setKey } from "./taskSets.js";

export type { CutPolicy, CutRanking } from "./spCuts.js";

export interface SeriesParallelOptions {
  /** Task durations, one array per scenario; the search minimises the mean run time over them. */
  samples: Float64Array[];
  /** Durations that rank candidate cuts before any is tried (default: `samples`). */
  guide?: Float64Array[];
  cuts: CutPolicy;
  /** How candidate cuts are ranked (default "bound"). */
  ranking?: CutRanking;
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
  /**
   * Past `budget`, sets are still built with one level of trials (depth 1)
   * until this many tasks were analysed; then greedy cuts (default: `budget`,
   * no such stage).
   */
  fallbackBudget?: number;
  /** Sets of at most this many tasks are solved exactly, over all their down-sets (at most 20). */
  exactUpTo?: number;
  /**
   * A time cap, so compile time stays bounded whatever the graph: once
   * `search` is true no alternative is tried any more (greedy cuts, as past
   * `budget`); once `all` is true every set still to build runs level by level
   * (the layered chain of its tasks, linear time). Checked every few builds;
   * below the cap `budget` alone decides, so results do not depend on the machine.
   */
  timeCap?: { search: () => boolean; all: () => boolean };
}

/**
 * An SP structure containing the DAG's order, with a low mean run time over
 * the samples. Recursively: independent parts run in parallel; exact series
 * factors run in sequence; a connected set with neither is cut into a down-set
 * A and the rest B (A runs before B, the added constraints). Candidate cuts
 * are thresholds of keys that never decrease along an edge (earliest finish,
 * longest tail, levels), ranked by `ranking` (see CutRanking); the best
 * `breadth` are tried by building both sides (`depth` levels deep, skipping
 * those whose sides' longest paths already cost more than the best so far),
 * chains of exact slabs are compared too, and small sets are solved over all
 * their down-sets.
 */
export function seriesParallelize(dag: TaskDag, options: SeriesParallelOptions): SpTree {
  return new Search(dag, options).build(range(dag.size)).tree;
}

/**
 * Several searches over the same durations, cut policy and ranking (differing in
 * breadth, depth, budget...), sharing the greedy builds their trials make.
 */
export function seriesParallelizeEach(
  dag: TaskDag,
  base: Pick<SeriesParallelOptions, "samples" | "guide" | "cuts" | "ranking">,
  variants: Omit<SeriesParallelOptions, "samples" | "guide" | "cuts" | "ranking">[],
): SpTree[] {
  const shared: Memo = new Map<string, MemoEntry[]>();
  return variants.map((v) => new Search(dag, { ...base, ...v }, shared).build(range(dag.size)).tree);
}

/** Cut bounds are rounded to 1e-6 when ranked: a bound this far above the best cost is surely not below it. */
const BOUND_SLACK = 1e-6;

type MemoEntry = { set: number[]; built: MeasuredTree };
type Memo = Map<string, MemoEntry[]>;

class Search {
  private readonly decomposition: Decomposition;
  private readonly cutFinder: CutFinder;
  private readonly samples: SampleTable;
  private readonly memo: Memo;
  /** Greedy builds (depth 0, below the final depth) depend only on the set and the durations: shareable. */
  private readonly greedyMemo: Memo;
  private readonly level: Int32Array;
  /** The cuts' bounds are computed under the guide: they bound the samples' costs only when the guide is the samples. */
  private readonly boundsHold: boolean;
  private builds = 0;
  private searchStopped = false;
  private stopped = false;

  constructor(
    dag: TaskDag,
    private readonly options: SeriesParallelOptions,
    shared?: Memo,
  ) {
    this.memo = new Map<string, MemoEntry[]>();
    this.greedyMemo = shared ?? new Map<string, MemoEntry[]>();
    const n = dag.size;
    this.decomposition = new Decomposition(dag);
    const samples = options.samples.length > 0 ? options.samples : [new Float64Array(n).fill(1)];
    const guide = options.guide && options.guide.length > 0 ? options.guide : samples;
    this.boundsHold = guide === samples;
    this.samples = sampleTable(samples, n);
    this.cutFinder = new CutFinder(this.decomposition, sampleTable(guide, n), options.cuts, options.ranking);
    this.level = levelsOf(dag);
  }

  /** The time cap, asked once every 64 builds (a clock read costs about a microsecond). */
  private outOfTime(): boolean {
    if (this.stopped) return true;
    const cap = this.options.timeCap;
    if (cap === undefined || ++this.builds % 64 !== 0) return false;
    this.searchStopped ||= cap.search();
    this.stopped = cap.all();
    return this.stopped;
  }

  /** The set's tasks by global topological level, chained: valid for any set, linear time. */
  private layered(set: number[]): MeasuredTree {
    const byLevel = new Map<number, MeasuredTree[]>();
    for (const v of set) {
      const l = this.level[v] ?? 0;
      let tasks = byLevel.get(l);
      if (!tasks) byLevel.set(l, (tasks = []));
      tasks.push(measuredTask(this.samples, v));
    }
    const levels = [...byLevel.keys()].sort((a, b) => a - b);
    const steps = levels.map((l) => {
      const tasks = byLevel.get(l) as MeasuredTree[];
      return tasks.length === 1 ? (tasks[0] as MeasuredTree) : this.combine("parallel", tasks);
    });
    return steps.length === 1 ? (steps[0] as MeasuredTree) : this.combine("series", steps);
  }

  build(set: number[], depth = this.options.depth ?? 0): MeasuredTree {
    const key = setKey(depth, set);
    const memo = depth === 0 && depth !== (this.options.depth ?? 0) ? this.greedyMemo : this.memo;
    let entries = memo.get(key);
    // The key is a hash: check the set itself, so a collision costs time, never correctness.
    const hit = entries?.find((e) => e.set.length === set.length && e.set.every((v, i) => v === set[i]));
    if (hit) return hit.built;
    const built = this.buildUncached(set, depth);
    // Past the time cap builds are stand-ins: not shared with the next variant, which has its own time.
    if (this.stopped) return built;
    if (!entries) memo.set(key, (entries = []));
    entries.push({ set, built });
    return built;
  }

  private combine(kind: "series" | "parallel", parts: MeasuredTree[]): MeasuredTree {
    return measuredComposition(kind, parts, this.samples.count);
  }

  private buildUncached(set: number[], depth: number): MeasuredTree {
    if (set.length === 1) return measuredTask(this.samples, itemAt(set, 0));
    if (this.outOfTime()) return this.layered(set);
    const comps = this.decomposition.components(set);
    if (comps.length > 1)
      return this.combine(
        "parallel",
        comps.map((c) => this.build(c, depth)),
      );
    const factors = this.decomposition.seriesFactors(set);
    if (factors.length > 1)
      return this.combine(
        "series",
        factors.map((f) => this.build(f, depth)),
      );

    const visited = this.decomposition.visited;
    const budget = this.options.budget ?? Infinity;
    const searching = !this.searchStopped && visited < budget;
    // Past the budget, one level of trials rather than none, so that the sets
    // built last (the end of the pipeline) are not left to greedy cuts alone.
    const fallback = !searching && !this.searchStopped && visited < (this.options.fallbackBudget ?? budget);
    if (fallback && depth > 1) return this.build(set, 1);
    if (
      (depth === (this.options.depth ?? 0) || (fallback && depth === 1)) &&
      set.length <= Math.min(20, this.options.exactUpTo ?? 0)
    ) {
      return bestOverAllCuts(set, this.decomposition, this.samples);
    }
    const trying = depth > 0 && (searching || fallback);
    const analysis = this.cutFinder.analyse(set, trying);
    const cuts = this.cutFinder.best(analysis, trying ? (this.options.breadth ?? 1) : 1);
    let chosen = cuts[0];
    if (cuts.length > 1) {
      let bestCost = Infinity;
      for (const cut of cuts) {
        const [before, after, bound] = cut;
        // Branch and bound: a side never builds faster than its longest path, so a
        // trial whose bound cannot beat the best so far is skipped (same choice, less work).
        if (this.boundsHold && bound.before + bound.after >= bestCost + BOUND_SLACK) continue;
        const first = this.build(before, depth - 1).cost;
        if (this.boundsHold && first + bound.after >= bestCost + BOUND_SLACK) continue;
        const cost = first + this.build(after, depth - 1).cost;
        if (cost < bestCost - 1e-9) {
          bestCost = cost;
          chosen = cut;
        }
      }
    }
    let result = this.combine("series", [this.build(chosen[0], depth), this.build(chosen[1], depth)]);
    const slabs = this.options.slabs;
    if (slabs && slabs.maxUnits > 0 && searching && (depth === (this.options.depth ?? 0) || slabs.inTrials)) {
      for (const chain of slabChains(analysis, this.decomposition, this.samples, slabs.maxUnits)) {
        const candidate = this.combine(
          "series",
          chain.map((slab) => this.build(slab, depth)),
        );
        if (candidate.cost < result.cost - 1e-9) result = candidate;
      }
    }
    return result;
  }
}
