import { describe, expect, it } from "@jest/globals";
import { preflight } from "../src/graph/preflight.js";
import { GRAPH_SCHEMA, type PipelineGraph } from "../src/graph/types.js";
import { renderFindings } from "../src/report/preflightMarkdown.js";
import { renderFindingLines, renderFindingsTable } from "../src/report/planSections.js";

const graph: PipelineGraph = {
  schema: GRAPH_SCHEMA,
  nodes: [
    { name: "a", namespace: null, tags: [], inputs: ["raw", "params:x"], outputs: ["mid"] },
    { name: "b", namespace: null, tags: [], inputs: ["mid"], outputs: ["out", "scratch"] },
    { name: "c", namespace: null, tags: [], inputs: ["mid", "memory_in"], outputs: ["final"] },
  ],
  datasets: {
    raw: { type: "pandas.CSVDataset", ephemeral: false },
    mid: { type: "MemoryDataset", ephemeral: true },
    out: { type: "pandas.ParquetDataset", ephemeral: false },
    scratch: { type: "MemoryDataset", ephemeral: true },
    memory_in: { type: "MemoryDataset", ephemeral: true },
    final: { type: "pickle.PickleDataset", ephemeral: false },
  },
};

describe("preflight", () => {
  it("flags in-memory datasets crossing Lambdas, naming producer, consumers and file", () => {
    const findings = preflight(graph, { env: "aws" });
    const mid = findings.find((f) => f.dataset === "mid");
    expect(mid).toMatchObject({
      severity: "error",
      code: "ephemeral-crosses-tasks",
      producer: "a",
      consumers: ["b", "c"],
      file: "conf/aws/catalog.yml",
    });
    expect(mid?.catalogEntry).toContain("mid:\n  type: pickle.PickleDataset\n  filepath: s3://");
    expect(findings.find((f) => f.dataset === "memory_in")).toMatchObject({
      severity: "error",
      code: "ephemeral-pipeline-input",
    });
    expect(findings.find((f) => f.dataset === "scratch")).toMatchObject({
      severity: "warning",
      code: "ephemeral-output-discarded",
    });
    expect(findings.map((f) => f.dataset)).not.toContain("params:x");
  });

  it("accepts in-memory datasets that stay inside one task", () => {
    const taskOf = new Map([
      ["a", "t1"],
      ["b", "t1"],
      ["c", "t1"],
    ]);
    const codes = preflight(graph, { env: "aws", taskOf }).map((f) => `${f.dataset}:${f.code}`);
    expect(codes).toEqual(["memory_in:ephemeral-pipeline-input", "scratch:ephemeral-output-discarded"]);
  });

  it("treats every dataset as persistent when the graph has no dataset info", () => {
    const bare: PipelineGraph = { schema: graph.schema, nodes: graph.nodes };
    expect(preflight(bare, { env: "aws" })).toEqual([]);
  });

  it("renders findings with hostile names escaped", () => {
    const hostile: PipelineGraph = {
      schema: GRAPH_SCHEMA,
      nodes: [
        { name: "<script>|`x`", namespace: null, tags: [], inputs: [], outputs: ["<b>"] },
        { name: "y", namespace: null, tags: [], inputs: ["<b>"], outputs: [] },
      ],
      datasets: { "<b>": { type: "MemoryDataset", ephemeral: true } },
    };
    const rendered = renderFindings(preflight(hostile, { env: "aws" }));
    // Inside a fenced code block Markdown shows text verbatim: only the rest must be escaped.
    const md = rendered.replace(/```yaml[\s\S]*?```/g, "");
    expect(rendered).toContain("```yaml\n<b>:");
    expect(md).not.toContain("<script>");
    expect(md).not.toContain("<b>");
    expect(md).toContain("&lt;script&gt;&#124;&#96;x&#96;");
  });
});

describe("datasets on a local path", () => {
  it("are errors when another Lambda reads them; inside one, the write itself fails outside /tmp", () => {
    const g: PipelineGraph = {
      schema: GRAPH_SCHEMA,
      nodes: [
        { name: "a", namespace: null, tags: [], inputs: ["raw"], outputs: ["mid"] },
        { name: "b", namespace: null, tags: [], inputs: ["mid"], outputs: ["out"] },
      ],
      datasets: {
        raw: { type: "pandas.CSVDataset", ephemeral: false, storage: "local" },
        mid: { type: "pandas.ParquetDataset", ephemeral: false, storage: "local" },
        out: { type: "pandas.ParquetDataset", ephemeral: false, storage: "s3" },
      },
    };
    expect(preflight(g, { env: "aws" }).map((f) => `${f.dataset}:${f.code}`)).toEqual([
      "mid:local-crosses-tasks",
      "raw:local-pipeline-input",
    ]);
    const together = new Map([
      ["a", "t"],
      ["b", "t"],
    ]);
    expect(preflight(g, { env: "aws", taskOf: together }).map((f) => f.code)).toEqual([
      "local-write",
      "local-pipeline-input",
    ]);
  });
});

describe("fixes for transcoded in-memory datasets", () => {
  it("give every spelling the same file, so the pair still reads what was written", () => {
    const g: PipelineGraph = {
      schema: GRAPH_SCHEMA,
      nodes: [
        { name: "a", namespace: null, tags: [], inputs: [], outputs: ["x@pandas"] },
        { name: "b", namespace: null, tags: [], inputs: ["x@spark"], outputs: [] },
      ],
      datasets: {
        "x@pandas": { type: "MemoryDataset", ephemeral: true },
        "x@spark": { type: "MemoryDataset", ephemeral: true },
      },
      catalog_root: "s3://acme/team",
    };
    const [finding] = preflight(g, { env: "aws" });
    expect(finding?.code).toBe("ephemeral-crosses-tasks");
    expect(finding?.catalogEntry).toBe(
      [
        "x@pandas:",
        "  type: pickle.PickleDataset",
        "  filepath: s3://acme/team/x.pkl",
        "x@spark:",
        "  type: pickle.PickleDataset",
        "  filepath: s3://acme/team/x.pkl",
      ].join("\n"),
    );
    const stored = preflight(g, { env: "aws", dataLocation: "s3://runs/p/sm" });
    expect(stored.map((f) => [f.severity, f.location])).toEqual([["info", "s3://runs/p/sm/<run id>/x/"]]);
  });
});

describe("run-store findings in the summary and the plan comment", () => {
  const g: PipelineGraph = {
    schema: GRAPH_SCHEMA,
    nodes: [
      { name: "split", namespace: null, tags: [], inputs: [], outputs: ["X_train"] },
      { name: "train", namespace: null, tags: [], inputs: ["X_train"], outputs: [] },
    ],
    datasets: { X_train: { type: "MemoryDataset", ephemeral: true } },
  };
  const findings = preflight(g, { env: "aws", dataLocation: "s3://runs/team/sm" });

  it("are info, not errors, and name the folder each run uses", () => {
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: "info", code: "run-store", catalogEntry: "" });
    const summary = renderFindings(findings);
    expect(summary).toContain("**Pre-flight:** 0 errors, 0 warnings, 1 dataset kept per run.");
    expect(summary).toContain("s3&#58;//runs/team/sm/&lt;run id&gt;/X\\_train/");
    expect(summary).not.toContain("<details>");
    const comment = renderFindingsTable(findings);
    expect(comment).toContain("**Pre-flight:** 0 errors, 0 warnings, 1 dataset kept per run.");
    expect(comment).toContain("ℹ️");
    expect(renderFindingLines(findings)).toContain("is kept per run at");
  });
});
