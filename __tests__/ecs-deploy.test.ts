/**
 * The ECS runner's plan and apply against moto server: the task definition is created with the
 * first deploy, kept by a no-op redeploy (zero writes), replaced by a new revision when the image
 * changes, and the state machine's ECS Task always points at the revision the plan chose.
 */
import { DescribeStateMachineCommand } from "@aws-sdk/client-sfn";
import { describe, expect, it } from "@jest/globals";
import { CallLog, readOnlyGuard } from "../src/aws/clients.js";
import { describeLatestTaskDefinition, listTaskDefinitions, registerTaskDefinition } from "../src/aws/ecs.js";
import { applyDestroy, describeDestroy, isEmpty, planDestroy } from "../src/ops/destroy.js";
import { compilePipeline, parseFunctionOverrides } from "../src/compile/index.js";
import type { DesiredDeployment } from "../src/plan/types.js";
import { deploy, planOnly } from "./harness/deploy.js";
import { useLocalStack, type LocalStack } from "./harness/localStack.js";
import { spaceflightsGraph } from "./harness/pipelines.js";

const stack = useLocalStack();
const NAME = "mixed";
const FAMILY = "mixed-ecs";
const TRAIN = "data_science.train_model_node";
const SFN_YML = `functions:
  overrides:
    - node: ${TRAIN}
      runner: ecs
      cpu: 1024
      memory: 4096
      timeout: 7200
`;

async function desired(s: LocalStack, seed = "v1"): Promise<DesiredDeployment> {
  const compiled = compilePipeline(spaceflightsGraph(), {
    stateMachineName: NAME,
    groupBy: [],
    structure: "dag",
    functionDefaults: {
      memoryMb: 1024,
      timeoutSeconds: 300,
      ephemeralStorageMb: 512,
      architecture: "x86_64",
      environment: { KEDRO_ENV: "aws" },
    },
    overrides: parseFunctionOverrides(SFN_YML, "conf/aws/sfn.yml"),
    ecs: {
      cluster: "kedro",
      subnets: ["subnet-0123456789abcdef0"],
      securityGroups: [],
      assignPublicIp: false,
    },
  });
  return {
    stateMachineName: NAME,
    compiled,
    imageUri: await s.putImage("mixed", seed),
    lambdaRoleArn: s.roles.lambda,
    stateMachineRoleArn: s.roles.stateMachine,
    tags: { team: "data" },
    commitSha: "0123456789abcdef0123456789abcdef01234567",
    tracing: false,
    project: "spaceflights",
    ecs: { executionRoleArn: s.roles.lambda, taskRoleArn: s.roles.lambda },
  };
}

async function ecsTaskDefinitionOf(s: LocalStack, arn: string): Promise<unknown> {
  const clients = await s.clients({ lambdaLimiter: null });
  const machine = await clients.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
  const definition = JSON.parse(machine.definition ?? "{}") as {
    States: Record<string, { Resource?: string; Parameters?: { TaskDefinition?: string } }>;
  };
  const ecs = Object.values(definition.States).filter(
    (state) => state.Resource === "arn:aws:states:::ecs:runTask.sync",
  );
  expect(ecs).toHaveLength(1);
  return ecs[0]?.Parameters?.TaskDefinition;
}

describe("ECS task definition: plan and apply against moto", () => {
  it("registers it on the first deploy, keeps it on a no-op, registers a revision for a new image", async () => {
    const s = stack();
    const clients = await s.clients();
    const first = await desired(s);
    expect(first.compiled.functions.map((f) => f.functionName)).not.toContain(
      "mixed-data_science_train_model_node",
    );
    expect(first.compiled.ecsTasks?.map((t) => t.nodes)).toEqual([[TRAIN]]);

    const created = await deploy(clients, first);
    expect(created.plan.taskDefinition).toMatchObject({ family: FAMILY, action: "create", currentArn: null });
    // Five functions, the task definition, the state machine.
    expect(created.plan.summary).toMatchObject({ toCreate: 7, toUpdate: 0, unchanged: 0 });
    const latest = await describeLatestTaskDefinition(clients.ecs, FAMILY);
    expect(latest?.arn).toBe(`arn:aws:ecs:${s.region}:${s.accountId}:task-definition/${FAMILY}:1`);
    expect(latest?.tags).toMatchObject({
      "kedro-sfn:state-machine": NAME,
      "kedro-sfn:spec": created.plan.taskDefinition?.specHash,
      team: "data",
    });
    expect(await ecsTaskDefinitionOf(s, created.result.stateMachineArn)).toBe(latest?.arn);

    // The same inputs again: nothing to do, and not one write.
    const log = new CallLog();
    const again = await s.clients({ recorders: [log] });
    const noop = await deploy(again, first);
    expect(noop.plan.taskDefinition).toMatchObject({ action: "noop", currentArn: latest?.arn });
    expect(noop.plan.summary.hasChanges).toBe(false);
    expect(log.writes().map((call) => call.iamAction)).toEqual([]);
    expect(log.actions()).toContain("ecs:DescribeTaskDefinition");

    // A new image: a new revision, and the state machine switches to it in its one update.
    const second = await desired(s, "v2");
    const updated = await deploy(clients, second);
    expect(updated.plan.taskDefinition).toMatchObject({
      action: "update",
      changes: [{ field: "revision", before: `${FAMILY}:1`, after: `${FAMILY}:new` }],
    });
    const revision2 = `arn:aws:ecs:${s.region}:${s.accountId}:task-definition/${FAMILY}:2`;
    expect((await describeLatestTaskDefinition(clients.ecs, FAMILY))?.arn).toBe(revision2);
    expect(await ecsTaskDefinitionOf(s, updated.result.stateMachineArn)).toBe(revision2);

    // Destroy deregisters both revisions of this family, and no other family's.
    const neighbour = await registerTaskDefinition(clients.ecs, {
      family: "mixed-other-ecs",
      taskRoleArn: s.roles.lambda,
      executionRoleArn: s.roles.lambda,
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      cpu: "256",
      memory: "512",
      runtimePlatform: { cpuArchitecture: "X86_64", operatingSystemFamily: "LINUX" },
      containerDefinitions: [
        {
          name: "other",
          image: first.imageUri,
          essential: true,
          entryPoint: ["python3"],
          command: ["-c", "pass"],
          environment: [],
          logConfiguration: { logDriver: "awslogs", options: {} },
        },
      ],
      tags: [{ key: "kedro-sfn:state-machine", value: "mixed-other" }],
    });
    const plan = await planDestroy(clients, NAME);
    expect(plan.taskDefinitions).toEqual([`${revision2.slice(0, -2)}:1`, revision2]);
    expect(describeDestroy(plan)).toContain(`ECS task definition ${FAMILY}:2`);
    await applyDestroy(clients, plan, () => undefined);
    expect(await listTaskDefinitions(clients.ecs, FAMILY)).toEqual([]);
    expect(await listTaskDefinitions(clients.ecs, "mixed-other-ecs")).toEqual([neighbour]);
    expect(isEmpty(await planDestroy(clients, NAME))).toBe(true);
  });

  it("plans without writing, under the read-only guard", async () => {
    const s = stack();
    const log = new CallLog();
    const guarded = await s.clients({ recorders: [readOnlyGuard, log] });
    const plan = await planOnly(guarded, await desired(s));
    expect(plan.taskDefinition).toMatchObject({ family: FAMILY, action: "create" });
    expect(log.actions()).toContain("ecs:DescribeTaskDefinition");
    expect(log.writes()).toEqual([]);
  });
});
