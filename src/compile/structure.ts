import { exactSeriesParallel } from "../graph/spDecomposition.js";
import {
  seriesParallelize,
  seriesParallelizeEach,
  type CutRanking,
  type SeriesParallelOptions,
} from "../graph/spSearch.js";
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
 * cuts. Trying a cut builds both sides, about n tasks visited per level of
 * nesting, so a search that tries alternatives everywhere needs about n^2:
 * the budget grows so (a fixed 40,000 cut the search off at a few hundred
 * tasks: makespan 1.09x the critical path at 500-1,000 tasks, 1.01x with
 * n^2), up to what 1,200 tasks need. The floors keep small graphs' results
 * (and the golden definitions) as they were.
 */
const KNOWN_BUDGET = 40_000;
const BLIND_BUDGET = 20_000;
const MAX_BUDGET = 1_200 * 1_200;
/**
 * CPU seconds one structure choice may take, shared equally by its search
 * variants; past it a variant stops trying alternatives and lays the rest out
 * level by level. Up to ONE_VARIANT_ABOVE tasks the cap is loose, so the
 * budget above ends the search first (results then do not depend on the
 * machine: at 1,000 tasks a search takes about 1 s of the 4); beyond, one
 * variant runs under a tight cap, so a 5,000-task pipeline (split into child
 * state machines) still compiles in a few seconds, with a poorer structure.
 */
const STRUCTURE_CPU_SECONDS = { upToOneVariant: 4, beyond: 1.5 } as const;
/** Above this many tasks only the first search variant runs. */
const ONE_VARIANT_ABOVE = 3_000;

/** With known durations a search stops trying alternatives after this share of its CPU time. */
const KNOWN_SEARCH_SHARE = 0.75;

type Cap = ReturnType<typeof cpuCaps>[number];
type SearchVariant = {
  breadth: number;
  depth: number;
  budget: number;
  fallbackBudget: number;
  exactUpTo: number;
};
/** Past its budget a known-durations search keeps one level of trials until this many times the budget. */
const KNOWN_FALLBACK_FACTOR = 2;
/** Up to this many tasks the bound-ranked searches run too. */
const BOUND_RANKED_UP_TO = 400;

function scaledBudget(floor: number, size: number): number {
  return Math.min(Math.max(floor, size * size), Math.max(floor, MAX_BUDGET));
}

/**
 * Time caps for searches run one after another from now, each given its
 * weight's share of the time: the i-th ends when the shares up to it are
 * spent, and stops trying alternatives after `searchShare` of its own share
 * (greedy cuts on the rest are what is left to do).
 */
function cpuCaps(
  seconds: number,
  weights: readonly number[],
  searchShare: number,
): { search: () => boolean; all: () => boolean }[] {
  const start = cpuSeconds();
  const total = weights.reduce((a, b) => a + b, 0);
  let before = 0;
  return weights.map((weight) => {
    const from = start + (seconds * before) / total;
    const share = (seconds * weight) / total;
    before += weight;
    return {
      search: () => cpuSeconds() > from + share * searchShare,
      all: () => cpuSeconds() > from + share,
    };
  });
}

function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}
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
    const budget = scaledBudget(KNOWN_BUDGET, dag.size);
    // Balanced cuts with two levels of trials are the main search, with a
    // narrower one beside it (different choices, little time). The
    // bound-ranked searches (the default before) stay candidates on graphs
    // where they are cheap, so no small graph gets a slower structure than it
    // had; at 500-1,000 tasks they never won and cost as much as the rest.
    // Beyond ONE_VARIANT_ABOVE only the first search runs.
    const fallbackBudget = budget * KNOWN_FALLBACK_FACTOR;
    const all: { ranking: CutRanking; weight: number; variant: SearchVariant }[] = [
      {
        ranking: "balanced",
        weight: 2,
        variant: { breadth: 8, depth: 2, budget, fallbackBudget, exactUpTo: EXACT_KNOWN },
      },
      {
        ranking: "balanced",
        weight: 1,
        variant: { breadth: 4, depth: 2, budget, fallbackBudget, exactUpTo: EXACT_KNOWN },
      },
      {
        ranking: "bound",
        weight: 1,
        variant: { breadth: 8, depth: 1, budget, fallbackBudget: budget, exactUpTo: EXACT_KNOWN },
      },
      {
        ranking: "bound",
        weight: 1,
        variant: { breadth: 4, depth: 2, budget, fallbackBudget: budget, exactUpTo: EXACT_KNOWN },
      },
    ];
    const searches = all.slice(0, dag.size > ONE_VARIANT_ABOVE ? 1 : dag.size > BOUND_RANKED_UP_TO ? 2 : 4);
    const caps =
      searches.length > 1
        ? cpuCaps(
            STRUCTURE_CPU_SECONDS.upToOneVariant,
            searches.map((s) => s.weight),
            KNOWN_SEARCH_SHARE,
          )
        : cpuCaps(STRUCTURE_CPU_SECONDS.beyond, [1], 0.1);
    const candidates = [layered];
    // Searches of one ranking share their greedy builds (a greedy build depends on the ranking).
    for (const ranking of ["balanced", "bound"] as const) {
      const mine = searches.flatMap((s, i) =>
        s.ranking === ranking ? [{ ...s.variant, timeCap: caps[i] as Cap }] : [],
      );
      if (mine.length > 0)
        candidates.push(...seriesParallelizeEach(dag, { samples: [w], cuts: "free", ranking }, mine));
    }
    let best = layered;
    for (const c of candidates) if (makespan(c, w) < makespan(best, w) - 1e-9) best = c;
    return plan(best, "known-durations", dag, w, layered);
  }
  const random = mulberry32(dag.size * 2654435761 + 12345);
  const search = logNormalDraws(dag.size, SEARCH_SAMPLES, random);
  const guide = logNormalDraws(dag.size, GUIDE_SAMPLES, random);
  const evaluation = logNormalDraws(dag.size, EVALUATION_SAMPLES, random);
  const budget = scaledBudget(BLIND_BUDGET, dag.size);
  // Free cuts ranked balanced (the main search: better and cheaper at 500-1,000
  // tasks), ranked by their bound (the default before, kept as a candidate),
  // and cuts between levels only. Beyond ONE_VARIANT_ABOVE only the first runs.
  const free = { samples: search, guide, cuts: "free", breadth: 8, depth: 1, budget } as const;
  const all: SeriesParallelOptions[] = [
    {
      ...free,
      ranking: "balanced",
      slabs: { maxUnits: 20, inTrials: false },
      exactUpTo: EXACT_BLIND,
    },
    { ...free, ranking: "bound", slabs: { maxUnits: 20, inTrials: false }, exactUpTo: EXACT_BLIND },
    { samples: search, guide, cuts: "levels", breadth: 4, depth: 1, budget },
  ];
  const blindSearches = all.slice(0, dag.size > ONE_VARIANT_ABOVE ? 1 : 3);
  const caps =
    blindSearches.length === 1
      ? cpuCaps(STRUCTURE_CPU_SECONDS.beyond, [1], 0.1)
      : cpuCaps(
          STRUCTURE_CPU_SECONDS.upToOneVariant,
          blindSearches.map(() => 1),
          0.5,
        );
  const candidates = blindSearches.map((o, i) => seriesParallelize(dag, { ...o, timeCap: caps[i] as Cap }));
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

/** A structure given from outside (a deployed one, read back), with the same estimate as a chosen one. */
export function givenStructure(tree: SpTree, dag: TaskDag, durations?: Float64Array): StructurePlan {
  return plan(tree, "deployed", dag, durations, layeredTree(dag));
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
