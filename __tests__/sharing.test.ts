/**
 * Shared functions (`function-sharing: by-settings`) against the local stack: moto runs the
 * state machine and the local Lambda front in host mode (scripts/lambda_front.py) answers every
 * invoke with the real handler on a real Kedro project (no image). Per-node -> shared -> a code
 * change -> per-node again: each switch is one state machine cutover, the functions the other
 * mode used are pruned after it, every execution succeeds and reports each node on its own,
 * and the code change updates two functions instead of four.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DescribeStateMachineCommand } from "@aws-sdk/client-sfn";
import { CallLog, type AwsClients } from "../src/aws/clients.js";
import { compilePipeline, lambdaTasksOf } from "../src/compile/index.js";
import type { AslDefinition, CompiledPipeline } from "../src/compile/types.js";
import { inspectProject } from "../src/kedro/inspect.js";
import { applyDestroy, planDestroy } from "../src/ops/destroy.js";
import { planRollback } from "../src/ops/rollback.js";
import { parseOptions, type Options } from "../src/options.js";
import { renderPlanMarkdown } from "../src/report/planComment.js";
import { toPlanView } from "../src/report/planView.js";
import { renderJobSummary } from "../src/report/summary.js";
import type { Plan } from "../src/plan/types.js";
import type { RunReport } from "../src/run/execute.js";
import { resumeExecution } from "../src/run/resume.js";
import { pipelineTasksFromDefinition, pipelineTasksFromGraph } from "../src/run/tasks.js";
import { compileOptionsFrom } from "../src/stages/compileSettings.js";
import { allFunctions, deploy, missingReferencedVersions, runToEnd } from "./harness/deploy.js";
import { useLocalStack } from "./harness/localStack.js";
import { desiredDeployment } from "./harness/pipelines.js";
import { PYTHON, makeProject } from "./harness/python.js";

const NAME = "sharing";
const NODES = ["load", "left", "right", "join"];

const NODES_PY = `
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def load(raw):
    return {"values": raw}


def left(base):
    return [v + 1 for v in base["values"]]


def right(base):
    return [v * 10 for v in base["values"]]


def join(a, b):
    if (PROJECT / "broken.flag").exists():
        raise RuntimeError("broken.flag is there")
    return {"sum": sum(a) + sum(b)}
`;

const REGISTRY_PY = `
from kedro.pipeline import node, pipeline

from .nodes import join, left, load, right


def register_pipelines():
    return {"__default__": pipeline([
        node(load, "raw", "base", name="load"),
        node(left, "base", "left_out", name="left"),
        node(right, "base", "right_out", name="right"),
        node(join, ["left_out", "right_out"], "final", name="join"),
    ])}
`;

const CATALOG = ["raw", "base", "left_out", "right_out", "final"]
  .map((name) => `${name}:\n  type: json.JSONDataset\n  filepath: data/${name}.json\n`)
  .join("");

/** `join` gets more memory: two distinct settings, so two shared functions for four Tasks. */
const SFN_YML = `functions:
  overrides:
    - node: join
      memory: 2048
`;

function writeProject(): string {
  const dir = makeProject("runnable");
  const pkg = join(dir, "src", "demo_runnable");
  writeFileSync(join(pkg, "nodes.py"), NODES_PY);
  writeFileSync(join(pkg, "pipeline_registry.py"), REGISTRY_PY);
  writeFileSync(join(dir, "conf", "aws", "catalog.yml"), CATALOG);
  writeFileSync(join(dir, "conf", "aws", "sfn.yml"), SFN_YML);
  writeFileSync(join(dir, "data", "raw.json"), "[1, 2, 3]");
  return dir;
}

const project = writeProject();
const stack = useLocalStack({ hostLambda: { project, python: PYTHON } });
const flag = join(project, "broken.flag");

function options(sharing: "" | "per-node" | "by-settings"): Options {
  const inputs: Record<string, string> = {
    "project-path": project,
    python: PYTHON,
    "state-machine-name": NAME,
    "function-sharing": sharing,
  };
  return parseOptions((name) => inputs[name] ?? "");
}

describe("shared functions on the local stack (moto + the real handler on the host)", () => {
  let clients: AwsClients;
  let graph: Awaited<ReturnType<typeof inspectProject>>;

  beforeAll(async () => {
    clients = await stack().clients();
    graph = await inspectProject(options(""));
  });

  async function deployAs(sharing: "per-node" | "by-settings", imageSeed: string, log?: CallLog) {
    const opts = options(sharing);
    const compiled = compilePipeline(graph, compileOptionsFrom(opts, project, graph));
    const desired = desiredDeployment({
      stateMachineName: NAME,
      compiled,
      imageUri: await stack().putImage(NAME, imageSeed),
      lambdaRoleArn: stack().roles.lambda,
      stateMachineRoleArn: stack().roles.stateMachine,
    });
    const run = await deploy(log ? await stack().clients({ recorders: [log] }) : clients, desired, {
      prune: true,
    });
    if (!run.result.stateMachineVersionArn) throw new Error("the deploy published no version");
    expect(await missingReferencedVersions(clients, run.result.stateMachineArn)).toEqual([]);
    return { ...run, compiled, versionArn: run.result.stateMachineVersionArn };
  }

  async function runPipeline(
    versionArn: string,
    compiled: CompiledPipeline,
    name: string,
  ): Promise<RunReport> {
    // The host front starts a Python process per invoke: seconds each, so a longer wait.
    const report = await runToEnd(clients.sfn, {
      stateMachineArn: versionArn,
      name,
      timeoutMs: 300_000,
      tasks: lambdaTasksOf(compiled),
    });
    expect(report.status).toBe("SUCCEEDED");
    return report;
  }

  const functionNames = async (): Promise<string[]> =>
    (await allFunctions(clients)).map((f) => f.FunctionName ?? "").sort();

  test("per-node -> shared -> code change -> per-node: one cutover each, pruned, per-node statuses", async () => {
    // 1. The default: one function per node.
    const first = await deployAs("per-node", "v1");
    expect(count(first.plan, "create")).toBe(4);
    const perNodeNames = first.compiled.functions.map((f) => f.functionName).sort();
    expect(await functionNames()).toEqual(perNodeNames);
    await runPipeline(first.versionArn, first.compiled, "per-node-1");

    // 2. Shared: two functions (1024 MB for load/left/right, 2048 MB for join) serve four Tasks.
    const shared = await deployAs("by-settings", "v1");
    const sharedNames = shared.compiled.functions.map((f) => f.functionName).sort();
    expect(sharedNames).toHaveLength(2);
    expect(sharedNames.filter((n) => n.startsWith(`${NAME}-shared-1024mb-`))).toHaveLength(1);
    expect(sharedNames.filter((n) => n.startsWith(`${NAME}-shared-2048mb-`))).toHaveLength(1);
    const actions = Object.fromEntries(shared.plan.functions.map((f) => [f.functionName, f.action]));
    expect(actions).toEqual({
      ...Object.fromEntries(sharedNames.map((n) => [n, "create"])),
      ...Object.fromEntries(perNodeNames.map((n) => [n, "delete"])),
    });
    expect(shared.plan.stateMachine.action).toBe("update");
    // The old functions are gone after the cutover; the new version names only the shared ones.
    expect(await functionNames()).toEqual(sharedNames);
    const described = await clients.sfn.send(
      new DescribeStateMachineCommand({ stateMachineArn: shared.versionArn }),
    );
    const deployedTasks = pipelineTasksFromDefinition(
      JSON.parse(described.definition ?? "{}") as AslDefinition,
    );
    // What `kedro-sfn run --state-machine` reads back: four Tasks, each its own node, two functions.
    expect(deployedTasks.map((t) => t.nodes).sort()).toEqual(NODES.map((n) => [n]).sort());
    expect(new Set(deployedTasks.map((t) => t.functionName))).toEqual(new Set(sharedNames));

    // The plan comment says how many functions serve how many Tasks.
    const view = toPlanView(shared.plan, {
      target: NAME,
      findings: [],
      graph,
      compiled: shared.compiled,
      image: { state: "unchanged", uri: shared.result.stateMachineArn },
    });
    expect(renderPlanMarkdown(view)).toContain("2 Lambda functions serve 4 Tasks");
    // The nodes stay: drawn once each in their new Tasks, not also as removed ones.
    expect(view.tasks.map((t) => [t.label, t.change]).sort()).toEqual(NODES.map((n) => [n, "new"]).sort());

    const report = await runPipeline(shared.versionArn, shared.compiled, "shared-1");
    // Per node, not per function: left and right ran on one function in Tasks of their own.
    expect(report.nodes.map((n) => [n.node, n.status, n.taskNodes]).sort()).toEqual(
      NODES.map((n) => [n, "succeeded", 1]).sort(),
    );
    const fnOf = Object.fromEntries(report.nodes.map((n) => [n.node, n.functionName]));
    expect(fnOf["left"]).toBe(fnOf["right"]);
    expect(fnOf["left"]).toBe(fnOf["load"]);
    expect(fnOf["join"]).not.toBe(fnOf["left"]);
    expect(new Set(report.nodes.map((n) => n.task)).size).toBe(4);
    expect(report.tasks.every((t) => t.startMs !== null && t.endMs !== null)).toBe(true);
    // The job summary lists each node with its status.
    const summary = renderJobSummary({
      run: {
        run: report,
        pipeline: pipelineTasksFromGraph(lambdaTasksOf(shared.compiled), graph),
        image: "img",
      },
    });
    for (const node of NODES) expect(summary).toContain(node);
    expect(JSON.parse(readFinal())).toEqual({ sum: 2 + 3 + 4 + 10 + 20 + 30 });

    // Resume on shared functions: join fails, the fix, then only join runs again (the other
    // Tasks of its function and of the other one answer "skipped", per node).
    writeFileSync(flag, "");
    const failed = await runToEnd(clients.sfn, {
      stateMachineArn: shared.versionArn,
      name: "shared-failed",
      timeoutMs: 300_000,
      tasks: lambdaTasksOf(shared.compiled),
    });
    expect(statusOf(failed)).toEqual({
      load: "succeeded",
      left: "succeeded",
      right: "succeeded",
      join: "failed",
    });
    rmSync(flag);
    const resumed = await resumeExecution(
      clients.sfn,
      {
        executionArn: failed.executionArn,
        inputName: "resume-execution",
        stateMachineName: NAME,
        wait: true,
        timeoutMs: 300_000,
        failOnExecutionFailure: true,
      },
      {
        log: () => undefined,
        warn: () => undefined,
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        now: Date.now,
        pollMs: 200,
        maxPollMs: 500,
      },
    );
    expect(statusOf(resumed.run)).toEqual({
      load: "skipped",
      left: "skipped",
      right: "skipped",
      join: "succeeded",
    });

    // 3. A code change (a new image): two functions updated, not four.
    const sharedCalls = new CallLog();
    const changed = await deployAs("by-settings", "v2", sharedCalls);
    expect(changed.plan.functions.map((f) => f.action).sort()).toEqual(["update-code", "update-code"]);
    await runPipeline(changed.versionArn, changed.compiled, "shared-2");
    // Rollback to the first shared version: its function versions are still there.
    expect((await planRollback(clients, NAME, "previous")).missing).toEqual([]);

    // 4. Back to per-node: one cutover, the shared functions pruned after it.
    const back = await deployAs("per-node", "v2");
    expect(count(back.plan, "create")).toBe(4);
    expect(count(back.plan, "delete")).toBe(2);
    expect(await functionNames()).toEqual(perNodeNames);
    const again = await runPipeline(back.versionArn, back.compiled, "per-node-2");
    expect(new Set(again.nodes.map((n) => n.functionName)).size).toBe(4);
    // The same code change per node: one code update per function, so four instead of two.
    const perNodeCalls = new CallLog();
    await deployAs("per-node", "v3", perNodeCalls);
    const updates = (log: CallLog) =>
      log.writes().filter((call) => ["UpdateFunctionCode", "PublishVersion"].includes(call.operation)).length;
    expect([updates(sharedCalls), updates(perNodeCalls)]).toEqual([2, 4]);

    // Destroy removes what is left, state machine and functions.
    const doomed = await planDestroy(clients, NAME);
    expect([...doomed.functions].sort()).toEqual(perNodeNames);
    await applyDestroy(clients, doomed, () => undefined);
    expect(await functionNames()).toEqual([]);
  }, 600_000);
});

function statusOf(report: RunReport): Record<string, string> {
  return Object.fromEntries(report.nodes.map((n) => [n.node, n.status]));
}

function count(plan: Plan, action: string): number {
  return plan.functions.filter((f) => f.action === action).length;
}

function readFinal(): string {
  return readFileSync(join(project, "data", "final.json"), "utf8");
}
