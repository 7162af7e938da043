/**
 * Learned durations, on constructed Task runs (what src/run/historyFold.ts makes of a
 * history) and real benchmark graphs: the median, how a group's time is attributed,
 * the 5% rule that keeps the deployed structure, and explicit durations winning.
 * The reading path against real executions is in runMoto.test.ts ("learned durations").
 */
import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { compilePipeline, type CompileOptions } from "../src/compile/index.js";
import { treeFromDefinition } from "../src/compile/keepStructure.js";
import { parseGraph } from "../src/graph/parse.js";
import { parallel, series, task } from "../src/graph/spTree.js";
import type { PipelineGraph } from "../src/graph/types.js";
import {
  chooseStructure,
  learnedDurationsOf,
  MIN_STRUCTURE_GAIN,
  predictedSeconds,
} from "../src/run/durationsLearned.js";
import type { TaskRun } from "../src/run/types.js";

const options = (extra: Partial<CompileOptions> = {}): CompileOptions => ({
  stateMachineName: "bench",
  groupBy: [],
  structure: "dag",
  functionDefaults: {
    memoryMb: 1024,
    timeoutSeconds: 300,
    ephemeralStorageMb: 512,
    architecture: "x86_64",
    environment: {},
  },
  ...extra,
});

function benchGraph(name: string): { graph: PipelineGraph; durations: Record<string, number> } {
  const text = readFileSync(`bench/graphs/${name}.json`, "utf8");
  return {
    graph: parseGraph(text, name),
    durations: (JSON.parse(text) as { durations: Record<string, number> }).durations,
  };
}

/** Function names swapped for version ARNs, as a deployed definition has them. */
function bound<T>(definition: T): T {
  return JSON.parse(
    JSON.stringify(definition).replace(
      /"FunctionName":"([^"]+)"/g,
      '"FunctionName":"arn:aws:lambda:eu-west-1:123456789012:function:$1:7"',
    ),
  ) as T;
}

function run(nodes: string[], seconds: number, extra: Partial<TaskRun> = {}): TaskRun {
  return {
    stateName: nodes.join("+"),
    functionName: `fn-${nodes.join("-")}`,
    nodes,
    status: "succeeded",
    startMs: 1_000_000,
    endMs: 1_000_000 + seconds * 1000,
    attempts: 1,
    error: null,
    requestId: null,
    logStream: null,
    nodeSeconds: null,
    ...extra,
  };
}

describe("learnedDurationsOf", () => {
  it("takes each node's median over the executions, so one slow run does not move it", () => {
    const learned = learnedDurationsOf([[run(["a"], 10)], [run(["a"], 12)], [run(["a"], 300)]]);
    expect(learned).toEqual({ a: 12 });
    expect(learnedDurationsOf([[run(["a"], 10)], [run(["a"], 20)]])).toEqual({ a: 15 });
  });

  it("gives a group's nodes the times the handler reported, else equal shares of the Task", () => {
    const reported = run(["a", "b"], 30, { nodeSeconds: { a: 25, b: 4.5 } });
    const unreported = run(["c", "d", "e"], 30);
    expect(learnedDurationsOf([[reported, unreported]])).toEqual({ a: 25, b: 4.5, c: 10, d: 10, e: 10 });
  });

  it("ignores Tasks that did not succeed or never ran", () => {
    const failed = run(["a"], 99, { status: "failed" });
    const notRun = run(["b"], 0, { status: "not-started", startMs: null, endMs: null });
    expect(learnedDurationsOf([[failed, notRun, run(["c"], 2)]])).toEqual({ c: 2 });
  });
});

describe("chooseStructure", () => {
  it("re-chooses the structure when the learned durations predict at least 5% less run time", () => {
    const { graph, durations } = benchGraph("random_50");
    const baseline = compilePipeline(graph, options());
    const choice = chooseStructure(graph, options(), baseline, { durations, executions: 3 });
    const withDurations = compilePipeline(graph, options({ durations }));
    expect(choice.learned).toBe(true);
    expect(choice.compiled.definition).toEqual(withDurations.definition);
    const gain = /predicted −([\d.]+)%/.exec(choice.note)?.[1];
    expect(Number(gain)).toBeGreaterThanOrEqual(MIN_STRUCTURE_GAIN * 100);
    expect(choice.note).toMatch(
      /^Structure re-chosen from learned durations of 3 execution\(s\): predicted −/,
    );
  });

  it("keeps the deployed structure when a new one would gain less than 5% (no flapping)", () => {
    const { graph, durations } = benchGraph("random_50");
    // Deployed from last week's learned durations, bound to version ARNs as deployed definitions are.
    const lastWeek = compilePipeline(graph, options({ durations }));
    const deployed = bound(lastWeek.definition);
    // This week's differ by 5% (the balanced search keeps its choice under 3%), which makes it pick another structure.
    const drifted = Object.fromEntries(
      Object.keys(durations)
        .sort()
        .map((n, i) => [n, (durations[n] as number) * (i % 2 === 0 ? 1.05 : 0.95)]),
    );
    const candidate = compilePipeline(graph, options({ durations: drifted }));
    expect(candidate.definition).not.toEqual(lastWeek.definition);
    // Against the compile without durations the drifted one gains a lot: only the deployed one keeps it.
    const blind = compilePipeline(graph, options());
    const choice = chooseStructure(graph, options(), blind, { durations: drifted, executions: 3 }, deployed);
    expect(choice.learned).toBe(false);
    expect(choice.compiled.report?.strategy).toBe("deployed");
    expect(choice.compiled.definition).toEqual(lastWeek.definition);
    expect(choice.note).toMatch(
      /^Structure kept \(the deployed structure\): a new one from the learned durations of 3 execution\(s\) predicts only [−+][\d.]+%/,
    );
    expect(choice.note).toContain("it needs −5.0%");
    // Without the deployed definition the same durations would re-choose (the rule, not luck, keeps it).
    expect(chooseStructure(graph, options(), blind, { durations: drifted, executions: 3 }).learned).toBe(
      true,
    );
  });

  it("does not keep a deployed structure that no longer fits the pipeline", () => {
    const { graph, durations } = benchGraph("random_50");
    const other = benchGraph("random_20");
    const deployed = bound(compilePipeline(other.graph, options({ durations: other.durations })).definition);
    const blind = compilePipeline(graph, options());
    const choice = chooseStructure(graph, options(), blind, { durations, executions: 3 }, deployed);
    expect(choice.learned).toBe(true);
    expect(choice.note).toContain("against the structure compiled without them");
  });

  it("lets explicit durations win per node over learned ones", () => {
    const { graph, durations } = benchGraph("random_50");
    // Learned: every node 1 s. Explicit: the benchmark's durations for every node.
    const learned = Object.fromEntries(graph.nodes.map((n) => [n.name, 1]));
    const explicit = options({ durations });
    const baseline = compilePipeline(graph, explicit);
    const choice = chooseStructure(graph, explicit, baseline, { durations: learned, executions: 2 });
    expect(choice.compiled.definition).toEqual(baseline.definition);
    expect(choice.note).toBe(
      "Structure kept: the learned durations of 2 execution(s) choose the structure compiled without them again.",
    );

    // One explicit node among learned ones: the estimate is made with its explicit value.
    const slow = graph.nodes[0]?.name as string;
    const partial = chooseStructure(
      graph,
      options({ durations: { [slow]: 10_000 } }),
      compilePipeline(graph, options()),
      {
        durations: learned,
        executions: 2,
      },
    );
    const [before, after] = (/predicted (\d+) s -> (\d+) s/.exec(partial.note) ?? []).slice(1).map(Number);
    expect(before).toBeGreaterThanOrEqual(10_000);
    expect(after).toBeGreaterThanOrEqual(10_000);
  });

  it("says why nothing was learned", () => {
    const { graph } = benchGraph("random_20");
    const baseline = compilePipeline(graph, options());
    expect(chooseStructure(graph, options(), baseline, { durations: {}, executions: 0 }).note).toMatch(
      /no successful execution/,
    );
    expect(
      chooseStructure(graph, options(), baseline, { durations: { other_node: 3 }, executions: 1 }).note,
    ).toMatch(/ran none of this pipeline's nodes/);
  });
});

describe("predictedSeconds", () => {
  it("adds a chain, takes a Parallel's longest branch and does not follow Catch", () => {
    const task = (fn: string, next?: string) => ({
      Type: "Task",
      Parameters: { FunctionName: fn },
      Catch: [{ ErrorEquals: ["States.ALL"], Next: "Failed" }],
      ...(next ? { Next: next } : { End: true }),
    });
    const definition = {
      StartAt: "p",
      States: {
        p: {
          Type: "Parallel",
          Branches: [
            { StartAt: "a", States: { a: task("a") } },
            { StartAt: "b", States: { b: task("b", "c"), c: task("c") } },
          ],
          Next: "d",
        },
        d: task("d"),
        Failed: { Type: "Fail" },
      },
    };
    const seconds = new Map([
      ["a", 10],
      ["b", 3],
      ["c", 4],
      ["d", 5],
    ]);
    expect(predictedSeconds(definition, seconds)).toBe(15);
  });
});

describe("treeFromDefinition", () => {
  const dag = { size: 3, preds: [[], [0], []], succs: [[1], [], []] };
  const t = (fn: string, next?: string) => ({
    Type: "Task",
    Parameters: { FunctionName: `arn:aws:lambda:eu-west-1:123456789012:function:${fn}:3` },
    ...(next ? { Next: next } : { End: true }),
  });
  const branch = (...fns: string[]) => ({
    StartAt: fns[0] as string,
    States: Object.fromEntries(fns.map((f, i) => [f, t(f, fns[i + 1])])),
  });

  it("reads a deployed definition back over this compile's tasks", () => {
    const definition = {
      StartAt: "prep",
      States: {
        prep: { Type: "Pass", Next: "p" },
        p: { Type: "Parallel", Branches: [branch("a", "b"), branch("c")], End: true },
      },
    };
    expect(treeFromDefinition(definition, ["a", "b", "c"], dag)).toEqual(
      parallel([series([task(0), task(1)]), task(2)]),
    );
  });

  it("refuses an order that breaks an edge, or other tasks than this compile's", () => {
    const broken = {
      StartAt: "p",
      States: { p: { Type: "Parallel", Branches: [branch("a"), branch("b", "c")], End: true } },
    };
    expect(treeFromDefinition(broken, ["a", "b", "c"], dag)).toBeUndefined();
    const fewer = { StartAt: "a", States: { a: t("a", "b"), b: t("b") } };
    expect(treeFromDefinition(fewer, ["a", "b", "c"], dag)).toBeUndefined();
  });
});

describe("a split pipeline's prediction", () => {
  it("follows the parent's child starts into the children", () => {
    const graph: PipelineGraph = {
      schema: "kedro-sfn/graph@1",
      nodes: Array.from({ length: 12 }, (_, i) => ({
        name: `c${i % 3}.n${Math.floor(i / 3)}`,
        namespace: `c${i % 3}`,
        tags: [],
        inputs: i < 3 ? [] : [`d${i - 3}`],
        outputs: [`d${i}`],
      })),
    };
    const durations = Object.fromEntries(graph.nodes.map((n, i) => [n.name, i % 3 === 1 ? 10 : 1]));
    const whole = compilePipeline(graph, options({ durations }));
    const split = compilePipeline(
      graph,
      options({ durations, split: { definitionBytes: 4_000, historyEvents: 30 } }),
    );
    expect(split.children?.length).toBeGreaterThanOrEqual(2);
    const seconds = (compiled: typeof whole) =>
      new Map(
        compiled.functions.map((f) => [f.functionName, f.nodes.reduce((s, n) => s + (durations[n] ?? 0), 0)]),
      );
    const children = new Map((split.children ?? []).map((c) => [c.name, c.definition]));
    // The chain of 10 s nodes is the critical path, whether it runs in one machine or in parts.
    expect(predictedSeconds(whole.definition, seconds(whole))).toBe(40);
    expect(predictedSeconds(split.definition, seconds(split), children)).toBe(40);
    expect(predictedSeconds(split.definition, seconds(split))).toBe(0);
  });
});
