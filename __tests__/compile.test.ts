import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { RunOptions } from "aws-local-stepfunctions";
import {
  bindFunctionArns,
  compilePipeline,
  failStateNameOf,
  stableStringify,
  taskOfNode,
  type CompileOptions,
} from "../src/compile/index.js";
import { parseFunctionOverrides } from "../src/compile/functionConfig.js";
import type { AslDefinition, AslState, CompiledPipeline } from "../src/compile/types.js";
import { UserError } from "../src/errors.js";
import { producersOf } from "../src/graph/dag.js";
import { parseGraph } from "../src/graph/parse.js";
import { GRAPH_SCHEMA, type PipelineGraph } from "../src/graph/types.js";

const require = createRequire(import.meta.url);
const aslValidator = require("asl-validator") as (
  definition: unknown,
  options?: { checkArn?: boolean; checkPaths?: boolean },
) => { isValid: boolean; errorsText: (separator?: string) => string };

// aws-local-stepfunctions needs Promise.withResolvers (Node 22+).
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
  memoryMb: 1024,
  timeoutSeconds: 300,
  ephemeralStorageMb: 512,
  architecture: "x86_64",
  environment: {},
};
const options = (extra: Partial<CompileOptions> = {}): CompileOptions => ({
  stateMachineName: "spaceflights",
  groupBy: [],
  structure: "dag",
  functionDefaults: defaults,
  ...extra,
});

function benchGraph(name: string): { graph: PipelineGraph; durations: Record<string, number> } {
  const text = readFileSync(`bench/graphs/${name}.json`, "utf8");
  return {
    graph: parseGraph(text, name),
    durations: (JSON.parse(text) as { durations: Record<string, number> }).durations,
  };
}

export function expectValidAsl(definition: AslDefinition): void {
  const result = aslValidator(structuredClone(definition));
  if (!result.isValid) throw new Error(`invalid ASL: ${result.errorsText("\n")}`);
}

function allStates(definition: { States: Record<string, AslState> }): [string, AslState][] {
  return Object.entries(definition.States).flatMap(([name, state]) => [
    [name, state] as [string, AslState],
    ...((state.Branches as { States: Record<string, AslState> }[] | undefined) ?? []).flatMap(allStates),
  ]);
}

interface LocalRun {
  events: { kind: "start" | "end"; nodes: string[]; state: string; payload: Record<string, unknown> }[];
  output?: unknown;
  error?: Error;
}

/** Runs a definition in-process with a handler per Task that records when each task starts and ends. */
async function runLocally(
  definition: AslDefinition,
  input: Record<string, unknown> = {},
  failing?: string,
): Promise<LocalRun> {
  const run: LocalRun = { events: [] };
  const handlers: LocalHandlers = {};
  let tick = 0;
  for (const [name, state] of allStates(definition)) {
    if (state.Type !== "Task") continue;
    expect(typeof state.TimeoutSeconds).toBe("number");
    handlers[name] = async (taskInput) => {
      const payload = (taskInput as { Payload: Record<string, unknown> }).Payload;
      const nodes = payload.nodes as string[];
      run.events.push({ kind: "start", nodes, state: name, payload });
      // Vary the timing so that a missing dependency would show.
      await new Promise((r) => setTimeout(r, (tick++ * 7) % 5));
      if (nodes.includes(failing ?? "\u0000")) {
        const error = new Error(`node ${failing} exploded`);
        error.name = "ValueError";
        throw error;
      }
      run.events.push({ kind: "end", nodes, state: name, payload });
      return { ok: true };
    };
  }
  const machine = new StateMachine(definition as never);
  const execution = machine.run(input as never, {
    overrides: { taskResourceLocalHandlers: handlers },
    context: { Execution: { Name: "run-42" } },
  });
  try {
    run.output = await execution.result;
  } catch (error) {
    run.error = error as Error;
  }
  return run;
}

/** Every node runs once, and only after the nodes producing its inputs have finished. */
function expectOrdered(graph: PipelineGraph, run: LocalRun): void {
  const producers = producersOf(graph);
  const started = new Map<string, number>();
  const ended = new Map<string, number>();
  run.events.forEach((e, i) => {
    for (const n of e.nodes) {
      if (e.kind === "start") {
        expect(started.has(n)).toBe(false);
        started.set(n, i);
      } else ended.set(n, i);
    }
  });
  for (const node of graph.nodes) {
    expect(started.has(node.name)).toBe(true);
    expect(ended.has(node.name)).toBe(true);
    for (const input of node.inputs) {
      const p = producers.get(input);
      if (p === undefined) continue;
      // Nodes of one task run in order inside it; across tasks the producer's task must have ended.
      const sameTask = run.events
        .find((e) => e.kind === "start" && e.nodes.includes(node.name))
        ?.nodes.includes(p);
      if (sameTask) {
        const nodes = run.events.find((e) => e.kind === "start" && e.nodes.includes(node.name))?.nodes ?? [];
        expect(nodes.indexOf(p)).toBeLessThan(nodes.indexOf(node.name));
      } else {
        expect(ended.get(p)).toBeLessThan(started.get(node.name) as number);
      }
    }
  }
}

describe("compilePipeline", () => {
  it("compiles spaceflights to its own shape: valid ASL that runs every node after its producers", async () => {
    const { graph } = benchGraph("spaceflights");
    const compiled = compilePipeline(graph, options());
    expectValidAsl(compiled.definition);
    expect(compiled.report.strategy).toBe("exact");
    expect(compiled.functions.map((f) => f.functionName)).toEqual([
      "spaceflights-data_processing-create_model_input_table_node",
      "spaceflights-data_processing-preprocess_companies_node",
      "spaceflights-data_processing-preprocess_shuttles_node",
      "spaceflights-data_science-evaluate_model_node",
      "spaceflights-data_science-split_data_node",
      "spaceflights-data_science-train_model_node",
    ]);
    const run = await runLocally(compiled.definition);
    expect(run.error).toBeUndefined();
    expectOrdered(graph, run);
    expect(run.events.length).toBe(12);
  });

  it("builds each Task as the design says", () => {
    const { graph } = benchGraph("spaceflights");
    const compiled = compilePipeline(
      graph,
      options({ functionDefaults: { ...defaults, timeoutSeconds: 120 } }),
    );
    const [name, task] = allStates(compiled.definition).find(
      ([n]) => n === "data_science.train_model_node",
    ) as [string, AslState];
    expect(task).toMatchObject({
      Type: "Task",
      Resource: "arn:aws:states:::lambda:invoke",
      Parameters: {
        FunctionName: "spaceflights-data_science-train_model_node",
        Payload: {
          nodes: ["data_science.train_model_node"],
          "kedro_sfn.$": "$.kedro_sfn",
          "params.$": "$.params",
        },
      },
      ResultPath: null,
      TimeoutSeconds: 180,
      Retry: [
        {
          ErrorEquals: [
            "Lambda.ServiceException",
            "Lambda.AWSLambdaException",
            "Lambda.SdkClientException",
            "Lambda.TooManyRequestsException",
          ],
          IntervalSeconds: 2,
          MaxAttempts: 6,
          BackoffRate: 2,
          MaxDelaySeconds: 60,
          JitterStrategy: "FULL",
        },
      ],
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: `${name} failed` }],
    });
    const spec = compiled.functions.find((f) => f.stateName === name);
    expect(spec && failStateNameOf(spec)).toBe(`${name} failed`);
    expect(allStates(compiled.definition).find(([n]) => n === `${name} failed`)?.[1]).toMatchObject({
      Type: "Fail",
      ErrorPath: "$.error.Error",
      CausePath: "$.error.Cause",
    });
  });

  it("passes the execution's params, or an empty object when the input has none", async () => {
    const { graph } = benchGraph("spaceflights");
    const { definition } = compilePipeline(graph, options());
    const withParams = await runLocally(definition, { params: { test_size: 0.3 }, other: 1 });
    expect(withParams.events[0]?.payload).toEqual({
      nodes: expect.any(Array) as unknown,
      kedro_sfn: { run_id: "run-42", skip: [] },
      params: { test_size: 0.3 },
    });
    const bare = await runLocally(definition, {});
    expect(bare.events[0]?.payload.params).toEqual({});
  });

  it("passes a resume's own run context (first run's id, skip list) instead of the defaults", async () => {
    const { graph } = benchGraph("spaceflights");
    const { definition } = compilePipeline(graph, options());
    const context = {
      run_id: "first-run",
      skip: ["data_processing.preprocess_companies_node"],
      resumed_from: "arn",
    };
    const resumed = await runLocally(definition, { params: { test_size: 0.3 }, kedro_sfn: context });
    expect(resumed.events.map((e) => e.payload["kedro_sfn"])).toEqual(resumed.events.map(() => context));
  });

  it("ends the execution in the failing task's Fail state, with the node's error and cause", async () => {
    const { graph } = benchGraph("spaceflights");
    const { definition } = compilePipeline(graph, options());
    const run = await runLocally(definition, {}, "data_processing.preprocess_shuttles_node");
    expect(run.error?.message).toMatch(/node data_processing.preprocess_shuttles_node exploded/);
    expect((run.error?.cause as { name?: string } | undefined)?.name ?? run.error?.name).toBeDefined();
    expect(run.events.some((e) => e.nodes.includes("data_science.train_model_node"))).toBe(false);
  });

  it.each(["fan_100", "modular_5x6", "n_shape", "random_20", "random_50", "random_120", "sp_60"])(
    "compiles %s with and without durations to valid ASL that respects every dependency",
    async (name) => {
      const { graph, durations } = benchGraph(name);
      for (const compiled of [
        compilePipeline(graph, options()),
        compilePipeline(graph, options({ durations })),
      ]) {
        expectValidAsl(compiled.definition);
        expectOrdered(graph, await runLocally(compiled.definition));
      }
    },
  );

  it("groups by namespace and by memory, and runs grouped nodes in order", async () => {
    const { graph } = benchGraph("spaceflights");
    const withMemory: PipelineGraph = {
      ...graph,
      datasets: { model_input_table: { type: "MemoryDataset", ephemeral: true } },
    };
    const byNamespace = compilePipeline(graph, options({ groupBy: ["namespace"] }));
    expect(byNamespace.functions.map((f) => [f.functionName, f.nodes])).toEqual([
      [
        "spaceflights-data_processing",
        [
          "data_processing.preprocess_companies_node",
          "data_processing.preprocess_shuttles_node",
          "data_processing.create_model_input_table_node",
        ],
      ],
      [
        "spaceflights-data_science",
        ["data_science.split_data_node", "data_science.train_model_node", "data_science.evaluate_model_node"],
      ],
    ]);
    expectValidAsl(byNamespace.definition);
    expectOrdered(graph, await runLocally(byNamespace.definition));
    const byMemory = compilePipeline(withMemory, options({ groupBy: ["memory"] }));
    const task = taskOfNode(byMemory);
    expect(task.get("data_processing.create_model_input_table_node")).toBe(
      task.get("data_science.split_data_node"),
    );
    expect(byMemory.functions).toHaveLength(5);
    expectOrdered(withMemory, await runLocally(byMemory.definition));
  });

  it("reports groups merged to keep the task graph acyclic", () => {
    const graph: PipelineGraph = {
      schema: GRAPH_SCHEMA,
      nodes: [
        { name: "a.one", namespace: "a", tags: [], inputs: [], outputs: ["d1"] },
        { name: "b.mid", namespace: "b", tags: [], inputs: ["d1"], outputs: ["d2"] },
        { name: "a.two", namespace: "a", tags: [], inputs: ["d2"], outputs: ["d3"] },
      ],
    };
    const compiled = compilePipeline(graph, options({ groupBy: ["namespace"] }));
    expect(compiled.merges).toEqual([
      {
        functionName: expect.stringMatching(/^spaceflights-a-one_2-[0-9a-f]{8}$/) as unknown,
        nodes: ["a.one", "b.mid", "a.two"],
        reason: expect.any(String) as unknown,
      },
    ]);
    expect(compiled.warnings[0]).toMatch(/^Merged into one task/);
  });

  it("reproduces the seed's level-by-level shape on request", () => {
    const { graph } = benchGraph("n_shape");
    const compiled = compilePipeline(graph, options({ structure: "layered" }));
    expect(compiled.report.strategy).toBe("layered");
    const top = compiled.definition.States;
    const chain = Object.values(top).filter((s) => s.Type === "Parallel" || s.Type === "Task");
    expect(chain.map((s) => s.Type)).toEqual(["Parallel", "Parallel"]);
  });

  it("gives byte-identical output for identical input", () => {
    const { graph, durations } = benchGraph("random_120");
    for (const extra of [{}, { durations }]) {
      const a = stableStringify(compilePipeline(graph, options(extra)).definition);
      const b = stableStringify(compilePipeline(structuredClone(graph), options(extra)).definition);
      expect(a).toBe(b);
    }
  });

  it("applies function overrides and warns about durations for unknown nodes", () => {
    const { graph, durations } = benchGraph("spaceflights");
    const overrides = parseFunctionOverrides(
      "overrides:\n  - namespace: data_science\n    memory: 4096\n  - tag: none\n    memory: 256\n",
      "sfn.yml",
    );
    const compiled = compilePipeline(
      graph,
      options({ overrides, durations: { ...durations, ghost_node: 3 } }),
    );
    expect(compiled.functions.filter((f) => f.memoryMb === 4096)).toHaveLength(3);
    expect(compiled.warnings).toEqual([
      "sfn.yml overrides[1] (tag: none) matches no node in this pipeline; it has no effect.",
      "The durations name 1 node(s) not in this pipeline ('ghost_node'); they are ignored.",
    ]);
  });

  it("uses the function prefix, and keeps every name within AWS limits", () => {
    const { graph } = benchGraph("random_300");
    const compiled = compilePipeline(graph, options({ functionPrefix: "nightly" }));
    for (const f of compiled.functions) {
      expect(f.functionName).toMatch(/^nightly-[A-Za-z0-9_-]+$/);
      expect(f.functionName.length).toBeLessThanOrEqual(64);
    }
    const names = allStates(compiled.definition).map(([n]) => n);
    expect(new Set(names).size).toBe(names.length);
    expect(Math.max(...names.map((n) => n.length))).toBeLessThanOrEqual(80);
    expect([...compiled.functions].sort((a, b) => (a.functionName < b.functionName ? -1 : 1))).toEqual(
      compiled.functions,
    );
  });

  it("refuses a pipeline whose history would exceed 25,000 events, with the figures, when it may not split", () => {
    const nodes = Array.from({ length: 5100 }, (_, i) => ({
      name: `n${i}`,
      namespace: null,
      tags: [],
      inputs: [],
      outputs: [`d${i}`],
    }));
    const e = (() => {
      try {
        compilePipeline({ schema: GRAPH_SCHEMA, nodes }, options({ split: "never" }));
      } catch (error) {
        return error as UserError;
      }
      throw new Error("expected an error");
    })();
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toMatch(
      /A run would write about 25510 history events \(5100 tasks x 5, 1 Parallel states x 4, plus 6\); a Standard execution stops at 25000/,
    );
    expect(e.message).toMatch(/definition would be \d+ bytes/);
    expect(e.hint).toMatch(/group-by/);
  });

  it("refuses a definition over 1 MB as sent, with the figures, when it may not split", () => {
    const long = "x".repeat(240);
    const nodes = Array.from({ length: 1500 }, (_, i) => ({
      name: `${long}_${i}`,
      namespace: null,
      tags: [],
      inputs: [],
      outputs: [`d${i}`],
    }));
    expect(() => compilePipeline({ schema: GRAPH_SCHEMA, nodes }, options({ split: "never" }))).toThrow(
      /^The state machine definition would be \d+ bytes as sent \(bound to function versions, escaped in the request\); Step Functions accepts at most 1048576 \(1 MB\)\. It has 1500 tasks and 1 Parallel states\.$/,
    );
    // Allowed to split (the default), the same pipeline compiles into child state machines.
    expect(compilePipeline({ schema: GRAPH_SCHEMA, nodes }, options()).children?.length).toBeGreaterThan(1);
  });

  it("binds function ARNs into a copy of the definition", () => {
    const { graph } = benchGraph("spaceflights");
    const compiled: CompiledPipeline = compilePipeline(graph, options());
    const arns = Object.fromEntries(
      compiled.functions.map((f) => [
        f.functionName,
        `arn:aws:lambda:us-east-1:123456789012:function:${f.functionName}:7`,
      ]),
    );
    const bound = bindFunctionArns(compiled.definition, arns);
    const fns = allStates(bound)
      .filter(([, s]) => s.Type === "Task")
      .map(([, s]) => (s.Parameters as { FunctionName: string }).FunctionName);
    expect(fns.every((f) => f.startsWith("arn:aws:lambda:") && f.endsWith(":7"))).toBe(true);
    expect(stableStringify(compiled.definition)).not.toMatch(/arn:aws:lambda/);
    expectValidAsl(bound);
    expect(() => bindFunctionArns(compiled.definition, {})).toThrow(/No ARN for function spaceflights-/);
  });
});
