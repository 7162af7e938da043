import { describe, expect, it } from "@jest/globals";
import { durationsFor, parseDurations } from "../src/compile/durations.js";
import { parseFunctionOverrides, type FunctionSettings } from "../src/compile/functionConfig.js";
import { resolveFunctionSettings } from "../src/compile/functions.js";
import { UserError } from "../src/errors.js";
import type { GraphNode } from "../src/graph/types.js";

const defaults: FunctionSettings = {
  memoryMb: 1024,
  timeoutSeconds: 300,
  ephemeralStorageMb: 512,
  architecture: "x86_64",
  environment: { KEDRO_ENV: "aws" },
};
const node = (name: string, namespace: string | null = null, tags: string[] = []): GraphNode => ({
  name,
  namespace,
  tags,
  inputs: [],
  outputs: [],
});
const train = node("data_science.train_model_node", "data_science", ["heavy"]);
const split = node("data_science.split_data_node", "data_science");
const report = node("reporting.plot_node", "reporting");
const one = (n: GraphNode) => ({ nodes: [n], functionName: `fn-${n.name}` });

function errorOf(fn: () => unknown): UserError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return error as UserError;
  }
  throw new Error("expected a UserError");
}

const yaml = `
functions:
  defaults:
    memory: 2048
    environment: { LOG_LEVEL: INFO }
  overrides:
    - namespace: data_science
      timeout: 600
    - tag: heavy
      memory: 8192
      ephemeral_storage: 4096
    - regex: "^reporting\\\\."
      architecture: arm64
    - node: data_science.train_model_node
      timeout: 900
      environment: { THREADS: 8 }
`;

describe("function settings", () => {
  it("apply defaults, then namespace, tag, regex and node overrides, most specific last", () => {
    const overrides = parseFunctionOverrides(yaml, "conf/aws/sfn.yml");
    const { settings, warnings } = resolveFunctionSettings(
      [one(train), one(split), one(report)],
      defaults,
      overrides,
    );
    expect(warnings).toEqual([]);
    expect(settings[0]).toEqual({
      memoryMb: 8192,
      timeoutSeconds: 900,
      ephemeralStorageMb: 4096,
      architecture: "x86_64",
      environment: { KEDRO_ENV: "aws", LOG_LEVEL: "INFO", THREADS: "8" },
    });
    expect(settings[1]).toMatchObject({ memoryMb: 2048, timeoutSeconds: 600, ephemeralStorageMb: 512 });
    expect(settings[2]).toMatchObject({ memoryMb: 2048, timeoutSeconds: 300, architecture: "arm64" });
  });

  it("accept the same keys without the `functions` wrapper, and nothing for an empty file", () => {
    expect(parseFunctionOverrides("overrides:\n  - node: a\n    memory: 256\n", "f.yml")).toHaveLength(1);
    expect(parseFunctionOverrides("", "f.yml")).toEqual([]);
  });

  it("give a task the largest memory, timeout and storage of its nodes", () => {
    const overrides = parseFunctionOverrides(yaml, "sfn.yml");
    const { settings } = resolveFunctionSettings(
      [{ nodes: [split, train], functionName: "fn" }],
      defaults,
      overrides,
    );
    expect(settings[0]).toMatchObject({ memoryMb: 8192, timeoutSeconds: 900, ephemeralStorageMb: 4096 });
  });

  it("warn about overrides that name nothing", () => {
    const overrides = parseFunctionOverrides(
      "overrides:\n  - tag: gpu\n    memory: 4096\n  - node: [data_science.train_model_node, gone]\n    memory: 4096\n",
      "sfn.yml",
    );
    const { warnings } = resolveFunctionSettings([one(train)], defaults, overrides);
    expect(warnings).toEqual([
      "sfn.yml overrides[0] (tag: gpu) matches no node in this pipeline; it has no effect.",
      "sfn.yml overrides[1] (node: data_science.train_model_node, gone) names nodes not in this pipeline: gone.",
    ]);
  });

  it("refuse conflicting overrides, naming both", () => {
    const overrides = parseFunctionOverrides(
      "overrides:\n  - tag: heavy\n    memory: 4096\n  - namespace: data_science\n    memory: 2048\n  - tag: gpu\n    memory: 8192\n",
      "sfn.yml",
    );
    // A tag beats a namespace: no conflict.
    expect(resolveFunctionSettings([one(train)], defaults, overrides).settings[0]?.memoryMb).toBe(4096);
    const both = node("x", null, ["heavy", "gpu"]);
    const e = errorOf(() => resolveFunctionSettings([one(both)], defaults, overrides));
    expect(e.message).toBe(
      "Conflicting settings for node 'x': sfn.yml overrides[0] (tag: heavy) sets memory to 4096, sfn.yml overrides[2] (tag: gpu) sets it to 8192.",
    );
  });

  it("refuse values outside Lambda's limits, naming the node, the limit and where the value came from", () => {
    const big = parseFunctionOverrides("overrides:\n  - tag: heavy\n    memory: 20000\n", "sfn.yml");
    const e = errorOf(() => resolveFunctionSettings([one(train)], defaults, big));
    expect(e.message).toBe(
      "Node 'data_science.train_model_node' (function fn-data_science.train_model_node): memory 20000 MB is outside Lambda's limits (128-10240 MB).",
    );
    expect(e.hint).toMatch(/sfn\.yml overrides\[0\] \(tag: heavy\)/);
    const disk = parseFunctionOverrides("defaults:\n  ephemeral_storage: 100\n", "sfn.yml");
    expect(errorOf(() => resolveFunctionSettings([one(split)], defaults, disk)).message).toMatch(
      /ephemeral storage 100 MB .*512-10240/,
    );
  });

  it("say so when a node needs more than 15 minutes", () => {
    const long = parseFunctionOverrides("overrides:\n  - tag: heavy\n    timeout: 1800\n", "sfn.yml");
    const e = errorOf(() => resolveFunctionSettings([one(train)], defaults, long));
    expect(e.message).toMatch(
      /Node 'data_science.train_model_node' .* needs more than 15 minutes \(timeout 1800 s\); a Lambda function runs at most 900 s/,
    );
    expect(() => resolveFunctionSettings([one(train)], { ...defaults, timeoutSeconds: 901 }, [])).toThrow(
      /more than 15 minutes/,
    );
  });

  it("refuse malformed files and settings", () => {
    expect(errorOf(() => parseFunctionOverrides("overrides: [", "sfn.yml")).message).toMatch(
      /sfn\.yml is not valid YAML/,
    );
    expect(errorOf(() => parseFunctionOverrides("overrides:\n  - memory: 1\n", "sfn.yml")).message).toMatch(
      /exactly one of node, namespace, tag, regex/,
    );
    expect(
      errorOf(() => parseFunctionOverrides("overrides:\n  - node: a\n    memroy: 1\n", "sfn.yml")).message,
    ).toMatch(/unknown setting 'memroy'/);
    expect(
      errorOf(() => parseFunctionOverrides("defaults:\n  architecture: sparc\n", "sfn.yml")).message,
    ).toMatch(/x86_64 or arm64/);
    expect(
      errorOf(() => parseFunctionOverrides("overrides:\n  - regex: '('\n    memory: 256\n", "sfn.yml"))
        .message,
    ).toMatch(/not a valid regular expression/);
    expect(errorOf(() => parseFunctionOverrides("defaults:\n  memory: 1.5\n", "sfn.yml")).message).toMatch(
      /whole number/,
    );
    expect(errorOf(() => parseFunctionOverrides("runtime: x\n", "sfn.yml")).message).toMatch(
      /unknown key 'runtime'/,
    );
  });

  it("refuse reserved and invalid environment variables, and disagreeing groups", () => {
    const reserved = parseFunctionOverrides("defaults:\n  environment: { AWS_REGION: x }\n", "sfn.yml");
    expect(() => resolveFunctionSettings([one(split)], defaults, reserved)).toThrow(/AWS_REGION is reserved/);
    const arch = parseFunctionOverrides("overrides:\n  - tag: heavy\n    architecture: arm64\n", "sfn.yml");
    expect(() =>
      resolveFunctionSettings([{ nodes: [split, train], functionName: "fn" }], defaults, arch),
    ).toThrow(
      /runs nodes 'data_science.split_data_node' \(x86_64\) and 'data_science.train_model_node' \(arm64\)/,
    );
  });
});

describe("durations", () => {
  it("parse a map or a {durations} object", () => {
    expect(parseDurations('{"a": 1.5, "b": 0}', "d.json")).toEqual({ a: 1.5, b: 0 });
    expect(parseDurations('{"durations": {"a": 2}}', "d.json")).toEqual({ a: 2 });
  });

  it("refuse what is not seconds per node", () => {
    expect(() => parseDurations("nope", "d.json")).toThrow(/d\.json is not JSON/);
    expect(() => parseDurations("[1]", "d.json")).toThrow(/must be a JSON object/);
    expect(() => parseDurations('{"a": -1}', "d.json")).toThrow(
      /duration of 'a' must be a number of seconds >= 0/,
    );
  });

  it("warn about unknown nodes and fill missing ones with the median", () => {
    const { seconds, warnings } = durationsFor(["a", "b", "c", "d"], { a: 1, b: 3, c: 10, ghost: 5 });
    expect(seconds.get("d")).toBe(3);
    expect(warnings).toEqual([
      "The durations name 1 node(s) not in this pipeline ('ghost'); they are ignored.",
      "1 node(s) have no duration hint; they are assumed to take 3 s (the median).",
    ]);
  });
});
