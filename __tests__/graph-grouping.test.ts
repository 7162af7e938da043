import { describe, expect, it } from "@jest/globals";
import { groupNodes } from "../src/graph/grouping.js";
import { GRAPH_SCHEMA, type PipelineGraph } from "../src/graph/types.js";

type Spec = [name: string, namespace: string | null, inputs: string[], outputs: string[]];

function graph(specs: Spec[], ephemeral: string[] = []): PipelineGraph {
  const datasets = Object.fromEntries(
    specs
      .flatMap(([, , , outputs]) => outputs)
      .map((d) => [
        d,
        {
          type: ephemeral.includes(d) ? "MemoryDataset" : "pandas.CSVDataset",
          ephemeral: ephemeral.includes(d),
        },
      ]),
  );
  return {
    schema: GRAPH_SCHEMA,
    nodes: specs.map(([name, namespace, inputs, outputs]) => ({
      name,
      namespace,
      tags: [],
      inputs,
      outputs,
    })),
    datasets,
  };
}

const spaceflights = graph([
  ["dp.companies", "dp", ["companies"], ["pc"]],
  ["dp.shuttles", "dp", ["shuttles"], ["ps"]],
  ["dp.table", "dp", ["pc", "ps"], ["table"]],
  ["ds.split", "ds", ["table"], ["train", "test"]],
  ["ds.train", "ds", ["train"], ["model"]],
  ["ds.evaluate", "ds", ["model", "test"], ["metrics"]],
  ["report", null, ["metrics"], ["plot"]],
]);

describe("groupNodes", () => {
  it("makes one task per node by default, in a topological order", () => {
    const g = groupNodes(spaceflights, []);
    expect(g.groups.map((t) => t.nodes)).toEqual(spaceflights.nodes.map((n) => [n.name]));
    expect(g.groups.map((t) => t.label)).toEqual(spaceflights.nodes.map((n) => n.name));
    expect(g.dag.preds[2]).toEqual([0, 1]);
    expect(g.dag.succs[3]).toEqual([4, 5]);
    expect(g.merges).toEqual([]);
  });

  it("groups by top-level namespace, nodes in run order", () => {
    const g = groupNodes(spaceflights, ["namespace"]);
    expect(g.groups).toEqual([
      { label: "dp", nodes: ["dp.companies", "dp.shuttles", "dp.table"] },
      { label: "ds", nodes: ["ds.split", "ds.train", "ds.evaluate"] },
      { label: "report", nodes: ["report"] },
    ]);
    expect(g.dag.preds).toEqual([[], [0], [1]]);
    expect(g.taskOf.get("ds.train")).toBe(1);
  });

  it("uses the top-level namespace only", () => {
    const g = groupNodes(
      graph([
        ["a.x.one", "a.x", [], ["d1"]],
        ["a.y.two", "a.y", ["d1"], ["d2"]],
      ]),
      ["namespace"],
    );
    expect(g.groups).toEqual([{ label: "a", nodes: ["a.x.one", "a.y.two"] }]);
  });

  it("groups nodes linked by ephemeral datasets", () => {
    const g = groupNodes(
      graph(
        [
          ["load", null, ["raw"], ["mem"]],
          ["clean", null, ["mem"], ["clean"]],
          ["other", null, ["raw"], ["other"]],
          ["join", null, ["clean", "other"], ["out"]],
        ],
        ["mem"],
      ),
      ["memory"],
    );
    expect(g.groups.map((t) => t.nodes)).toEqual([["load", "clean"], ["other"], ["join"]]);
    expect(g.groups[0]?.label).toBe("load+1");
  });

  it("treats every dataset as persistent when the graph has no datasets", () => {
    const g = groupNodes({ ...spaceflights, datasets: undefined } as unknown as PipelineGraph, ["memory"]);
    expect(g.groups).toHaveLength(7);
  });

  it("merges groups that would depend on each other, and says so", () => {
    // a.one -> b.mid -> a.two: grouping by namespace would put a before and after b.
    const g = groupNodes(
      graph([
        ["a.one", "a", [], ["d1"]],
        ["b.mid", "b", ["d1"], ["d2"]],
        ["a.two", "a", ["d2"], ["d3"]],
        ["c.last", "c", ["d3"], ["d4"]],
      ]),
      ["namespace"],
    );
    expect(g.groups.map((t) => t.nodes)).toEqual([["a.one", "b.mid", "a.two"], ["c.last"]]);
    expect(g.merges).toEqual([
      {
        task: 0,
        merged: ["a", "b.mid"],
        reason: expect.stringMatching(/groups 'a' and 'b.mid' would depend on each other/) as unknown,
      },
    ]);
    expect(g.dag.preds).toEqual([[], [0]]);
  });

  it("combines namespace and memory grouping", () => {
    const g = groupNodes(
      graph(
        [
          ["a.one", "a", [], ["mem"]],
          ["b.two", "b", ["mem"], ["d2"]],
          ["b.three", "b", ["d2"], ["d3"]],
        ],
        ["mem"],
      ),
      ["namespace", "memory"],
    );
    expect(g.groups).toEqual([{ label: "a.one+2", nodes: ["a.one", "b.two", "b.three"] }]);
  });
});
