import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { UserError } from "../src/errors.js";
import { parseGraph } from "../src/graph/parse.js";

const node = (name: string, inputs: string[], outputs: string[], extra: Record<string, unknown> = {}) => ({
  name,
  namespace: null,
  tags: [],
  inputs,
  outputs,
  ...extra,
});
const doc = (nodes: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ schema: "kedro-sfn/graph@1", pipeline: "__default__", nodes, ...extra });

function errorOf(fn: () => unknown): UserError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return error as UserError;
  }
  throw new Error("expected a UserError");
}

describe("parseGraph", () => {
  it("reads a benchmark graph and drops unknown top-level keys", () => {
    const text = readFileSync("bench/graphs/spaceflights.json", "utf8");
    const graph = parseGraph(text, "spaceflights.json");
    expect(graph.nodes).toHaveLength(6);
    expect(graph).not.toHaveProperty("durations");
    expect(graph.project?.name).toBe("spaceflights");
  });

  it("keeps datasets, parameters and defaults for absent optional node fields", () => {
    const graph = parseGraph(
      doc([{ name: "a", inputs: ["x"], outputs: ["y"] }], {
        env: "aws",
        datasets: { y: { type: "MemoryDataset", ephemeral: true, storage: "local" } },
        parameters: ["p"],
      }),
      "g.json",
    );
    expect(graph.nodes[0]).toEqual({ name: "a", namespace: null, tags: [], inputs: ["x"], outputs: ["y"] });
    expect(graph.datasets).toEqual({ y: { type: "MemoryDataset", ephemeral: true, storage: "local" } });
    expect(graph.env).toBe("aws");
    expect(graph.parameters).toEqual(["p"]);
  });

  it("refuses text that is not JSON, naming the file", () => {
    const e = errorOf(() => parseGraph("{nope", "graph.json"));
    expect(e.message).toMatch(/^graph\.json is not JSON/);
    expect(e.file).toBe("graph.json");
    expect(e.hint).toMatch(/kedro-sfn inspect/);
  });

  it("refuses another schema", () => {
    expect(
      errorOf(() => parseGraph(JSON.stringify({ schema: "kedro-sfn/graph@2", nodes: [] }), "g.json")).message,
    ).toMatch(/not a kedro-sfn\/graph@1 graph \(schema "kedro-sfn\/graph@2"\)/);
    expect(errorOf(() => parseGraph("[]", "g.json")).message).toMatch(/expected a JSON object/);
    expect(errorOf(() => parseGraph("{}", "g.json")).message).toMatch(/\(no schema\)/);
  });

  it("refuses an empty pipeline", () => {
    expect(errorOf(() => parseGraph(doc([]), "g.json")).message).toMatch(
      /pipeline '__default__' has no nodes/,
    );
  });

  it("names missing or malformed node fields", () => {
    expect(errorOf(() => parseGraph(doc([{ inputs: [], outputs: [] }]), "g.json")).message).toMatch(
      /node 1 has no 'name'/,
    );
    expect(errorOf(() => parseGraph(doc([{ name: "a", outputs: [] }]), "g.json")).message).toMatch(
      /node 'a': 'inputs' is missing/,
    );
    expect(errorOf(() => parseGraph(doc([node("a", [], ["x"], { tags: "t" })]), "g.json")).message).toMatch(
      /node 'a': 'tags' must be a list of strings/,
    );
    expect(
      errorOf(() => parseGraph(doc([node("a", [], ["x"], { namespace: 3 })]), "g.json")).message,
    ).toMatch(/'namespace'/);
    expect(errorOf(() => parseGraph(doc([node("a", [], []), node("a", [], [])]), "g.json")).message).toMatch(
      /two nodes are named 'a'/,
    );
    expect(
      errorOf(() => parseGraph(doc([node("a", [], ["x"])], { datasets: { x: { type: "T" } } }), "g.json"))
        .message,
    ).toMatch(/dataset 'x' must be/);
  });

  it("refuses a cycle and a dataset with two producers, with the file name", () => {
    const cycle = errorOf(() =>
      parseGraph(doc([node("a", ["z"], ["x"]), node("b", ["x"], ["z"])]), "g.json"),
    );
    expect(cycle.message).toMatch(/^g\.json: The pipeline has a cycle among nodes: .*a.*b/);
    expect(cycle.file).toBe("g.json");
    const two = errorOf(() => parseGraph(doc([node("a", [], ["x"]), node("b", [], ["x"])]), "g.json"));
    expect(two.message).toMatch(/Dataset 'x' is produced by two nodes: 'a' and 'b'/);
  });
});
