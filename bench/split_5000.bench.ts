/**
 * A 5,000-node synthetic pipeline (50 chains of 100 nodes, then a join) compiles into a parent
 * and child state machines, deploys to moto and runs there through the fast Lambda front (every
 * invoke echoed: no container per node), with per-node status read across the children.
 * Prints and writes bench/split-results.json: compile CPU, deploy and run wall time, calls.
 *
 *   NODE_OPTIONS=--experimental-vm-modules npx jest --roots '<rootDir>/bench' --testMatch '**\/split_5000.bench.ts'
 */
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { writeFileSync } from "node:fs";
import { createAwsClients, type AwsClients } from "../src/aws/clients.js";
import { compilePipeline } from "../src/compile/index.js";
import { GRAPH_SCHEMA, type GraphNode, type PipelineGraph } from "../src/graph/types.js";
import { executePipeline } from "../src/run/execute.js";
import { deploy } from "../__tests__/harness/deploy.js";
import { echoFront } from "../__tests__/harness/echoFront.js";
import { TEST_CREDENTIALS, useLocalStack } from "../__tests__/harness/localStack.js";
import { desiredDeployment } from "../__tests__/harness/pipelines.js";
import { FUNCTION_DEFAULTS } from "../__tests__/harness/pipelines.js";

const CHAINS = Number(process.env["SPLIT_BENCH_CHAINS"] ?? 50);
const LENGTH = Number(process.env["SPLIT_BENCH_LENGTH"] ?? 100);

function chainsThenJoin(chains: number, length: number): PipelineGraph {
  const nodes: GraphNode[] = [];
  for (let c = 0; c < chains; c++)
    for (let i = 0; i < length; i++)
      nodes.push({
        name: `c${c}.n${i}`,
        namespace: `c${c}`,
        tags: [],
        inputs: i === 0 ? [] : [`c${c}_d${i - 1}`],
        outputs: [`c${c}_d${i}`],
      });
  nodes.push({
    name: "join",
    namespace: null,
    tags: [],
    inputs: Array.from({ length: chains }, (_, c) => `c${c}_d${length - 1}`),
    outputs: ["all"],
  });
  return { schema: GRAPH_SCHEMA, nodes };
}

const front = await echoFront();
const stack = useLocalStack({ invokePort: front.port });
let clients: AwsClients;

beforeAll(async () => {
  await front.listen(() => stack().motoEndpoint);
  clients = await createAwsClients({
    region: stack().region,
    endpoint: stack().endpoint,
    credentials: TEST_CREDENTIALS,
    lambdaLimiter: null,
  });
});

afterAll(async () => {
  clients?.destroy();
  await front.close();
});

test("a 5,000-node pipeline compiles, deploys and runs split into child state machines", async () => {
  const graph = chainsThenJoin(CHAINS, LENGTH);
  const cpu = process.cpuUsage();
  const compiled = compilePipeline(graph, {
    stateMachineName: "bench5k",
    groupBy: [],
    structure: "dag",
    functionDefaults: FUNCTION_DEFAULTS,
  });
  const used = process.cpuUsage(cpu);
  const compileCpuSeconds = (used.user + used.system) / 1e6;
  const roles = stack().roles;
  const desired = desiredDeployment({
    stateMachineName: "bench5k",
    compiled,
    imageUri: await stack().putImage("bench5k", "v1"),
    lambdaRoleArn: roles.lambda,
    stateMachineRoleArn: roles.stateMachine,
  });
  const deployStart = Date.now();
  const { result } = await deploy(clients, desired, { concurrency: 32 });
  const deploySeconds = (Date.now() - deployStart) / 1000;
  const runStart = Date.now();
  const report = await executePipeline(
    clients.sfn,
    {
      stateMachineArn: result.stateMachineArn,
      name: "bench5k-run",
      input: "{}",
      wait: true,
      timeoutMs: 3_600_000,
      tasks: compiled.functions,
      failOnExecutionFailure: false,
    },
    {
      log: () => undefined,
      warn: (line) => console.warn(line),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      now: () => Date.now(),
      pollMs: 1000,
      maxPollMs: 5000,
    },
  );
  const runSeconds = (Date.now() - runStart) / 1000;
  const figures = {
    nodes: graph.nodes.length,
    children: compiled.children?.length ?? 0,
    largestChildBytes: Math.max(...(compiled.children ?? []).map((c) => c.definitionBytes)),
    largestChildEvents: Math.max(...(compiled.children ?? []).map((c) => c.expectedHistoryEvents)),
    compileCpuSeconds,
    deploySeconds,
    runSeconds,
    status: report.status,
    succeededNodes: report.nodes.filter((n) => n.status === "succeeded").length,
    historyEvents: report.historyEvents,
    lambdaInvokes: front.invokes(),
  };
  console.log(JSON.stringify(figures, null, 2));
  writeFileSync("bench/split-results.json", `${JSON.stringify(figures, null, 2)}\n`);
  expect(report.status).toBe("SUCCEEDED");
  expect(figures.succeededNodes).toBe(graph.nodes.length);
}, 3_600_000);
