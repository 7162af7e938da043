/**
 * Deploy benchmark: AWS calls and wall time of a first deploy, a no-op deploy, a one-node change
 * and a full update (new image everywhere) for 6, 50 and 200 nodes, against moto behind the fault
 * proxy with 50 ms of latency per call and ListFunctions paged at 50 as AWS does.
 *
 *   NODE_OPTIONS=--experimental-vm-modules npx jest --roots '<rootDir>/bench' --testMatch '**' bench/deploy.bench.ts
 *
 * Then 1,000 unrelated functions are created in the same region and the 200-node no-op plan and
 * deploy are measured again: the deployed state is read from what the state machine owns, so the
 * figures must not move.
 *
 * Last, a 200-node pipeline split into child state machines: first deploy, no-op, new image.
 *
 * Writes bench/deploy-results.json and prints a Markdown table. Goals: a no-op plan and deploy
 * of 200 nodes in at most 5 calls, with or without 1,000 neighbour functions (issue 14.5); a full
 * 200-node update within 1.25x of the time Lambda's 15 control-plane calls per second alone
 * impose (issue 5).
 */
import { describe, expect, it } from "@jest/globals";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CreateFunctionCommand } from "@aws-sdk/client-lambda";
import { CallLog } from "../src/aws/clients.js";
import { mapWithConcurrency } from "../src/aws/limiter.js";
import type { DesiredDeployment } from "../src/plan/types.js";
import { deploy, planOnly } from "../__tests__/harness/deploy.js";
import { REPO_ROOT, useLocalStack, type LocalStack } from "../__tests__/harness/localStack.js";
import { compiledPipeline, desiredDeployment, nodeNames } from "../__tests__/harness/pipelines.js";
import { compilePipeline } from "../src/compile/index.js";
import { GRAPH_SCHEMA, type PipelineGraph } from "../src/graph/types.js";

const stack = useLocalStack({ faultProxy: true });
const LATENCY_MS = 50;
const AWS_LAMBDA_LIMIT_PER_SECOND = 15;
/** GetFunction has a quota of its own: reads of what a deploy changes, and waits. */
const AWS_GET_FUNCTION_PER_SECOND = 100;
const NEIGHBOURS = 1000;

interface Row {
  nodes: number;
  scenario: string;
  calls: number;
  writes: number;
  lambdaControlPlaneCalls: number;
  getFunctionCalls: number;
  wallSeconds: number;
  /** Time Lambda's quotas alone impose: control-plane calls at 15/s, then GetFunction at 100/s. */
  quotaFloorSeconds: number;
  ratioToFloor: number;
}

async function pipeline(
  s: LocalStack,
  count: number,
  image: string,
  memoryOfFirst = 1024,
): Promise<DesiredDeployment> {
  const nodes = nodeNames(count);
  return desiredDeployment({
    stateMachineName: `bench-${count}`,
    imageUri: await s.putImage("bench", image),
    lambdaRoleArn: s.roles.lambda,
    stateMachineRoleArn: s.roles.stateMachine,
    compiled: compiledPipeline(nodes, {
      prefix: `bench-${count}`,
      overrides: { [nodes[0] ?? ""]: { memoryMb: memoryOfFirst } },
    }),
  });
}

async function measure(
  s: LocalStack,
  count: number,
  scenario: string,
  desired: DesiredDeployment,
): Promise<Row> {
  const log = new CallLog();
  const clients = await s.clients({ viaProxy: true, recorders: [log] });
  const started = performance.now();
  await deploy(clients, desired, { prune: true });
  const wallSeconds = (performance.now() - started) / 1000;
  const lambdaControlPlaneCalls = log.count(
    (call) => call.service === "lambda" && call.operation !== "GetFunction",
  );
  const getFunctionCalls = log.count((call) => call.service === "lambda" && call.operation === "GetFunction");
  const quotaFloorSeconds =
    lambdaControlPlaneCalls / AWS_LAMBDA_LIMIT_PER_SECOND + getFunctionCalls / AWS_GET_FUNCTION_PER_SECOND;
  return {
    nodes: count,
    scenario,
    calls: log.count(),
    writes: log.writes().length,
    lambdaControlPlaneCalls,
    getFunctionCalls,
    wallSeconds: round(wallSeconds),
    quotaFloorSeconds: round(quotaFloorSeconds),
    ratioToFloor: quotaFloorSeconds >= 1 ? round(wallSeconds / quotaFloorSeconds) : 0,
  };
}

/** A no-op plan (read + plan, no apply): calls and wall time. */
async function measurePlan(
  s: LocalStack,
  count: number,
  scenario: string,
  desired: DesiredDeployment,
): Promise<Row> {
  const log = new CallLog();
  const clients = await s.clients({ viaProxy: true, recorders: [log] });
  const started = performance.now();
  const plan = await planOnly(clients, desired, true);
  const wallSeconds = (performance.now() - started) / 1000;
  if (plan.summary.hasChanges) throw new Error(`${scenario}: the plan has changes`);
  return {
    nodes: count,
    scenario,
    calls: log.count(),
    writes: log.writes().length,
    lambdaControlPlaneCalls: log.count(
      (call) => call.service === "lambda" && call.operation !== "GetFunction",
    ),
    getFunctionCalls: log.count((call) => call.service === "lambda" && call.operation === "GetFunction"),
    wallSeconds: round(wallSeconds),
    quotaFloorSeconds: 0,
    ratioToFloor: 0,
  };
}

/** Functions of someone else in the same account and region (straight to moto, unpaced). */
async function addNeighbours(s: LocalStack, count: number): Promise<void> {
  const direct = await s.clients({ lambdaLimiter: null });
  const imageUri = await s.putImage("neighbours", "n1");
  await mapWithConcurrency(
    Array.from({ length: count }, (_, index) => index),
    8,
    (index) =>
      direct.lambda.send(
        new CreateFunctionCommand({
          FunctionName: `neighbour-${index}`,
          PackageType: "Image",
          Code: { ImageUri: imageUri },
          Role: s.roles.lambda,
        }),
      ),
  );
  direct.destroy();
}

const round = (value: number): number => Math.round(value * 100) / 100;

/** `count` independent nodes compiled by the product and split into children of about 50 Tasks. */
async function splitPipeline(s: LocalStack, count: number, image: string): Promise<DesiredDeployment> {
  const graph: PipelineGraph = {
    schema: GRAPH_SCHEMA,
    nodes: nodeNames(count).map((name, index) => ({
      name,
      namespace: null,
      tags: [],
      inputs: [],
      outputs: [`d${index}`],
    })),
  };
  const name = `bench-split-${count}`;
  const compiled = compilePipeline(graph, {
    stateMachineName: name,
    groupBy: [],
    structure: "dag",
    functionDefaults: {
      memoryMb: 1024,
      timeoutSeconds: 900,
      ephemeralStorageMb: 512,
      architecture: "x86_64",
      environment: {},
    },
    split: { definitionBytes: 40_000, historyEvents: 25_000 },
  });
  return desiredDeployment({
    stateMachineName: name,
    imageUri: await s.putImage("bench", image),
    lambdaRoleArn: s.roles.lambda,
    stateMachineRoleArn: s.roles.stateMachine,
    compiled,
  });
}

describe("deploy benchmark", () => {
  it("measures calls and wall time", async () => {
    const s = stack();
    const rows: Row[] = [];
    for (const count of [6, 50, 200]) {
      await s.reset();
      await s.faults({ latency_ms: LATENCY_MS });
      const first = await pipeline(s, count, "v1");
      rows.push(await measure(s, count, "first deploy", first));
      rows.push(await measure(s, count, "no-op deploy", { ...first, commitSha: "1".repeat(40) }));
      rows.push(await measure(s, count, "one-node change", await pipeline(s, count, "v1", 2048)));
      const full = await pipeline(s, count, "v2", 2048);
      rows.push(await measure(s, count, "full update (new image)", full));
      if (count !== 200) continue;
      rows.push(await measurePlan(s, count, "no-op plan", full));
      await s.faults({ latency_ms: 0 });
      await addNeighbours(s, NEIGHBOURS);
      await s.faults({ latency_ms: LATENCY_MS });
      rows.push(await measurePlan(s, count, `no-op plan, ${NEIGHBOURS} other functions`, full));
      rows.push(
        await measure(s, count, `no-op deploy, ${NEIGHBOURS} other functions`, {
          ...full,
          commitSha: "2".repeat(40),
        }),
      );
    }
    // A split pipeline: the functions are read through the children the parent starts.
    await s.reset();
    await s.faults({ latency_ms: LATENCY_MS });
    const split = await splitPipeline(s, 200, "v1");
    const parts = split.compiled.children?.length ?? 0;
    rows.push(await measure(s, 200, `split (${parts} children): first deploy`, split));
    rows.push(
      await measure(s, 200, `split (${parts} children): no-op deploy`, {
        ...split,
        commitSha: "3".repeat(40),
      }),
    );
    rows.push(
      await measure(
        s,
        200,
        `split (${parts} children): full update (new image)`,
        await splitPipeline(s, 200, "v2"),
      ),
    );
    writeFileSync(
      join(REPO_ROOT, "bench", "deploy-results.json"),
      `${JSON.stringify({ latencyMs: LATENCY_MS, rows }, null, 2)}\n`,
    );
    const table = [
      "| nodes | scenario | AWS calls | writes | Lambda control-plane calls | GetFunction calls | wall (s) | quota floor (s) | wall / floor |",
      "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
      ...rows.map(
        (row) =>
          `| ${row.nodes} | ${row.scenario} | ${row.calls} | ${row.writes} | ${row.lambdaControlPlaneCalls} | ${row.getFunctionCalls} | ${row.wallSeconds} | ${row.quotaFloorSeconds} | ${row.ratioToFloor || "-"} |`,
      ),
    ].join("\n");
    process.stdout.write(`\n${table}\n`);

    const noop200 = rows.find((row) => row.nodes === 200 && row.scenario === "no-op deploy");
    const full200 = rows.find((row) => row.nodes === 200 && row.scenario === "full update (new image)");
    expect(noop200?.calls).toBeLessThanOrEqual(5);
    expect(noop200?.writes).toBe(0);
    for (const row of rows.filter((r) => r.nodes === 200 && r.scenario.startsWith("no-op"))) {
      expect(row.calls).toBeLessThanOrEqual(5);
      expect(row.writes).toBe(0);
    }
    expect(full200?.ratioToFloor).toBeLessThanOrEqual(1.25);
    const splitNoop = rows.find(
      (row) => row.scenario.startsWith("split") && row.scenario.endsWith("no-op deploy"),
    );
    const splitFull = rows.find(
      (row) => row.scenario.startsWith("split") && row.scenario.endsWith("(new image)"),
    );
    // Five reads plus one DescribeStateMachine per child, no write.
    expect(splitNoop?.calls).toBe(5 + parts);
    expect(splitNoop?.writes).toBe(0);
    expect(splitFull?.getFunctionCalls).toBe(0);
  }, 900_000);
});
