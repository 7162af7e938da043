import { itemAt, range, u32At } from "./indices.js";
import { parallel, series, task, type SpTree } from "./spTree.js";
import type { TaskDag } from "./taskDag.js";
import { TaskMarks } from "./taskSets.js";

/**
 * The DAG's own order when it is series-parallel, or undefined when it is not
 * (some pair of tasks would have to gain a constraint).
 */
export function exactSeriesParallel(dag: TaskDag): SpTree | undefined {
  return new Decomposition(dag).exact(range(dag.size));
}

/**
 * Exact series-parallel decomposition of task sets: a set splits into its
 * weakly connected components (which run in parallel) or else into series
 * factors (every task of one precedes every task of the next). A set of two or
 * more tasks with neither split is not series-parallel.
 */
export class Decomposition {
  /** Tasks visited by analyses so far: what the search's budget counts. */
  visited = 0;
  readonly marks: TaskMarks;
  private readonly words: number;
  /** desc[v * words ..] = bitset of the tasks reachable from v. */
  private readonly desc: Uint32Array;

  constructor(readonly dag: TaskDag) {
    const n = dag.size;
    const words = Math.max(1, Math.ceil(n / 32));
    const desc = new Uint32Array(n * words);
    for (let v = n - 1; v >= 0; v--) {
      const base = v * words;
      for (const s of dag.succs[v] ?? []) {
        const sb = s * words;
        for (let w = 0; w < words; w++) desc[base + w] = u32At(desc, base + w) | u32At(desc, sb + w);
        const own = base + (s >>> 5);
        desc[own] = u32At(desc, own) | (1 << (s & 31));
      }
    }
    this.words = words;
    this.desc = desc;
    this.marks = new TaskMarks(n);
  }

  /** Exact decomposition, or undefined if the set is not series-parallel. */
  exact(set: number[]): SpTree | undefined {
    if (set.length === 1) return task(itemAt(set, 0));
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

  isSeriesParallel(set: number[]): boolean {
    if (set.length <= 2) return true;
    this.visited += set.length;
    const comps = this.components(set);
    const parts = comps.length > 1 ? comps : this.seriesFactors(set);
    if (parts.length === 1) return false;
    return parts.every((p) => this.isSeriesParallel(p));
  }

  /** Weakly connected components of the subgraph induced by `set` (sorted sets, sorted by first task). */
  components(set: number[]): number[][] {
    const marks = this.marks;
    marks.enter(set);
    const comps: number[][] = [];
    const stack: number[] = [];
    for (const start of set) {
      if (!marks.take(start)) continue;
      const comp: number[] = [];
      stack.push(start);
      for (let v = stack.pop(); v !== undefined; v = stack.pop()) {
        comp.push(v);
        for (const u of this.dag.preds[v] ?? []) if (marks.take(u)) stack.push(u);
        for (const u of this.dag.succs[v] ?? []) if (marks.take(u)) stack.push(u);
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
  seriesFactors(set: number[]): number[][] {
    const { words, desc } = this;
    // common: the tasks of the set that every task so far reaches (at first, the whole set).
    const common = new Uint32Array(words);
    for (const v of set) common[v >>> 5] = u32At(common, v >>> 5) | (1 << (v & 31));
    const lo = itemAt(set, 0) >>> 5;
    const hi = itemAt(set, set.length - 1) >>> 5;
    const factors: number[][] = [];
    let start = 0;
    for (let i = 0; i < set.length - 1; i++) {
      const base = itemAt(set, i) * words;
      let count = 0;
      for (let w = lo; w <= hi; w++) {
        const x = u32At(common, w) & u32At(desc, base + w);
        common[w] = x;
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
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
