/**
 * Shared functions (`function-sharing: by-settings`) in the compiler: Tasks with equal function
 * settings name one function, each keeps its own Task state and nodes; the default is
 * byte-identical to a compile that never heard of sharing; ECS Tasks are left alone.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import {
  compilePipeline,
  lambdaTasksOf,
  parseFunctionOverrides,
  stableStringify,
  type CompileOptions,
} from "../src/compile/index.js";
import { parseSharingSetting } from "../src/compile/functionConfig.js";
import type { AslDefinition, AslState } from "../src/compile/types.js";
import { Input } from "../src/constants.js";
import { UserError } from "../src/errors.js";
import { parseOptions } from "../src/options.js";
import { chooseStructure } from "../src/run/durationsLearned.js";
import { compileOptionsFrom } from "../src/stages/compileSettings.js";
import { spaceflightsGraph, SPACEFLIGHTS_NODES } from "./harness/pipelines.js";

const FILE = "conf/aws/sfn.yml";

function baseOptions(): CompileOptions {
  return {
    stateMachineName: "sf",
    groupBy: [],
    structure: "dag",
    functionDefaults: {
      memoryMb: 1024,
      timeoutSeconds: 300,
      ephemeralStorageMb: 512,
      architecture: "x86_64",
      environment: { KEDRO_ENV: "aws" },
    },
  };
}

function compile(extra: Partial<CompileOptions> = {}, yaml = "") {
  return compilePipeline(spaceflightsGraph(), {
    stateMachineName: "sf",
    groupBy: [],
    structure: "dag",
    functionDefaults: {
      memoryMb: 1024,
      timeoutSeconds: 300,
      ephemeralStorageMb: 512,
      architecture: "x86_64",
      environment: { KEDRO_ENV: "aws" },
    },
    overrides: parseFunctionOverrides(yaml, FILE),
    ecs: {
      cluster: "kedro",
      subnets: ["subnet-0123456789abcdef0"],
      securityGroups: [],
      assignPublicIp: false,
    },
    ...extra,
  });
}

/** Every Task state of a definition, Parallel branches included: name -> state. */
function taskStates(definition: { States: Record<string, AslState> }): Map<string, AslState> {
  const out = new Map<string, AslState>();
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === "Task") out.set(name, state);
    for (const branch of (state.Branches as AslDefinition[] | undefined) ?? [])
      for (const [n, s] of taskStates(branch)) out.set(n, s);
  }
  return out;
}

const params = (state: AslState) =>
  state.Parameters as { FunctionName?: string; Payload?: { nodes: string[] } };

describe("function sharing in the compiler", () => {
  it("is off by default: per-node compiles byte-identical to one without the option", () => {
    const plain = compile();
    const perNode = compile({ functionSharing: "per-node" });
    expect(stableStringify(perNode.definition)).toBe(stableStringify(plain.definition));
    expect(perNode.functions).toEqual(plain.functions);
    expect(plain.tasks).toBeUndefined();
    expect(plain.functions).toHaveLength(6);
    expect(lambdaTasksOf(plain)).toBe(plain.functions);
  });

  it("gives Tasks with equal settings one function; each Task keeps its own nodes and state", () => {
    const plain = compile();
    const shared = compile({ functionSharing: "by-settings" });
    expect(shared.functions).toHaveLength(1);
    const fn = shared.functions[0]!;
    expect(fn.functionName).toMatch(/^sf-shared-1024mb-[0-9a-f]{8}$/);
    expect([...fn.nodes].sort()).toEqual([...SPACEFLIGHTS_NODES].sort());
    const tasks = taskStates(shared.definition);
    expect(tasks.size).toBe(6);
    // Same states, same structure: only FunctionName differs from the per-node definition.
    expect([...tasks.keys()].sort()).toEqual([...taskStates(plain.definition).keys()].sort());
    for (const [name, state] of tasks) {
      expect(params(state).FunctionName).toBe(fn.functionName);
      const own = plain.functions.find((f) => f.stateName === name)!;
      expect(params(state).Payload?.nodes).toEqual(own.nodes);
    }
    expect(
      lambdaTasksOf(shared)
        .map((t) => t.stateName)
        .sort(),
    ).toEqual([...tasks.keys()].sort());
    expect(new Set(lambdaTasksOf(shared).map((t) => t.functionName))).toEqual(new Set([fn.functionName]));
  });

  it("splits into one function per distinct settings, named stably from the settings", () => {
    const yaml = `
functions:
  overrides:
    - namespace: data_science
      memory: 4096
    - node: data_science.train_model_node
      timeout: 900
    - node: data_processing.create_model_input_table_node
      environment: { THREADS: 4 }
`;
    const shared = compile({ functionSharing: "by-settings" }, yaml);
    const byFunction = Object.fromEntries(shared.functions.map((f) => [f.functionName, [...f.nodes].sort()]));
    expect(Object.values(byFunction).sort()).toEqual(
      [
        ["data_processing.create_model_input_table_node"],
        ["data_processing.preprocess_companies_node", "data_processing.preprocess_shuttles_node"],
        ["data_science.evaluate_model_node", "data_science.split_data_node"],
        ["data_science.train_model_node"],
      ].sort(),
    );
    const names = Object.keys(byFunction);
    expect(names.filter((n) => n.startsWith("sf-shared-4096mb-"))).toHaveLength(2);
    expect(names.filter((n) => n.startsWith("sf-shared-1024mb-"))).toHaveLength(2);
    // The name depends on the settings only: the same settings in another pipeline, the same function.
    const again = compile({ functionSharing: "by-settings" }, yaml);
    expect(again.functions.map((f) => f.functionName)).toEqual(shared.functions.map((f) => f.functionName));
    const defaultsOnly = compile({ functionSharing: "by-settings" });
    expect(names).toContain(defaultsOnly.functions[0]!.functionName);
    // Each function's spec carries its own settings.
    const train = shared.functions.find((f) => f.nodes.includes("data_science.train_model_node"))!;
    expect([train.memoryMb, train.timeoutSeconds]).toEqual([4096, 900]);
  });

  it("leaves ECS Tasks alone", () => {
    const yaml = `
functions:
  overrides:
    - node: data_science.train_model_node
      runner: ecs
      memory: 2048
`;
    const plain = compile({}, yaml);
    const shared = compile({ functionSharing: "by-settings" }, yaml);
    expect(shared.ecsTasks).toEqual(plain.ecsTasks);
    expect(shared.ecsTasks?.[0]?.nodes).toEqual(["data_science.train_model_node"]);
    expect(shared.functions).toHaveLength(1);
    expect(shared.functions[0]!.nodes).not.toContain("data_science.train_model_node");
    expect(lambdaTasksOf(shared)).toHaveLength(5);
    const ecsState = taskStates(shared.definition).get(shared.ecsTasks![0]!.stateName)!;
    expect(ecsState.Resource).toBe(taskStates(plain.definition).get(plain.ecsTasks![0]!.stateName)!.Resource);
  });

  it("keeps a deployed shared structure (learned durations), recognising Tasks by state name", () => {
    const shared = compile({ functionSharing: "by-settings" });
    const kept = compile({ functionSharing: "by-settings", keepStructure: shared.definition });
    expect(kept.report?.strategy).toBe("deployed");
    expect(stableStringify(kept.definition)).toBe(stableStringify(shared.definition));
    const durations = Object.fromEntries(SPACEFLIGHTS_NODES.map((n, i) => [n, 10 + i]));
    const choice = chooseStructure(
      spaceflightsGraph(),
      { ...baseOptions(), functionSharing: "by-settings" },
      shared,
      { durations, executions: 3 },
      shared.definition,
    );
    // Spaceflights is series-parallel: the durations choose the structure it has already.
    expect(choice.learned).toBe(false);
    expect(choice.note).toMatch(/^Structure kept/);
  });

  it("fits Lambda's 64 characters with the longest prefix and memory", () => {
    const prefix = "p".repeat(40);
    const shared = compile(
      {
        functionSharing: "by-settings",
        functionPrefix: prefix,
        functionDefaults: {
          memoryMb: 10240,
          timeoutSeconds: 300,
          ephemeralStorageMb: 512,
          architecture: "x86_64",
          environment: {},
        },
      },
      "",
    );
    expect(shared.functions[0]!.functionName.length).toBeLessThanOrEqual(64);
    expect(shared.functions[0]!.functionName).toMatch(new RegExp(`^${prefix}-shared-10240mb-[0-9a-f]{8}$`));
  });
});

describe("function sharing settings", () => {
  const read = (values: Partial<Record<Input, string>>) => (name: Input) => values[name] ?? "";

  it("refuses a bad input value, naming the input and the allowed values", () => {
    expect(() => parseOptions(read({ [Input.FunctionSharing]: "shared" }))).toThrow(
      /Input 'function-sharing' must be one of per-node, by-settings; got "shared"/,
    );
    expect(() => parseOptions(read({ [Input.FunctionSharing]: "shared" }))).toThrow(UserError);
    expect(parseOptions(read({})).functionSharing).toBe("");
  });

  it("reads functions.sharing from sfn.yml and refuses bad values there, naming the file", () => {
    expect(parseSharingSetting("functions:\n  sharing: by-settings\n", FILE)).toBe("by-settings");
    expect(parseSharingSetting("functions:\n  defaults: { memory: 2048 }\n", FILE)).toBeUndefined();
    expect(() => parseSharingSetting("functions:\n  sharing: true\n", FILE)).toThrow(
      /conf\/aws\/sfn.yml: sharing must be one of per-node, by-settings; got true/,
    );
    // The overrides parser accepts the key beside defaults and overrides.
    expect(parseFunctionOverrides("functions:\n  sharing: by-settings\n", FILE)).toEqual([]);
  });

  it("takes sfn.yml's setting unless the input is set, which wins", () => {
    const project = mkdtempSync(join(tmpdir(), "sharing-"));
    mkdirSync(join(project, "conf", "aws"), { recursive: true });
    writeFileSync(join(project, "conf", "aws", "sfn.yml"), "functions:\n  sharing: by-settings\n");
    const base = { [Input.StateMachineName]: "sf", [Input.ProjectPath]: project };
    expect(compileOptionsFrom(parseOptions(read(base)), project).functionSharing).toBe("by-settings");
    const perNode = parseOptions(read({ ...base, [Input.FunctionSharing]: "per-node" }));
    expect(compileOptionsFrom(perNode, project).functionSharing).toBeUndefined();
    writeFileSync(join(project, "conf", "aws", "sfn.yml"), "functions:\n  defaults: { memory: 2048 }\n");
    expect(compileOptionsFrom(parseOptions(read(base)), project).functionSharing).toBeUndefined();
    const input = parseOptions(read({ ...base, [Input.FunctionSharing]: "by-settings" }));
    expect(compileOptionsFrom(input, project).functionSharing).toBe("by-settings");
  });
});
