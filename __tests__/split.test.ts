/**
 * Pipelines too big for one state machine (issue 14, items 1 and 2): the definition is sized as
 * sent before any AWS write, and a big pipeline compiles into a parent that runs child state
 * machines (`startExecution.sync:2`), deploys on moto (children first, then one parent update)
 * and runs there with per-node status read across the children's histories. The Lambda front
 * of this file echoes each invoke (or fails it when a test says so) and forwards the rest to moto.
 */
import { ListFunctionsCommand } from "@aws-sdk/client-lambda";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { DescribeStateMachineCommand, ListStateMachinesCommand } from "@aws-sdk/client-sfn";
import { CallLog, createAwsClients, type AwsClients } from "../src/aws/clients.js";
import { buildDefinition, type TaskInfo } from "../src/compile/asl.js";
import {
  compilePipeline,
  FAIL_SUFFIX,
  parseFunctionOverrides,
  type CompileOptions,
} from "../src/compile/index.js";
import { parallel, task } from "../src/graph/spTree.js";
import { sentDefinitionBytes, SPLIT_BUDGET, STEP_FUNCTIONS_LIMITS } from "../src/compile/limits.js";
import { START_EXECUTION_SYNC } from "../src/compile/split.js";
import type { AslDefinition, AslState } from "../src/compile/types.js";
import { UserError } from "../src/errors.js";
import { GRAPH_SCHEMA, type GraphNode, type PipelineGraph } from "../src/graph/types.js";
import { bindDefinition, childMachineReferences } from "../src/plan/bind.js";
import { planDeployment } from "../src/plan/index.js";
import { boundTaskDefinitions } from "../src/plan/taskDefinitions.js";
import { renderPlanMarkdown } from "../src/report/planComment.js";
import { toPlanView } from "../src/report/planView.js";
import { executePipeline } from "../src/run/execute.js";
import { readSucceededRuns } from "../src/aws/learnedDurations.js";
import { learnedDurationsOf } from "../src/run/durationsLearned.js";
import { parseOptions } from "../src/options.js";
import { runCommand } from "../src/stages/runDeployed.js";
import { deploy, missingReferencedVersions } from "./harness/deploy.js";
import { echoFront } from "./harness/echoFront.js";
import { TEST_CREDENTIALS, useLocalStack } from "./harness/localStack.js";
import { desiredDeployment, spaceflightsGraph } from "./harness/pipelines.js";
import { applyDestroy, describeDestroy, isEmpty, planDestroy } from "../src/ops/destroy.js";

const DEFAULTS: CompileOptions["functionDefaults"] = {
  memoryMb: 1024,
  timeoutSeconds: 900,
  ephemeralStorageMb: 512,
  architecture: "x86_64",
  environment: {},
};

function options(extra: Partial<CompileOptions> = {}): CompileOptions {
  return { stateMachineName: "big", groupBy: [], structure: "dag", functionDefaults: DEFAULTS, ...extra };
}

/** n independent nodes: one Parallel of n Tasks (the shape that failed on AWS at 1,150). */
function fan(n: number): PipelineGraph {
  const nodes: GraphNode[] = Array.from({ length: n }, (_, i) => ({
    name: `node_${i}`,
    namespace: null,
    tags: [],
    inputs: [],
    outputs: [`d${i}`],
  }));
  return { schema: GRAPH_SCHEMA, nodes };
}

/** `chains` chains of `length` nodes, then one node that reads every chain's end. */
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

function lambdaTasks(states: Record<string, AslState>, out: AslState[] = []): AslState[] {
  for (const state of Object.values(states)) {
    if (state.Type === "Task" && state.Resource === "arn:aws:states:::lambda:invoke") out.push(state);
    for (const b of (state.Branches as { States: Record<string, AslState> }[] | undefined) ?? [])
      lambdaTasks(b.States, out);
  }
  return out;
}

/** The binding a deploy makes, with real-looking (shorter than worst-case) ARNs. */
function boundAsDeployed(definition: AslDefinition, functionNames: string[]): AslDefinition {
  return bindDefinition(
    definition,
    new Map(
      functionNames.map((name) => [
        name,
        {
          functionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${name}:12`,
          specHash: "0123456789abcdef",
        },
      ]),
    ),
  );
}

describe("the definition is measured as sent, before any write", () => {
  test("the 1,150-node fan that AWS refused after 1,150 functions existed is caught at compile", () => {
    const graph = fan(1150);
    // The one-machine definition compile used to make for it (a Parallel of every Task).
    const compiled = compilePipeline(graph, options());
    const tasks: TaskInfo[] = compiled.functions.map((f) => ({
      stateName: f.stateName,
      failStateName: `${f.stateName}${FAIL_SUFFIX}`,
      functionName: f.functionName,
      nodes: f.nodes,
      timeoutSeconds: f.timeoutSeconds,
    }));
    const unsplit = buildDefinition(parallel(tasks.map((_, i) => task(i))), tasks, "c").definition;
    // What the old check measured (unbound, unescaped) passed; what is sent does not.
    const unbound = Buffer.byteLength(JSON.stringify(unsplit));
    const sent = Buffer.byteLength(
      JSON.stringify(
        JSON.stringify(
          boundAsDeployed(
            unsplit,
            tasks.map((t) => t.functionName),
          ),
        ),
      ),
    );
    expect(unbound).toBeLessThan(STEP_FUNCTIONS_LIMITS.definitionBytes);
    expect(sent).toBeGreaterThan(STEP_FUNCTIONS_LIMITS.definitionBytes);
    // The compile-time figure bounds what a deploy sends.
    expect(sentDefinitionBytes(unsplit)).toBeGreaterThanOrEqual(sent);

    // Refused when splitting is off: a UserError from compile, which runs before any AWS call.
    let refused: unknown;
    try {
      compilePipeline(graph, options({ split: "never" }));
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(UserError);
    expect((refused as UserError).message).toMatch(
      /^The state machine definition would be \d+ bytes as sent \(bound to function versions, escaped in the request\); Step Functions accepts at most 1048576 \(1 MB\)\. It has 1150 tasks and 1 Parallel states\.$/,
    );

    // By default: split into children that each fit, every node in exactly one child.
    const split = compiled;
    expect(split.children?.length).toBeGreaterThanOrEqual(2);
    const seen = new Set<string>();
    for (const child of split.children ?? []) {
      expect(child.name).toMatch(/^big-part-\d\d$/);
      expect(child.definitionBytes).toBeLessThanOrEqual(SPLIT_BUDGET.definitionBytes);
      expect(child.expectedHistoryEvents).toBeLessThanOrEqual(SPLIT_BUDGET.historyEvents);
      const sentChild = Buffer.byteLength(
        JSON.stringify(JSON.stringify(boundAsDeployed(child.definition, child.functionNames))),
      );
      expect(sentChild).toBeLessThanOrEqual(child.definitionBytes);
      for (const t of lambdaTasks(child.definition.States))
        for (const n of (t.Parameters as { Payload: { nodes: string[] } }).Payload.nodes) {
          expect(seen.has(n)).toBe(false);
          seen.add(n);
        }
    }
    expect(seen.size).toBe(1150);
    expect(lambdaTasks(split.definition.States)).toEqual([]);
    expect(childMachineReferences(split.definition)).toEqual(split.children?.map((c) => c.name));
  });

  test("history events are counted from the structure, and a long run splits too", () => {
    // 5,100 Tasks x 5 events: over 25,000 in one execution.
    const compiled = compilePipeline(fan(5100), options());
    expect(compiled.children?.length).toBeGreaterThanOrEqual(2);
    for (const child of compiled.children ?? [])
      expect(child.expectedHistoryEvents).toBeLessThanOrEqual(SPLIT_BUDGET.historyEvents);
    expect(() => compilePipeline(fan(5100), options({ split: "never" }))).toThrow(
      /A run would write about 25510 history events/,
    );
  });

  test("a split keeps dependencies: the join runs after every chain, in the parent's order", () => {
    const compiled = compilePipeline(
      chainsThenJoin(4, 6),
      options({ split: { definitionBytes: 20_000, historyEvents: 200 } }),
    );
    const parent = compiled.definition;
    // Parent: a Parallel of chain parts, then the part holding the join.
    const start = parent.States[parent.StartAt] as AslState;
    const body = parent.States[start.Next as string] as AslState;
    const main = parent.States[body.Next as string] as AslState;
    expect(main.Type).toBe("Parallel");
    const after = parent.States[main.Next as string] as AslState;
    expect(after.Resource).toBe(START_EXECUTION_SYNC);
    const last = compiled.children?.find(
      (c) => c.name === (after.Parameters as { StateMachineArn: string }).StateMachineArn,
    );
    expect(
      lambdaTasks(last?.definition.States ?? {}).map(
        (t) => (t.Parameters as { Payload: { nodes: string[] } }).Payload.nodes,
      ),
    ).toEqual([["join"]]);
    expect(after.Parameters).toMatchObject({
      Input: { "params.$": "$.params", "kedro_sfn.$": "$.kedro_sfn" },
    });
    expect(sentDefinitionBytes(parent)).toBe(compiled.report.definitionBytes);
  });

  test("5,000 nodes compile in under 3 CPU seconds", () => {
    const start = process.cpuUsage();
    const compiled = compilePipeline(chainsThenJoin(50, 100), options());
    const used = process.cpuUsage(start);
    expect(compiled.functions).toHaveLength(5001);
    expect(compiled.children?.length).toBeGreaterThanOrEqual(5);
    expect((used.user + used.system) / 1e6).toBeLessThan(3);
  });
});

// ---- deploy and run on moto ------------------------------------------------------------

const front = await echoFront();
const stack = useLocalStack({ invokePort: front.port });
const failing = front.failing;

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

async function deploySplit(
  name: string,
  graph: PipelineGraph,
  extra: Partial<CompileOptions>,
  prune = false,
  using: { clients?: AwsClients; image?: string } = {},
) {
  const compiled = compilePipeline(graph, options({ stateMachineName: name, ...extra }));
  const roles = stack().roles;
  const desired = desiredDeployment({
    stateMachineName: name,
    compiled,
    imageUri: await stack().putImage("split", using.image ?? name),
    lambdaRoleArn: roles.lambda,
    stateMachineRoleArn: roles.stateMachine,
  });
  const deployed = await deploy(using.clients ?? clients, desired, { prune, concurrency: 32 });
  return { compiled, deployed };
}

async function runIt(
  arn: string,
  tasks: { stateName: string; functionName: string; nodes: string[] }[],
  name: string,
) {
  const logs: string[] = [];
  return executePipeline(
    clients.sfn,
    {
      stateMachineArn: arn,
      name,
      input: JSON.stringify({ params: { x: 1 } }),
      wait: true,
      timeoutMs: 600_000,
      tasks,
      failOnExecutionFailure: false,
    },
    {
      log: (line) => logs.push(line),
      warn: (line) => logs.push(line),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      now: () => Date.now(),
      pollMs: 200,
    },
  );
}

describe("a split pipeline on moto", () => {
  test("deploys children then the parent, runs across children, reports every node, prunes", async () => {
    const graph = chainsThenJoin(3, 3);
    const { compiled, deployed } = await deploySplit("splitmoto", graph, {
      split: { definitionBytes: 6_000, historyEvents: 40 },
    });
    const children = compiled.children ?? [];
    expect(children.length).toBeGreaterThanOrEqual(3);
    // The parent points at each child's exact published version.
    const parent = await clients.sfn.send(
      new DescribeStateMachineCommand({ stateMachineArn: deployed.result.stateMachineArn }),
    );
    const refs = childMachineReferences(JSON.parse(parent.definition ?? "{}") as AslDefinition);
    expect(refs.map((r) => r.split(":").slice(6).join(":"))).toEqual(children.map((c) => `${c.name}:1`));

    const ok = await runIt(deployed.result.stateMachineArn, compiled.functions, "split-ok");
    expect(ok.status).toBe("SUCCEEDED");
    expect(front.invokes()).toBe(graph.nodes.length);
    expect(ok.nodes.map((n) => [n.node, n.status]).sort()).toEqual(
      graph.nodes.map((n) => [n.name, "succeeded"]).sort(),
    );

    // `kedro-sfn run --state-machine NAME` reads the Tasks from the children the parent starts.
    let out = "";
    const err: string[] = [];
    const flags: Record<string, string> = { "state-machine-name": "splitmoto", "execution-input": "{}" };
    const code = await runCommand(
      parseOptions((flag) => flags[flag] ?? ""),
      {
        sfn: clients.sfn,
        out: (text) => (out += text),
        err: (line) => err.push(line),
        sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 200))),
        now: () => Date.now(),
        env: { GITHUB_SHA: "3f2a1b9c0d1e2f3a4b5c", GITHUB_RUN_ID: "1", GITHUB_RUN_ATTEMPT: "1" },
      },
    );
    expect(err.filter((l) => l.startsWith("error") || l.startsWith("warning"))).toEqual([]);
    expect(code).toBe(0);
    for (const n of graph.nodes)
      expect(out).toMatch(new RegExp(`succeeded\\s+${n.name.replace(/\./g, "\\.")}\\s`));

    // A node fails inside a child: the parent fails, that node is failed, what follows not started.
    const c1 = compiled.functions.find((f) => f.nodes.includes("c1.n1"));
    failing.add(c1?.functionName as string);
    const bad = await runIt(deployed.result.stateMachineArn, compiled.functions, "split-fail");
    failing.clear();
    expect(bad.status).toBe("FAILED");
    const status = new Map(bad.nodes.map((n) => [n.node, n.status]));
    expect(status.get("c1.n0")).toBe("succeeded");
    expect(status.get("c1.n1")).toBe("failed");
    expect(status.get("c1.n2")).toBe("not-started");
    expect(status.get("join")).toBe("not-started");
    expect(bad.nodes.find((n) => n.node === "c1.n1")?.error?.type).toBe("KeyError");

    // A no-op redeploy publishes nothing new; a smaller pipeline prunes the children it dropped.
    const again = await deploySplit("splitmoto", graph, {
      split: { definitionBytes: 6_000, historyEvents: 40 },
    });
    expect(again.deployed.result.stateMachineVersionArn).toBe(deployed.result.stateMachineVersionArn);
    const small = await deploySplit("splitmoto", chainsThenJoin(3, 3), {}, true);
    expect(small.compiled.children).toBeUndefined();
    const left = await clients.sfn.send(new ListStateMachinesCommand({}));
    expect(
      (left.stateMachines ?? []).map((m) => m.name).filter((n) => n?.startsWith("splitmoto-part-")),
    ).toEqual([]);
    expect(small.deployed.result.deleted).toEqual(expect.arrayContaining(children.map((c) => c.name)));
  }, 300_000);

  test("the deployed state is read through the children: a no-op is 5 calls plus one per child", async () => {
    const split = { split: { definitionBytes: 6_000, historyEvents: 40 } };
    const graph = chainsThenJoin(3, 3);
    const first = await deploySplit("splitread", graph, split, true);
    const children = first.compiled.children ?? [];
    expect(children.length).toBeGreaterThanOrEqual(3);
    const log = new CallLog();
    const recorded = await stack().clients({ recorders: [log], lambdaLimiter: null });
    try {
      const again = await deploySplit("splitread", graph, split, true, { clients: recorded });
      expect(again.deployed.plan.summary.hasChanges).toBe(false);
      expect(again.deployed.plan.stateMachine.children?.map((c) => c.versionArn?.split(":").pop())).toEqual(
        children.map(() => "1"),
      );
      expect(again.deployed.result.stateMachineVersionArn).toBe(first.deployed.result.stateMachineVersionArn);
      // The parent's DescribeStateMachine, tags, versions, newest version and alias; then one
      // DescribeStateMachine per child version: no GetFunction, no write.
      const operations = log.calls.map((call) => `${call.service}:${call.operation}`);
      expect(log.writes()).toEqual([]);
      expect(operations.filter((op) => op.startsWith("lambda:"))).toEqual([]);
      expect(log.count()).toBe(5 + children.length);
      expect(operations.filter((op) => op === "states:DescribeStateMachine")).toHaveLength(
        2 + children.length,
      );

      // A new image everywhere: the functions the children bind are updated without a read first
      // (the bound Task's spec hash says only the image changed), the changed children and then
      // the parent publish, and the next no-op is again 5 + children calls.
      log.clear();
      const full = await deploySplit("splitread", graph, split, true, { clients: recorded, image: "v2" });
      const functionCount = first.compiled.functions.length;
      expect(full.deployed.plan.functions.every((fn) => fn.action === "update-code")).toBe(true);
      expect(log.count((call) => call.operation === "GetFunction")).toBe(0);
      expect(log.count((call) => call.operation === "UpdateFunctionCode")).toBe(functionCount);
      expect(full.deployed.result.stateMachineVersionArn).not.toBe(
        first.deployed.result.stateMachineVersionArn,
      );
      expect(await missingReferencedVersions(clients, full.deployed.result.stateMachineArn)).toEqual([]);
      log.clear();
      const noop = await deploySplit("splitread", graph, split, true, { clients: recorded, image: "v2" });
      expect(noop.deployed.plan.summary.hasChanges).toBe(false);
      expect(log.count()).toBe(5 + children.length);
    } finally {
      recorded.destroy();
    }
  }, 300_000);

  test("a function shared by Tasks in several children is read once through them, and updated once", async () => {
    const split = {
      split: { definitionBytes: 6_000, historyEvents: 40 },
      functionSharing: "by-settings" as const,
    };
    const graph = chainsThenJoin(3, 3);
    const first = await deploySplit("splitshared", graph, split);
    const children = first.compiled.children?.length ?? 0;
    expect(children).toBeGreaterThanOrEqual(3);
    expect(first.compiled.functions).toHaveLength(1);
    const log = new CallLog();
    const recorded = await stack().clients({ recorders: [log], lambdaLimiter: null });
    try {
      const noop = await deploySplit("splitshared", graph, split, false, { clients: recorded });
      expect(noop.deployed.plan.summary.hasChanges).toBe(false);
      expect(log.count()).toBe(5 + children);
      log.clear();
      const full = await deploySplit("splitshared", graph, split, false, { clients: recorded, image: "v2" });
      expect(full.deployed.plan.functions.map((fn) => fn.steps.join())).toEqual(["code,publish"]);
      expect(log.count((call) => call.operation === "GetFunction")).toBe(0);
      expect(log.count((call) => call.operation === "UpdateFunctionCode")).toBe(1);
      expect(await missingReferencedVersions(clients, full.deployed.result.stateMachineArn)).toEqual([]);
    } finally {
      recorded.destroy();
    }
  }, 300_000);

  test("learned durations are read through the children the parent's runs started", async () => {
    const graph = chainsThenJoin(3, 3);
    const { compiled, deployed } = await deploySplit("splitlearn", graph, {
      split: { definitionBytes: 6_000, historyEvents: 40 },
    });
    const children = compiled.children?.length ?? 0;
    expect(children).toBeGreaterThanOrEqual(3);
    const slowNode = compiled.functions.find((f) => f.nodes.includes("c1.n1"));
    front.slow.set(slowNode?.functionName as string, 1500);
    try {
      for (const name of ["learn-1", "learn-2"])
        expect((await runIt(deployed.result.stateMachineArn, compiled.functions, name)).status).toBe(
          "SUCCEEDED",
        );
    } finally {
      front.slow.clear();
    }
    const read = await readSucceededRuns(clients.sfn, deployed.result.stateMachineArn, compiled.functions);
    // ListExecutions, then per run the parent's history page and one page per child.
    expect(read.executions).toHaveLength(2);
    expect(read.calls).toBe(1 + 2 * (1 + children));
    const learned = learnedDurationsOf(read.executions);
    expect(Object.keys(learned).sort()).toEqual(graph.nodes.map((n) => n.name).sort());
    expect(learned["c1.n1"]).toBeGreaterThanOrEqual(1.4);
    for (const node of graph.nodes) if (node.name !== "c1.n1") expect(learned[node.name]).toBeLessThan(1.4);

    // Within the call budget: a run whose children do not fit is not read (none half-read).
    const capped = await readSucceededRuns(clients.sfn, deployed.result.stateMachineArn, compiled.functions, {
      maxCalls: 1 + (1 + children) + 1,
    });
    expect(capped.executions).toHaveLength(1);
    expect(capped.calls).toBeLessThanOrEqual(1 + (1 + children) + 1);
  }, 300_000);

  test("an ECS node inside a child runs the task definition revision of the same cutover", async () => {
    const train = "data_science.train_model_node";
    const compileFor = (): ReturnType<typeof compilePipeline> =>
      compilePipeline(spaceflightsGraph(), {
        ...options({ stateMachineName: "splitecs", split: { definitionBytes: 4_000, historyEvents: 15 } }),
        overrides: parseFunctionOverrides(
          `functions:\n  overrides:\n    - node: ${train}\n      runner: ecs\n      cpu: 1024\n      memory: 4096\n`,
          "conf/aws/sfn.yml",
        ),
        ecs: {
          cluster: "kedro",
          subnets: ["subnet-0123456789abcdef0"],
          securityGroups: [],
          assignPublicIp: false,
        },
      });
    const roles = stack().roles;
    const desiredFor = async (seed: string) => ({
      ...desiredDeployment({
        stateMachineName: "splitecs",
        compiled: compileFor(),
        imageUri: await stack().putImage("splitecs", seed),
        lambdaRoleArn: roles.lambda,
        stateMachineRoleArn: roles.stateMachine,
      }),
      ecs: { executionRoleArn: roles.lambda, taskRoleArn: roles.lambda },
    });
    const first = await desiredFor("v1");
    expect(first.compiled.children?.length).toBeGreaterThanOrEqual(2);
    expect(first.compiled.ecsTasks?.map((t) => t.nodes)).toEqual([[train]]);
    // The ECS Task is in a child, not in the parent.
    expect(boundTaskDefinitions(first.compiled.definition)).toEqual([]);
    const family = first.compiled.ecsTasks?.[0]?.family ?? "";
    const revision = (n: number): string =>
      `arn:aws:ecs:${stack().region}:${stack().accountId}:task-definition/${family}:${n}`;
    /** The task definitions the ECS Tasks of the children the parent starts run. */
    const ecsBound = async (arn: string): Promise<string[]> => {
      const parent = await clients.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
      const bound: string[] = [];
      for (const child of childMachineReferences(JSON.parse(parent.definition ?? "{}") as AslDefinition)) {
        const described = await clients.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: child }));
        bound.push(...boundTaskDefinitions(JSON.parse(described.definition ?? "{}") as AslDefinition));
      }
      return bound;
    };

    const created = await deploy(clients, first, { concurrency: 32 });
    expect(created.plan.taskDefinition?.action).toBe("create");
    expect(await ecsBound(created.result.stateMachineArn)).toEqual([revision(1)]);

    // A no-op: the parent's five reads, one per child, the family's latest revision; no write.
    const log = new CallLog();
    const recorded = await stack().clients({ recorders: [log], lambdaLimiter: null });
    try {
      const noop = await deploy(recorded, first);
      expect(noop.plan.summary.hasChanges).toBe(false);
      expect(log.writes()).toEqual([]);
      expect(log.count()).toBe(5 + (first.compiled.children?.length ?? 0) + 1);
    } finally {
      recorded.destroy();
    }

    // A new image: a new revision, bound in the child that runs the ECS node, in the one cutover.
    const updated = await deploy(clients, await desiredFor("v2"), { concurrency: 32 });
    expect(updated.plan.taskDefinition?.action).toBe("update");
    expect(await ecsBound(updated.result.stateMachineArn)).toEqual([revision(2)]);
    expect(await missingReferencedVersions(clients, updated.result.stateMachineArn)).toEqual([]);

    // Destroy finds the revisions through the children too.
    const plan = await planDestroy(clients, "splitecs");
    expect(plan.taskDefinitions).toEqual([revision(1), revision(2)]);
    await applyDestroy(clients, plan, () => undefined);
    expect(isEmpty(await planDestroy(clients, "splitecs"))).toBe(true);
  }, 300_000);

  test("destroy removes the parent, its children and their functions, and leaves a neighbour", async () => {
    const split = { split: { definitionBytes: 6_000, historyEvents: 40 } };
    const { compiled } = await deploySplit("splitgone", chainsThenJoin(3, 3), split);
    await deploySplit("splitkept", chainsThenJoin(3, 3), split);
    const children = (compiled.children ?? []).map((c) => c.name);
    expect(children.length).toBeGreaterThanOrEqual(3);
    const plan = await planDestroy(clients, "splitgone");
    expect(plan.children.map((arn) => arn.split(":").pop())).toEqual(children);
    expect(describeDestroy(plan)).toContain(`child state machine ${plan.children[0] ?? ""}`);
    await applyDestroy(clients, plan, () => undefined);
    const names = ((await clients.sfn.send(new ListStateMachinesCommand({}))).stateMachines ?? []).map(
      (m) => m.name ?? "",
    );
    expect(names.filter((n) => n.startsWith("splitgone"))).toEqual([]);
    expect(names.filter((n) => n.startsWith("splitkept-part-")).length).toBeGreaterThanOrEqual(2);
    expect(names).toContain("splitkept");
    const functions = ((await clients.lambda.send(new ListFunctionsCommand({}))).Functions ?? []).map(
      (f) => f.FunctionName ?? "",
    );
    expect(plan.functions.length).toBe(compiled.functions.length);
    expect(functions.filter((f) => f.startsWith("splitgone"))).toEqual([]);
    expect(functions.filter((f) => f.startsWith("splitkept")).length).toBeGreaterThan(0);
    expect(isEmpty(await planDestroy(clients, "splitgone"))).toBe(true);
  }, 300_000);
});

describe("the plan shows a split pipeline's parts", () => {
  test("the parent and each child state machine appear as resources in the plan comment", () => {
    const graph = chainsThenJoin(3, 3);
    const compiled = compilePipeline(
      graph,
      options({ split: { definitionBytes: 6_000, historyEvents: 40 } }),
    );
    const desired = desiredDeployment({
      stateMachineName: "big",
      compiled,
      imageUri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/big@sha256:" + "0".repeat(64),
      lambdaRoleArn: "arn:aws:iam::123456789012:role/l",
      stateMachineRoleArn: "arn:aws:iam::123456789012:role/s",
    });
    const plan = planDeployment(desired, null);
    const view = toPlanView(plan, {
      target: "big",
      findings: [],
      graph,
      compiled,
      image: { state: "would-build", repository: "big" },
    });
    const markdown = renderPlanMarkdown(view);
    expect(markdown).toContain(`runs ${compiled.children?.length} child state machines`);
    for (const child of compiled.children ?? [])
      expect(markdown).toContain(`| \`${child.name}\` | ${child.functionNames.length} |`);
  });
});
