import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { planStructure } from "../src/compile/structure.js";
import { f64At, i32At, itemAt, u32At } from "../src/graph/indices.js";
import { exactSeriesParallel } from "../src/graph/spDecomposition.js";
import { seriesParallelize } from "../src/graph/spSearch.js";
import { makespan, tasksOf, type SpTree } from "../src/graph/spTree.js";
import { criticalPath, layeredTree, type TaskDag } from "../src/graph/taskDag.js";

function dagOf(n: number, edges: [number, number][]): TaskDag {
  const preds: number[][] = Array.from({ length: n }, () => []);
  const succs: number[][] = Array.from({ length: n }, () => []);
  const seen = new Set<string>();
  for (const [x, y] of edges) {
    const [a, b] = x < y ? [x, y] : [y, x];
    if (a === b || seen.has(`${a},${b}`)) continue;
    seen.add(`${a},${b}`);
    preds[b]?.push(a);
    succs[a]?.push(b);
  }
  for (const list of [...preds, ...succs]) list.sort((p, q) => p - q);
  return { size: n, preds, succs };
}

/** For every task, the tasks certainly finished when it starts (as the benchmark's simulator sees it). */
function finishedBefore(tree: SpTree, n: number): Set<number>[] {
  const before: Set<number>[] = Array.from({ length: n }, () => new Set());
  const walk = (t: SpTree, done: Set<number>): Set<number> => {
    if (t.kind === "task") {
      before[t.task] = new Set(done);
      return new Set([t.task]);
    }
    const ran = new Set<number>();
    if (t.kind === "series") {
      const acc = new Set(done);
      for (const c of t.children) {
        for (const x of walk(c, acc)) {
          ran.add(x);
          acc.add(x);
        }
      }
    } else {
      for (const c of t.children) for (const x of walk(c, done)) ran.add(x);
    }
    return ran;
  };
  walk(tree, new Set());
  return before;
}

function expectValid(tree: SpTree, dag: TaskDag): void {
  expect(tasksOf(tree).sort((a, b) => a - b)).toEqual(Array.from({ length: dag.size }, (_, i) => i));
  const before = finishedBefore(tree, dag.size);
  dag.preds.forEach((ps, c) => ps.forEach((p) => expect(before[c]?.has(p)).toBe(true)));
}

const randomDag = fc.integer({ min: 1, max: 28 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    edges: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 3 * n }),
    durations: fc.array(fc.double({ min: 0.5, max: 500, noNaN: true }), { minLength: n, maxLength: n }),
    other: fc.array(fc.double({ min: 0.5, max: 500, noNaN: true }), { minLength: n, maxLength: n }),
  }),
);

/** Random series-parallel DAGs, built by composition. */
function spDag(): fc.Arbitrary<TaskDag> {
  type Block = { size: number; edges: [number, number][]; sources: number[]; sinks: number[] };
  const leaf: fc.Arbitrary<Block> = fc.constant({ size: 1, edges: [], sources: [0], sinks: [0] });
  const shift = (b: Block, k: number): Block => ({
    size: b.size,
    edges: b.edges.map(([x, y]) => [x + k, y + k]),
    sources: b.sources.map((x) => x + k),
    sinks: b.sinks.map((x) => x + k),
  });
  const { block } = fc.letrec<{ block: Block }>((tie) => ({
    block: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      leaf,
      fc.tuple(tie("block"), tie("block")).map(([a, b]) => {
        const s = shift(b, a.size);
        return {
          size: a.size + b.size,
          edges: [
            ...a.edges,
            ...s.edges,
            ...a.sinks.flatMap((x) => s.sources.map((y) => [x, y] as [number, number])),
          ],
          sources: a.sources,
          sinks: s.sinks,
        };
      }),
      fc.tuple(tie("block"), tie("block")).map(([a, b]) => {
        const s = shift(b, a.size);
        return {
          size: a.size + b.size,
          edges: [...a.edges, ...s.edges],
          sources: [...a.sources, ...s.sources],
          sinks: [...a.sinks, ...s.sinks],
        };
      }),
    ),
  }));
  // Indices are topological already: series puts the first block's tasks first.
  return block.filter((b) => b.size <= 40).map((b) => dagOf(b.size, b.edges));
}

describe("series-parallel structures", () => {
  it("recognises series-parallel DAGs and reproduces them exactly", () => {
    fc.assert(
      fc.property(
        spDag(),
        fc.array(fc.double({ min: 0.5, max: 500, noNaN: true }), { minLength: 40, maxLength: 40 }),
        (dag, w) => {
          const tree = exactSeriesParallel(dag);
          expect(tree).toBeDefined();
          expectValid(tree as SpTree, dag);
          expect(makespan(tree as SpTree, w)).toBeCloseTo(criticalPath(dag, w), 6);
          expect(planStructure(dag, { structure: "dag" }).tree).toEqual(tree);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("knows an N is not series-parallel and pays the least for it", () => {
    // 0 -> 2, 1 -> 2, 1 -> 3: the N shape.
    const dag = dagOf(4, [
      [0, 2],
      [1, 2],
      [1, 3],
    ]);
    expect(exactSeriesParallel(dag)).toBeUndefined();
    const w = Float64Array.from([10, 1, 1, 10]);
    const tree = planStructure(dag, { structure: "dag", durations: w }).tree;
    expectValid(tree, dag);
    // Best: (1 ; (0 ; 2) || 3) = 1 + max(10 + 1, 10) = 12; the layered chain takes 20.
    expect(makespan(tree, w)).toBe(12);
    expect(makespan(layeredTree(dag), w)).toBe(20);
  });

  it("keeps every dependency and is never slower than the layered chain under known durations", () => {
    fc.assert(
      fc.property(randomDag, ({ n, edges, durations }) => {
        const dag = dagOf(n, edges);
        const w = Float64Array.from(durations);
        const plan = planStructure(dag, { structure: "dag", durations: w });
        expectValid(plan.tree, dag);
        expect(makespan(plan.tree, w)).toBeLessThanOrEqual(makespan(layeredTree(dag), w) + 1e-9);
        expect(makespan(plan.tree, w)).toBeGreaterThanOrEqual(criticalPath(dag, w) - 1e-9);
      }),
      { numRuns: 200 },
    );
  });

  it("without durations keeps every dependency, and level cuts never lose to the layered chain", () => {
    fc.assert(
      fc.property(randomDag, ({ n, edges, other }) => {
        const dag = dagOf(n, edges);
        const w = Float64Array.from(other);
        const blind = planStructure(dag, { structure: "dag" });
        expectValid(blind.tree, dag);
        const unit = [new Float64Array(n).fill(1)];
        const byLevels = seriesParallelize(dag, { samples: unit, cuts: "levels", breadth: 3, depth: 1 });
        expectValid(byLevels, dag);
        expect(makespan(byLevels, w)).toBeLessThanOrEqual(makespan(layeredTree(dag), w) + 1e-9);
      }),
      { numRuns: 150 },
    );
  });

  it("reproduces the level-by-level chain on request", () => {
    const dag = dagOf(5, [
      [0, 2],
      [1, 2],
      [1, 3],
      [3, 4],
    ]);
    const plan = planStructure(dag, { structure: "layered" });
    expect(plan.strategy).toBe("layered");
    expect(plan.tree).toEqual({
      kind: "series",
      children: [
        {
          kind: "parallel",
          children: [
            { kind: "task", task: 0 },
            { kind: "task", task: 1 },
          ],
        },
        {
          kind: "parallel",
          children: [
            { kind: "task", task: 2 },
            { kind: "task", task: 3 },
          ],
        },
        { kind: "task", task: 4 },
      ],
    });
  });

  it("is deterministic", () => {
    const dag = dagOf(
      30,
      Array.from({ length: 60 }, (_, i) => [(i * 7) % 30, (i * 13 + 5) % 30] as [number, number]),
    );
    expect(planStructure(dag, { structure: "dag" })).toEqual(planStructure(dag, { structure: "dag" }));
  });
});

describe("checked reads in the series-parallel code", () => {
  it("return what is there, zeros included, and stop on a miss with an internal error", () => {
    expect(itemAt([0, 5], 0)).toBe(0);
    expect(f64At(Float64Array.from([0, 2.5]), 1)).toBe(2.5);
    expect(i32At(Int32Array.from([-3]), 0)).toBe(-3);
    expect(u32At(Uint32Array.from([0xffffffff]), 0)).toBe(0xffffffff);
    expect(() => itemAt([1, 2], 2)).toThrow("internal: index 2 outside 0..1 in the series-parallel search");
    expect(() => f64At(new Float64Array(3), -1)).toThrow("internal: index -1 outside 0..2");
    expect(() => i32At(new Int32Array(0), 0)).toThrow("internal: index 0 outside 0..-1");
  });
});
