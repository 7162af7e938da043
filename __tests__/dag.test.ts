import { describe, expect, it } from "@jest/globals";
import { dependenciesOf, topologicalOrder } from "../src/graph/dag.js";
import { UserError } from "../src/errors.js";
import { GRAPH_SCHEMA, type PipelineGraph } from "../src/graph/types.js";

function graph(edges: [string, string[], string[]][]): PipelineGraph {
  return {
    schema: GRAPH_SCHEMA,
    nodes: edges.map(([name, inputs, outputs]) => ({ name, namespace: null, tags: [], inputs, outputs })),
  };
}

describe("dag", () => {
  it("derives dependencies from datasets", () => {
    const g = graph([
      ["a", ["raw"], ["x"]],
      ["b", ["x", "params:p"], ["y"]],
      ["c", ["x", "y"], ["z"]],
    ]);
    expect(Object.fromEntries(dependenciesOf(g))).toEqual({ a: [], b: ["a"], c: ["a", "b"] });
    expect(topologicalOrder(g)).toEqual(["a", "b", "c"]);
  });

  it("orders a graph given out of order", () => {
    const g = graph([
      ["c", ["y"], ["z"]],
      ["b", ["x"], ["y"]],
      ["a", [], ["x"]],
    ]);
    expect(topologicalOrder(g)).toEqual(["a", "b", "c"]);
  });

  it("names a cycle", () => {
    const g = graph([
      ["a", ["z"], ["x"]],
      ["b", ["x"], ["y"]],
      ["c", ["y"], ["z"]],
    ]);
    expect(() => topologicalOrder(g)).toThrow(UserError);
    expect(() => topologicalOrder(g)).toThrow(/cycle among nodes: .*a.*->/);
  });

  it("refuses a dataset with two producers", () => {
    const g = graph([
      ["a", [], ["x"]],
      ["b", [], ["x"]],
    ]);
    expect(() => dependenciesOf(g)).toThrow(/produced by two nodes: 'a' and 'b'/);
  });
});

describe("transcoding", () => {
  it("links x@pandas to x@spark", () => {
    const g = graph([
      ["a", [], ["x@spark"]],
      ["b", ["x@pandas"], ["y"]],
    ]);
    expect(Object.fromEntries(dependenciesOf(g))).toEqual({ a: [], b: ["a"] });
  });
});
