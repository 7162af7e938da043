/** From a plan to what the comment shows: deleted functions drawn, `~` changes counted. */
import { describe, expect, it } from "@jest/globals";
import type { FunctionSpec } from "../src/compile/types.js";
import { GRAPH_SCHEMA, type PipelineGraph } from "../src/graph/types.js";
import type { FunctionPlan, Plan } from "../src/plan/types.js";
import { renderPlanMarkdown } from "../src/report/planComment.js";
import type { PlanView } from "../src/report/planModel.js";
import { toPlanView } from "../src/report/planView.js";

const spec = (node: string): FunctionSpec => ({
  functionName: `sf-${node}`,
  stateName: node,
  nodes: [node],
  memoryMb: 1024,
  timeoutSeconds: 900,
  ephemeralStorageMb: 512,
  architecture: "x86_64",
  environment: {},
});

const fn = (node: string, action: FunctionPlan["action"]): FunctionPlan =>
  ({
    functionName: `sf-${node}`,
    action,
    nodes: [node],
    stateName: action === "delete" ? null : node,
  }) as FunctionPlan;

const graph: PipelineGraph = {
  schema: GRAPH_SCHEMA,
  nodes: [
    { name: "a", namespace: null, tags: [], inputs: [], outputs: ["x"] },
    { name: "b", namespace: null, tags: [], inputs: ["x"], outputs: [] },
  ],
};

// Only the fields toPlanView reads; the rest of a Plan is the planner's business.
const plan = {
  functions: [fn("a", "noop"), fn("b", "update-code"), fn("old", "delete")],
  summary: { toCreate: 0, toUpdate: 2, toDelete: 1, unchanged: 1, hasChanges: true },
  stateMachine: {
    name: "sm",
    action: "update",
    definitionChanges: [
      { path: "/States/b/Next", kind: "changed", before: "old", after: "c" },
      { path: "/States/b/TimeoutSeconds", kind: "changed", before: 60, after: 900 },
      { path: "/States/c", kind: "added", after: { Type: "Pass" } },
    ],
  },
  oldVersions: {
    keep: 2,
    stateMachineVersions: ["arn:aws:states:eu-west-1:123456789012:stateMachine:sm:1"],
    functionVersions: [
      "arn:aws:lambda:eu-west-1:123456789012:function:sf-a:1",
      "arn:aws:lambda:eu-west-1:123456789012:function:sf-b:1",
    ],
    keptImages: null,
  },
  hash: "f".repeat(64),
} as unknown as Plan;

const withoutOld = ({ oldVersions: _, ...rest }: PlanView): PlanView => rest;

describe("toPlanView", () => {
  const view = toPlanView(plan, {
    target: "sm",
    findings: [],
    graph,
    compiled: {
      definition: { StartAt: "a", States: {} },
      functions: [spec("a"), spec("b")],
      warnings: [],
      merges: [],
    },
    image: { state: "unchanged", uri: "repo@sha256:00" },
  });

  it("draws a deleted function as a removed box, unconnected", () => {
    expect(view.tasks.map((t) => [t.label, t.change, t.dependsOn])).toEqual([
      ["a", "none", []],
      ["b", "changed", ["a"]],
      ["old", "removed", []],
    ]);
    const md = renderPlanMarkdown(view);
    expect(md).toContain('t2["old"]');
    expect(md).toMatch(/class t2 c_removed/);
    expect(md).toContain("🟥 removed");
  });

  it("says how many old versions the cutover deletes, at full and per-node detail", () => {
    expect(view.oldVersions).toEqual({ keep: 2, stateMachine: 1, functions: 2 });
    const line =
      "**Old versions:** 1 state machine version(s) and 2 function version(s) deleted after the cutover";
    expect(renderPlanMarkdown(view)).toContain(line);
    expect(renderPlanMarkdown(view, { level: "nodes" })).toContain(line);
    expect(renderPlanMarkdown(withoutOld(view))).not.toContain("Old versions");
  });

  it("counts changed values (`~`) in the definition diff's summary", () => {
    expect(view.stateMachine.definitionDiff.split("\n").filter((l) => l.startsWith("~"))).toHaveLength(2);
    expect(renderPlanMarkdown(view)).toContain("<summary>Definition diff (+1 −0 ~2 lines)</summary>");
  });

  it("says what the deploy does to the ECS task definition, in the state machine's line", () => {
    const withEcs = {
      ...plan,
      taskDefinition: {
        family: "sm-ecs",
        action: "update",
        specHash: "1".repeat(64),
        currentArn: null,
        changes: [{ field: "revision", before: "sm-ecs:1", after: "sm-ecs:new" }],
      },
    } as unknown as Plan;
    const ecsView = toPlanView(withEcs, {
      target: "sm",
      findings: [],
      graph,
      compiled: {
        definition: { StartAt: "a", States: {} },
        functions: [spec("a"), spec("b")],
        warnings: [],
        merges: [],
      },
      image: { state: "unchanged", uri: "repo@sha256:00" },
    });
    expect(renderPlanMarkdown(ecsView)).toContain(
      "ECS task definition `sm-ecs`: a new revision (revision `sm-ecs:1` → `sm-ecs:new`).",
    );
    expect(renderPlanMarkdown(view)).not.toContain("ECS task definition");
  });
});
