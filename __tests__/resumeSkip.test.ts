/** What a resume skips and runs (pure), its input, its name, and how history folds a skipped Task. */
import type { HistoryEvent } from "@aws-sdk/client-sfn";
import { UserError } from "../src/errors.js";
import { renderNodeTable } from "../src/report/nodeTable.js";
import { renderRunSummary } from "../src/report/summary.js";
import type { RunReport } from "../src/run/execute.js";
import { foldHistory } from "../src/run/historyFold.js";
import { parseExecutionArn, resumeName } from "../src/run/resume.js";
import { MAX_EXECUTION_INPUT_BYTES, resumeInput, runIdOf, skipSetOf } from "../src/run/resumeSkip.js";
import type { NodeState, NodeStatus, PipelineTask, TaskRun } from "../src/run/types.js";

/** a -> b -> c -> d, and a -> e (beside b, c, d); `bc` runs b and c in one Lambda. */
const PIPELINE: PipelineTask[] = [
  { stateName: "a", functionName: "f-a", nodes: ["a"], dependsOn: [] },
  { stateName: "bc", functionName: "f-bc", nodes: ["b", "c"], dependsOn: ["a"] },
  { stateName: "d", functionName: "f-d", nodes: ["d"], dependsOn: ["bc"] },
  { stateName: "e", functionName: "f-e", nodes: ["e"], dependsOn: ["a"] },
];

function runs(status: Record<string, NodeState>): TaskRun[] {
  return PIPELINE.map((t) => ({
    stateName: t.stateName,
    functionName: t.functionName,
    nodes: t.nodes,
    status: status[t.stateName] ?? "not-started",
    startMs: null,
    endMs: null,
    attempts: 1,
    error: null,
    requestId: null,
    logStream: null,
    nodeSeconds: null,
  }));
}

describe("skipSetOf", () => {
  it("skips what succeeded and runs the failed Task, what did not start, and what was cut short", () => {
    expect(skipSetOf(PIPELINE, runs({ a: "succeeded", bc: "failed", e: "aborted" }))).toEqual({
      skip: ["a"],
      rerun: ["b", "c", "d", "e"],
      failedTasks: ["bc"],
    });
    // A branch that succeeded beside the failure is skipped; retried counts as succeeded.
    expect(skipSetOf(PIPELINE, runs({ a: "retried", bc: "timed-out", e: "succeeded" }))).toEqual({
      skip: ["a", "e"],
      rerun: ["b", "c", "d"],
      failedTasks: ["bc"],
    });
  });

  it("treats a Task skipped by an earlier resume as succeeded (a resume of a resume)", () => {
    expect(
      skipSetOf(PIPELINE, runs({ a: "skipped", bc: "succeeded", d: "failed", e: "skipped" })).skip,
    ).toEqual(["a", "b", "c", "e"]);
  });

  it("never skips a Task downstream of one that runs again, whatever the history says", () => {
    const set = skipSetOf(PIPELINE, runs({ a: "failed", bc: "succeeded", d: "succeeded", e: "succeeded" }));
    expect(set.skip).toEqual([]);
    expect(set.rerun).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("has nothing to run when every Task succeeded", () => {
    const all = runs({ a: "succeeded", bc: "succeeded", d: "succeeded", e: "succeeded" });
    expect(skipSetOf(PIPELINE, all).rerun).toEqual([]);
  });
});

describe("the resumed execution's input", () => {
  const context = { runId: "first", skip: ["a"], resumedFrom: "arn:x" };

  it("keeps the failed input and replaces the run context", () => {
    const text = resumeInput(
      { params: { f: 1 }, other: true, kedro_sfn: { run_id: "old" } },
      context,
      "resume-execution",
    );
    expect(JSON.parse(text)).toEqual({
      params: { f: 1 },
      other: true,
      kedro_sfn: { run_id: "first", skip: ["a"], resumed_from: "arn:x" },
    });
  });

  it("keeps the first run's id through a resume of a resume", () => {
    expect(runIdOf({ kedro_sfn: { run_id: "first", skip: ["a"] } }, "second")).toBe("first");
    expect(runIdOf({ params: {} }, "first")).toBe("first");
  });

  it("refuses a skip list over Step Functions' input limit, naming the input", () => {
    const skip = Array.from({ length: 8000 }, (_, i) => `namespace.a_rather_long_node_name_${i}`);
    expect(() => resumeInput({}, { ...context, skip }, "resume-execution")).toThrow(UserError);
    expect(() => resumeInput({}, { ...context, skip }, "resume-execution")).toThrow(
      new RegExp(`'resume-execution'.*over Step Functions' ${MAX_EXECUTION_INPUT_BYTES}-byte limit`),
    );
  });
});

describe("execution ARNs and names", () => {
  it("reads an execution ARN and refuses anything else, naming the input", () => {
    expect(
      parseExecutionArn("arn:aws:states:eu-west-1:123456789012:execution:sm:run-1", "resume-execution"),
    ).toEqual({
      region: "eu-west-1",
      stateMachineName: "sm",
      name: "run-1",
    });
    for (const bad of [
      "",
      "run-1",
      "arn:aws:states:eu-west-1:123456789012:stateMachine:sm",
      "arn:aws:states:eu-west-1:1:execution:sm:r",
    ]) {
      expect(() => parseExecutionArn(bad, "--execution")).toThrow(
        /Input '--execution' is not a Step Functions execution ARN/,
      );
    }
  });

  it("names the new execution after the time and the failed one, within 80 characters", () => {
    const now = Date.parse("2026-12-02T04:10:00.000Z");
    expect(resumeName("run-1", now)).toBe("2026-12-02T04.10.00.000Z-resume-run-1");
    const long = resumeName("x".repeat(80), now);
    expect(long).toHaveLength(80);
    expect(long).toMatch(/^[A-Za-z0-9._-]+$/);
  });
});

describe("a skipped Task in the history", () => {
  it("folds to `skipped`, with the execution it succeeded in", () => {
    const payload = {
      nodes: [{ name: "a", seconds: 0 }],
      skipped: { reason: "succeeded", execution: "arn:first" },
    };
    const at = (s: number): Date => new Date(Date.UTC(2026, 11, 2, 4, 0, s));
    const events: HistoryEvent[] = [
      { id: 1, type: "ExecutionStarted", timestamp: at(0) },
      {
        id: 2,
        previousEventId: 1,
        type: "TaskStateEntered",
        timestamp: at(1),
        stateEnteredEventDetails: { name: "a" },
      },
      { id: 3, previousEventId: 2, type: "TaskScheduled", timestamp: at(1) },
      { id: 4, previousEventId: 3, type: "TaskStarted", timestamp: at(1) },
      {
        id: 5,
        previousEventId: 4,
        type: "TaskSucceeded",
        timestamp: at(2),
        taskSucceededEventDetails: {
          resourceType: "lambda",
          resource: "invoke",
          output: JSON.stringify({ Payload: payload }),
        },
      },
      {
        id: 6,
        previousEventId: 5,
        type: "TaskStateExited",
        timestamp: at(2),
        stateExitedEventDetails: { name: "a" },
      },
    ];
    const [run] = foldHistory(events, [PIPELINE[0] as PipelineTask]).runs();
    expect(run?.status).toBe("skipped");
    expect(run?.skippedFrom).toBe("arn:first");
  });
});

describe("the summary of a resumed run", () => {
  it("says what it resumes (linked), the run id, and which nodes were skipped and why", () => {
    const report: RunReport = {
      executionArn: "arn:aws:states:eu-west-1:123456789012:execution:sm:2026-resume-run-1",
      name: "2026-resume-run-1",
      stateMachineArn: "arn:aws:states:eu-west-1:123456789012:stateMachine:sm:3",
      stateMachineVersionArn: "arn:aws:states:eu-west-1:123456789012:stateMachine:sm:3",
      consoleUrl: "https://console/resumed",
      status: "SUCCEEDED",
      waited: true,
      waitTimedOut: false,
      startedAt: "2026-12-02T04:00:00.000Z",
      stoppedAt: "2026-12-02T04:01:00.000Z",
      durationMs: 60_000,
      error: null,
      cause: null,
      tasks: runs({ a: "skipped", bc: "succeeded", d: "succeeded", e: "skipped" }),
      nodes: [],
      historyEvents: 30,
      failure: null,
      resumedFrom: {
        executionArn: "arn:aws:states:eu-west-1:123456789012:execution:sm:run-1",
        name: "run-1",
        consoleUrl: "https://console/first",
        runId: "run-1",
        skipped: ["a", "e"],
        rerun: ["b", "c", "d"],
      },
    };
    const { markdown } = renderRunSummary({ run: report, pipeline: PIPELINE });
    expect(markdown).toContain(
      '**Resumes** <a href="https://console/first">run-1</a> with its run id `run-1`',
    );
    expect(markdown).toContain("⏭️ 2 nodes skipped because they succeeded there");
    expect(markdown).toContain("3 nodes run again");
    expect(markdown).toContain("<details><summary>Skipped nodes (2)</summary>");
    expect(markdown).toContain("`a`, `e`");
  });
});

describe("the node table of a resumed run", () => {
  it("folds the skipped nodes with the succeeded ones in a long table, and says how many were skipped", () => {
    const node = (name: string, status: NodeState): NodeStatus => ({
      node: name,
      task: name,
      functionName: `f-${name}`,
      taskNodes: 1,
      status,
      startedAt: "2026-12-02T04:00:00.000Z",
      durationMs: 10,
      attempts: 1,
      error: null,
      logUrl: null,
      ...(status === "skipped" ? { skippedFrom: "arn:first" } : {}),
    });
    const nodes = [
      ...Array.from({ length: 25 }, (_, i) => node(`s${i}`, "skipped")),
      node("fixed", "succeeded"),
      node("again", "failed"),
    ];
    const table = renderNodeTable(nodes, { foldAbove: 20 });
    expect(table).toContain(
      "<details><summary>✅ 26 nodes succeeded (25 skipped: they succeeded before)</summary>",
    );
    expect(table.indexOf("again")).toBeLessThan(table.indexOf("<details>"));
    expect(table).toContain("⏭️");
  });
});
