import { exactSeriesParallel } from "../graph/spDecomposition.js";
import { seriesParallelize, seriesParallelizeEach } from "../graph/spSearch.js";
import { makespan, type SpTree } from "../graph/spTree.js";
import { criticalPath, layeredTree, type TaskDag } from "../graph/taskDag.js";
import type { CompileReport } from "./types.js";

export type Structure = "dag" | "layered";

export interface StructurePlan {
  tree: SpTree;
  strategy: CompileReport["strategy"];
  estimate: CompileReport["estimate"];
}

/** Spread of unknown task durations: log-normal, so a task is often 3x faster or slower than another. */
const BLIND_SIGMA = 1;
const SEARCH_SAMPLES = 16;
const GUIDE_SAMPLES = 2;
const EVALUATION_SAMPLES = 64;
/** A blind structure that is slower than the layered chain in more of the evaluation draws is rejected. */
const MAX_WORSE_THAN_LAYERED = 0.05;
/**
 * Analysis work (tasks visited) after which a search falls back to greedy
 * cuts, so compile time stays well under a second for hundreds of tasks.
 */
const KNOWN_BUDGET = 40_000;
const BLIND_BUDGET = 20_000;
/** Sets up to this size are solved over all their cuts (2^n down-sets at most). */
const EXACT_KNOWN = 14;
const EXACT_BLIND = 8;

/**
 * Chooses the nested Parallel/sequence structure for a task DAG.
 *
 * Series-parallel DAGs come out exactly (run time = critical path for any
 * durations). Otherwise the search adds the fewest costly constraints it can:
 * against the given durations, or, without them, against log-normal draws,
 * and the layered chain is always a candidate, so the result is never slower
 * than it under the durations the choice was made with.
 */
export function planStructure(
  dag: TaskDag,
  options: { structure: Structure; durations?: Float64Array },
): StructurePlan {
  const layered = layeredTree(dag);
  if (options.structure === "layered") return plan(layered, "layered", dag, options.durations, layered);
  const exact = exactSeriesParallel(dag);
  if (exact !== undefined) return plan(exact, "exact", dag, options.durations, layered);
  if (options.durations !== undefined) {
    const w = options.durations;
    const candidates = [
      ...seriesParallelizeEach(dag, { samples: [w], cuts: "free" }, [
        { breadth: 8, depth: 1, budget: KNOWN_BUDGET, exactUpTo: EXACT_KNOWN },
        { breadth: 4, depth: 2, budget: KNOWN_BUDGET, exactUpTo: EXACT_KNOWN },
      ]),
      layered,
    ];
    let best = layered;
    for (const c of candidates) if (makespan(c, w) < makespan(best, w) - 1e-9) best = c;
    return plan(best, "known-durations", dag, w, layered);
  }
  const random = mulberry32(dag.size * 2654435761 + 12345);
  const search = logNormalDraws(dag.size, SEARCH_SAMPLES, random);
  const guide = logNormalDraws(dag.size, GUIDE_SAMPLES, random);
  const evaluation = logNormalDraws(dag.size, EVALUATION_SAMPLES, random);
  const candidates = [
    seriesParallelize(dag, {
      samples: search,
      guide,
      cuts: "free",
      breadth: 8,
      depth: 1,
      slabs: { maxUnits: 20, inTrials: false },
      budget: BLIND_BUDGET,
      exactUpTo: EXACT_BLIND,
    }),
    seriesParallelize(dag, {
      samples: search,
      guide,
      cuts: "levels",
      breadth: 4,
      depth: 1,
      budget: BLIND_BUDGET,
    }),
  ];
  const layeredSpans = evaluation.map((w) => makespan(layered, w));
  let best = layered;
  let bestMean = mean(layeredSpans);
  for (const c of candidates) {
    const spans = evaluation.map((w) => makespan(c, w));
    const worse = spans.filter((t, i) => t > (layeredSpans[i] ?? 0) + 1e-9).length / spans.length;
    const m = mean(spans);
    if (worse <= MAX_WORSE_THAN_LAYERED && m < bestMean - 1e-9) {
      best = c;
      bestMean = m;
    }
  }
  return plan(best, "expected-durations", dag, undefined, layered);
}

function plan(
  tree: SpTree,
  strategy: StructurePlan["strategy"],
  dag: TaskDag,
  durations: Float64Array | undefined,
  layered: SpTree,
): StructurePlan {
  const w = durations ?? new Float64Array(dag.size).fill(1);
  return {
    tree,
    strategy,
    estimate: { ours: makespan(tree, w), layered: makespan(layered, w), criticalPath: criticalPath(dag, w) },
  };
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

/** A small seeded generator, so the same graph always compiles to the same definition. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function logNormalDraws(size: number, count: number, random: () => number): Float64Array[] {
  const draws: Float64Array[] = [];
  for (let d = 0; d < count; d++) {
    const w = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      const u = Math.max(random(), 1e-12);
      const v = random();
      w[i] = Math.exp(BLIND_SIGMA * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
    }
    draws.push(w);
  }
  return draws;
}
