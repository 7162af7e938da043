import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { createRequire } from "node:module";
import type { RunOptions } from "aws-local-stepfunctions";
import { compilePipeline, type CompileOptions } from "../src/compile/index.js";
import type { AslDefinition, AslState } from "../src/compile/types.js";
import { GRAPH_SCHEMA, type PipelineGraph } from "../src/graph/types.js";

const require = createRequire(import.meta.url);
const aslValidator = require("asl-validator") as (definition: unknown) => {
  isValid: boolean;
  errorsText: (s?: string) => string;
};

type Resolvers<T> = { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void };
const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };
P.withResolvers ??= <T>() => {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => {
    resolve = a;
    reject = b;
  });
  return { promise, resolve, reject };
};
const { StateMachine } = await import("aws-local-stepfunctions");
type LocalHandlers = NonNullable<NonNullable<RunOptions["overrides"]>["taskResourceLocalHandlers"]>;

const defaults: CompileOptions["functionDefaults"] = {
  memoryMb: 512,
  timeoutSeconds: 60,
  ephemeralStorageMb: 512,
  architecture: "arm64",
  environment: {},
};

/** Random pipelines: node i reads outputs of earlier nodes (any DAG, series-parallel or not). */
const pipelines = fc
  .integer({ min: 1, max: 18 })
  .chain((n) =>
    fc.record({
      parents: fc.tuple(
        ...Array.from({ length: n }, (_, i) =>
          fc.subarray(
            Array.from({ length: i }, (_, j) => j),
            { maxLength: Math.min(4, i) },
          ),
        ),
      ),
      namespaces: fc.array(fc.constantFrom(null, "ingest", "features", "model.train"), {
        minLength: n,
        maxLength: n,
      }),
      ephemeral: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      durations: fc.array(fc.double({ min: 1, max: 300, noNaN: true }), { minLength: n, maxLength: n }),
    }),
  )
  .map(({ parents, namespaces, ephemeral, durations }) => {
    const names = parents.map((_, i) => (namespaces[i] ? `${namespaces[i]}.node_${i}` : `node_${i}`));
    const graph: PipelineGraph = {
      schema: GRAPH_SCHEMA,
      nodes: parents.map((ps, i) => ({
        name: names[i] as string,
        namespace: namespaces[i] ?? null,
        tags: [],
        inputs: ps.length === 0 ? [`raw_${i}`] : ps.map((p) => `d_${p}`),
        outputs: [`d_${i}`],
      })),
      datasets: Object.fromEntries(
        parents.map((_, i) => [`d_${i}`, { type: "T", ephemeral: ephemeral[i] ?? false }]),
      ),
    };
    return { graph, durations: Object.fromEntries(names.map((n, i) => [n, durations[i] as number])) };
  });

function tasks(states: Record<string, AslState>): [string, AslState][] {
  return Object.entries(states).flatMap(([name, s]) => [
    ...(s.Type === "Task" ? [[name, s] as [string, AslState]] : []),
    ...((s.Branches as { States: Record<string, AslState> }[] | undefined) ?? []).flatMap((b) =>
      tasks(b.States),
    ),
  ]);
}

/** Makespan of a definition with the given node durations (sequence sums, Parallel takes the longest branch). */
function simulate(
  machine: { StartAt: string; States: Record<string, AslState> },
  durations: Record<string, number>,
): number {
  let t = 0;
  let name: string | undefined = machine.StartAt;
  while (name !== undefined) {
    const s = machine.States[name] as AslState;
    if (s.Type === "Task") {
      for (const n of (s.Parameters as { Payload: { nodes: string[] } }).Payload.nodes)
        t += durations[n] ?? 0;
    } else if (s.Type === "Parallel") {
      t += Math.max(
        ...(s.Branches as { StartAt: string; States: Record<string, AslState> }[]).map((b) =>
          simulate(b, durations),
        ),
      );
    }
    name = s.End === true ? undefined : (s.Next as string | undefined);
  }
  return t;
}

function layered(graph: PipelineGraph, durations: Record<string, number>): number {
  const producer = new Map(graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n.name] as const)));
  const level = new Map<string, number>();
  const widest = new Map<number, number>();
  for (const n of graph.nodes) {
    const l = Math.max(-1, ...n.inputs.map((i) => level.get(producer.get(i) ?? "") ?? -1)) + 1;
    level.set(n.name, l);
    widest.set(l, Math.max(widest.get(l) ?? 0, durations[n.name] ?? 0));
  }
  return [...widest.values()].reduce((a, b) => a + b, 0);
}

async function runOrdered(graph: PipelineGraph, definition: AslDefinition): Promise<void> {
  const log: { kind: "start" | "end"; nodes: string[] }[] = [];
  const handlers: LocalHandlers = {};
  let tick = 0;
  for (const [name] of tasks(definition.States)) {
    handlers[name] = async (input) => {
      const nodes = (input as { Payload: { nodes: string[] } }).Payload.nodes;
      log.push({ kind: "start", nodes });
      await new Promise((r) => setTimeout(r, (tick++ * 3) % 4));
      log.push({ kind: "end", nodes });
      return null;
    };
  }
  const run = new StateMachine(definition as never).run(
    {},
    {
      overrides: { taskResourceLocalHandlers: handlers },
      context: { Execution: { Name: "prop" } },
    },
  );
  await run.result;
  const producer = new Map(graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n.name] as const)));
  const startOf = (n: string) => log.findIndex((e) => e.kind === "start" && e.nodes.includes(n));
  const endOf = (n: string) => log.findIndex((e) => e.kind === "end" && e.nodes.includes(n));
  for (const node of graph.nodes) {
    expect(log.filter((e) => e.kind === "start" && e.nodes.includes(node.name))).toHaveLength(1);
    for (const input of node.inputs) {
      const p = producer.get(input);
      if (p === undefined) continue;
      const own = log[startOf(node.name)]?.nodes ?? [];
      if (own.includes(p)) expect(own.indexOf(p)).toBeLessThan(own.indexOf(node.name));
      else expect(endOf(p)).toBeLessThan(startOf(node.name));
    }
  }
}

describe("compiled definitions over random pipelines", () => {
  it("are valid ASL, run every node once after its producers, and are never slower than the layered chain", async () => {
    await fc.assert(
      fc.asyncProperty(
        pipelines,
        fc.subarray(["namespace", "memory"] as const),
        fc.boolean(),
        fc.constantFrom<"dag" | "layered">("dag", "layered"),
        async ({ graph, durations }, groupBy, known, structure) => {
          const compiled = compilePipeline(graph, {
            stateMachineName: "prop",
            groupBy: [...groupBy],
            structure,
            functionDefaults: defaults,
            ...(known ? { durations } : {}),
          });
          const check = aslValidator(structuredClone(compiled.definition));
          if (!check.isValid) throw new Error(check.errorsText("\n"));
          for (const [, t] of tasks(compiled.definition.States)) expect(t.TimeoutSeconds).toBe(120);
          await runOrdered(graph, compiled.definition);
          if (known && groupBy.length === 0) {
            expect(simulate(compiled.definition, durations)).toBeLessThanOrEqual(
              layered(graph, durations) + 1e-6,
            );
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
