import { i32At, itemAt } from "./indices.js";
import type { Decomposition } from "./spDecomposition.js";
import { addSpans, mean, maxSpans, taskSpans, type MeasuredTree, type SampleTable } from "./spMeasured.js";
import { parallel, series, task, type SpTree } from "./spTree.js";

/**
 * The best structure for a small set under the samples' mean, over every way
 * to cut it (all down-sets), by dynamic programming on bit masks.
 */
export function bestOverAllCuts(
  set: number[],
  decomposition: Decomposition,
  samples: SampleTable,
): MeasuredTree {
  const m = set.length;
  const k = samples.count;
  const { dag, marks } = decomposition;
  marks.enter(set);
  // Bit masks over places in the set: each task's predecessors, neighbours and descendants inside it.
  const predMask = new Int32Array(m);
  const adjMask = new Int32Array(m);
  const descMask = new Int32Array(m);
  for (let i = m - 1; i >= 0; i--) {
    const v = itemAt(set, i);
    let preds = 0;
    let desc = 0;
    for (const p of dag.preds[v] ?? []) {
      if (!marks.has(p)) continue;
      const l = marks.position(p);
      preds |= 1 << l;
      adjMask[l] = i32At(adjMask, l) | (1 << i);
    }
    for (const q of dag.succs[v] ?? []) {
      if (!marks.has(q)) continue;
      const l = marks.position(q);
      desc |= i32At(descMask, l) | (1 << l);
    }
    predMask[i] = preds;
    adjMask[i] = i32At(adjMask, i) | preds;
    descMask[i] = desc;
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
        for (let f = frontier; f !== 0; f &= f - 1) next |= i32At(adjMask, 31 - Math.clz32(f & -f));
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
      const spans = taskSpans(samples, itemAt(set, 31 - Math.clz32(mask)));
      entry = { spans, cost: mean(spans), kind: "task", parts: [] };
    } else {
      const comps = components(mask);
      if (comps.length > 1) {
        const spans = new Float64Array(k);
        for (const c of comps) maxSpans(spans, solve(c).spans);
        entry = { spans, cost: mean(spans), kind: "parallel", parts: comps };
      } else {
        // A series factor adds no constraint: take the first one if there is one.
        let before = 0;
        let common = mask;
        let factor = 0;
        for (let rest = mask; rest !== 0 && factor === 0; rest &= rest - 1) {
          const i = 31 - Math.clz32(rest & -rest);
          before |= 1 << i;
          common &= i32At(descMask, i);
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
            const i = itemAt(members, at);
            visit(at + 1, a);
            if ((i32At(predMask, i) & mask & ~a) === 0) visit(at + 1, a | (1 << i));
          };
          visit(0, 0);
        }
        const spans = solve(best).spans.slice();
        addSpans(spans, solve(mask & ~best).spans);
        entry = { spans, cost: mean(spans), kind: "series", parts: [best, mask & ~best] };
      }
    }
    memo.set(mask, entry);
    return entry;
  };
  const tree = (mask: number): SpTree => {
    const e = solve(mask);
    if (e.kind === "task") return task(itemAt(set, 31 - Math.clz32(mask)));
    const children = e.parts.map(tree);
    return e.kind === "parallel" ? parallel(children) : series(children);
  };
  const full = (1 << m) - 1;
  const root = solve(full);
  return { tree: tree(full), spans: root.spans, cost: root.cost };
}
