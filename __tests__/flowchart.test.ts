import { describe, expect, it } from "@jest/globals";
import {
  chartShape,
  escapeMermaid,
  renderFlowchart,
  type FlowchartClass,
  type FlowchartTask,
} from "../src/report/flowchart.js";

const task = (id: string, dependsOn: string[] = [], nodes: string[] = [id]): FlowchartTask => ({
  id,
  label: id,
  nodes,
  dependsOn,
});

describe("renderFlowchart", () => {
  it("draws boxes, one edge per dependency and a classDef per class used", () => {
    const classes: Record<string, FlowchartClass> = { a: "new", b: "changed", c: "none", d: "not-started" };
    const chart = renderFlowchart(
      [task("a"), task("b", ["a"]), task("c", ["a"]), task("d", ["b", "c", "a"])],
      (id) => classes[id] ?? "none",
    );
    expect(chart).toBe(
      [
        "```mermaid",
        "flowchart TD",
        '  t0["a"]',
        '  t1["b"]',
        '  t2["c"]',
        '  t3["d"]',
        "  t0 --> t1",
        "  t0 --> t2",
        "  t0 --> t3",
        "  t1 --> t3",
        "  t2 --> t3",
        "  classDef c_new fill:#dafbe1,stroke:#1a7f37,stroke-width:2px,color:#0d3d1b",
        "  class t0 c_new",
        "  classDef c_changed fill:#fff8c5,stroke:#9a6700,stroke-width:2px,color:#3b2300",
        "  class t1 c_changed",
        "  classDef c_not_started fill:#f6f8fa,stroke:#8c959f,stroke-dasharray:3 3,color:#57606a",
        "  class t3 c_not_started",
        "```",
      ].join("\n"),
    );
  });

  it("lists a group's nodes in its label", () => {
    const chart = renderFlowchart(
      [
        {
          id: "g",
          label: "data_processing",
          nodes: ["data_processing.a", "data_processing.b"],
          dependsOn: [],
        },
      ],
      () => "none",
    );
    expect(chart).toContain('t0["<b>data_processing</b><br/>• data_processing.a<br/>• data_processing.b"]');
  });

  it("keeps hostile names out of Mermaid's syntax and out of the Markdown fence", () => {
    const evil = 'x"] --> y[<img src=x onerror=alert(1)>`\n```\n#1 @you end';
    const chart = renderFlowchart([task(evil), task("end", [evil])], () => "failed");
    const body = chart.split("\n").slice(1, -1).join("\n");
    for (const line of body.split("\n").filter((l) => l.includes("["))) {
      expect(line).toMatch(/^ {2}t\d+\["[^"<>`\n]*"\]$/);
    }
    expect(chart.match(/```/g)).toHaveLength(2);
    expect(chart.split("\n")).toHaveLength(8);
    expect(chart).toContain("t0 --> t1");
    expect(escapeMermaid('a"b<c>#`')).toBe("a#34;b#60;c#62;#35;#96;");
    expect(escapeMermaid("données")).toBe("donn#233;es");
  });

  it("ignores unknown and self dependencies, dedupes repeats", () => {
    const chart = renderFlowchart([task("a", ["a", "ghost"]), task("b", ["a", "a"])], () => "none");
    expect(chart.match(/-->/g)).toHaveLength(1);
    expect(chart).not.toContain("classDef");
  });

  it("draws one box per namespace beyond maxTasks, with counts, edges between namespaces and the worst colour", () => {
    const names = ["prep.a", "prep.b", "train.c", "train.d", "report.e"];
    const tasks = names.map((n, i) => task(n, i ? [names[i - 1] as string] : []));
    const status: Record<string, FlowchartClass> = { "train.d": "failed", "report.e": "not-started" };
    const chart = renderFlowchart(tasks, (id) => status[id] ?? "succeeded", { maxTasks: 4 });
    expect(chart).toBe(
      [
        "_5 tasks are too many to read in one chart at page width: one box per namespace, with its task counts._",
        "",
        "```mermaid",
        "flowchart TD",
        '  t0["<b>prep</b><br/>2 tasks<br/>2 succeeded"]',
        '  t1["<b>train</b><br/>2 tasks<br/>1 failed, 1 succeeded"]',
        '  t2["<b>report</b><br/>1 task<br/>1 not started"]',
        "  t0 --> t1",
        "  t1 --> t2",
        "  classDef c_succeeded fill:#dafbe1,stroke:#1a7f37,color:#0d3d1b",
        "  class t0 c_succeeded",
        "  classDef c_failed fill:#ffebe9,stroke:#cf222e,stroke-width:2px,color:#5d0f12",
        "  class t1 c_failed",
        "  classDef c_not_started fill:#f6f8fa,stroke:#8c959f,stroke-dasharray:3 3,color:#57606a",
        "  class t2 c_not_started",
        "```",
      ].join("\n"),
    );
    expect(chartShape(tasks, { maxTasks: 4 })).toEqual({ kind: "namespaces", groups: 3 });
  });

  it("condenses a chart too wide for the page even under maxTasks", () => {
    // 12 parallel tasks with 40-character names: one rank far wider than 1,000 px.
    const wide = Array.from({ length: 12 }, (_, i) => task(`ns_${i % 3}.${"x".repeat(36)}_${i}`));
    expect(chartShape(wide)).toEqual({ kind: "namespaces", groups: 3 });
    expect(chartShape(wide.slice(0, 2))).toEqual({ kind: "tasks" });
  });

  it("says why there is no chart when nothing can be condensed", () => {
    const tasks = Array.from({ length: 5 }, (_, i) => task(`n${i}`, i ? [`n${i - 1}`] : []));
    expect(renderFlowchart(tasks, () => "none", { maxTasks: 4 })).toBe(
      "_Flowchart not drawn: 5 tasks are too many to read in one chart at page width, and their names have no namespaces to group them by._",
    );
    const many = Array.from({ length: 50 }, (_, i) => task(`ns${i}.n`));
    expect(renderFlowchart(many, () => "none")).toBe(
      "_Flowchart not drawn: 50 tasks are too many to read in one chart at page width, and so are their 50 namespaces._",
    );
    const dense = Array.from({ length: 40 }, (_, i) =>
      task(
        `n${i}`,
        Array.from({ length: i }, (_, j) => `n${j}`),
      ),
    );
    expect(renderFlowchart(dense, () => "none")).toMatch(
      /^_Flowchart not drawn: 40 tasks and 780 dependencies/,
    );
    expect(renderFlowchart([], () => "none")).toBe("_No tasks to draw._");
  });
});
