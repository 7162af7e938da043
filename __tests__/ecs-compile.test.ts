/**
 * The ECS runner in the compiler and the input checks: routing by sfn.yml, Fargate sizes, the
 * Task state, and every bad input the issue lists, each refused with the setting or input to fix.
 */
import { describe, expect, it } from "@jest/globals";
import { compilePipeline, parseFunctionOverrides, type CompileOptions } from "../src/compile/index.js";
import { ECS_CAPACITY_ERRORS, fargateSize, nearestFargateSize } from "../src/compile/ecs.js";
import type { AslState } from "../src/compile/types.js";
import { UserError } from "../src/errors.js";
import { checkEcsInputs } from "../src/stages/ecsInputs.js";
import { spaceflightsGraph } from "./harness/pipelines.js";

const TRAIN = "data_science.train_model_node";
const FILE = "conf/aws/sfn.yml";

function compile(yaml: string, extra: Partial<CompileOptions> = {}) {
  return compilePipeline(spaceflightsGraph(), {
    stateMachineName: "sf",
    groupBy: [],
    structure: "dag",
    functionDefaults: {
      memoryMb: 1024,
      timeoutSeconds: 300,
      ephemeralStorageMb: 512,
      architecture: "x86_64",
      environment: { KEDRO_ENV: "aws" },
    },
    overrides: parseFunctionOverrides(yaml, FILE),
    ecs: {
      cluster: "kedro",
      subnets: ["subnet-0123456789abcdef0"],
      securityGroups: ["sg-0123456789abcdef0"],
      assignPublicIp: true,
    },
    ...extra,
  });
}

function failure(run: () => unknown): UserError {
  try {
    run();
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error("expected a UserError");
}

const routed = (settings: string) => `functions:\n  overrides:\n    - node: ${TRAIN}\n${settings}`;

describe("routing a node to ECS", () => {
  it("compiles a runTask.sync Task with the cluster, network, size, run id and params", () => {
    const compiled = compile(routed("      runner: ecs\n      memory: 8192\n      timeout: 7200\n"));
    expect(compiled.functions.map((f) => f.nodes[0])).not.toContain(TRAIN);
    expect(compiled.functions).toHaveLength(5);
    expect(compiled.ecsTasks).toEqual([
      expect.objectContaining({
        family: "sf-ecs",
        nodes: [TRAIN],
        cpu: 1024,
        memoryMb: 8192,
        timeoutSeconds: 7200,
      }),
    ]);
    const states = compiled.definition.States;
    const task = Object.values(states).find(
      (s) => s.Resource === "arn:aws:states:::ecs:runTask.sync",
    ) as AslState;
    expect(task.Parameters).toEqual({
      Cluster: "kedro",
      LaunchType: "FARGATE",
      TaskDefinition: "sf-ecs",
      NetworkConfiguration: {
        AwsvpcConfiguration: {
          Subnets: ["subnet-0123456789abcdef0"],
          SecurityGroups: ["sg-0123456789abcdef0"],
          AssignPublicIp: "ENABLED",
        },
      },
      Overrides: {
        Cpu: "1024",
        Memory: "8192",
        ContainerOverrides: [
          {
            Name: "kedro",
            Environment: [
              { Name: "KEDRO_ENV", Value: "aws" },
              { Name: "KEDRO_SFN_NODES", Value: JSON.stringify([TRAIN]) },
              { Name: "KEDRO_SFN_RUN_ID", "Value.$": "$.kedro_sfn.run_id" },
              { Name: "KEDRO_SFN_CONTEXT", "Value.$": "States.JsonToString($.kedro_sfn)" },
              { Name: "KEDRO_SFN_PARAMS", "Value.$": "States.JsonToString($.params)" },
            ],
          },
        ],
      },
    });
    expect(task.TimeoutSeconds).toBe(7200);
    expect(task.Retry).toEqual([expect.objectContaining({ ErrorEquals: ECS_CAPACITY_ERRORS })]);
    expect(ECS_CAPACITY_ERRORS).not.toContain("States.TaskFailed");
    expect(task.Catch).toEqual([expect.objectContaining({ ErrorEquals: ["States.ALL"] })]);
    // The run context the ECS Task reads, defaulted by the first Pass state.
    const prepare = states["Prepare input"] as AslState;
    expect(prepare.Parameters).toEqual({
      defaults: { params: {}, kedro_sfn: { "run_id.$": "$$.Execution.Name", skip: [] } },
      "input.$": "$",
    });
  });

  it("leaves a pipeline without ECS nodes Lambda-only, with the run context every definition has", () => {
    const compiled = compile("");
    expect(compiled.ecsTasks).toBeUndefined();
    expect((compiled.definition.States["Prepare input"] as AslState).Parameters).toEqual({
      defaults: { params: {}, kedro_sfn: { "run_id.$": "$$.Execution.Name", skip: [] } },
      "input.$": "$",
    });
    const resources = Object.values(compiled.definition.States).map((state) => state.Resource);
    expect(resources.filter((r) => typeof r === "string" && r.includes(":ecs:"))).toEqual([]);
    expect(compiled.functions.every((f) => !("runner" in f) && !("cpu" in f))).toBe(true);
  });

  it("routes every node with the default runner, and a node back to Lambda by sfn.yml", () => {
    const compiled = compilePipeline(spaceflightsGraph(), {
      stateMachineName: "sf",
      groupBy: [],
      structure: "dag",
      functionDefaults: {
        memoryMb: 2048,
        timeoutSeconds: 300,
        ephemeralStorageMb: 512,
        architecture: "x86_64",
        environment: {},
        runner: "ecs",
      },
      overrides: parseFunctionOverrides(routed("      runner: lambda\n"), FILE),
    });
    expect(compiled.functions.map((f) => f.nodes)).toEqual([[TRAIN]]);
    expect(compiled.ecsTasks).toHaveLength(5);
    expect(compiled.ecsTasks?.every((t) => t.cpu === 256 && t.memoryMb === 2048)).toBe(true);
  });
});

describe("bad settings", () => {
  it("names runner: ecs as the fix for a node over Lambda's limits", () => {
    const long = failure(() => compile(routed("      timeout: 7200\n")));
    expect(long.message).toContain(`Node '${TRAIN}'`);
    expect(long.message).toContain("timeout 7200 s");
    expect(long.hint).toContain("runner: ecs");
    expect(long.hint).toContain(`${FILE} overrides[0] (node: ${TRAIN})`);
    const big = failure(() => compile(routed("      memory: 16384\n")));
    expect(big.hint).toContain("runner: ecs");
  });

  it("refuses a CPU and memory pair Fargate does not offer, naming the nearest one", () => {
    const error = failure(() => compile(routed("      runner: ecs\n      cpu: 256\n      memory: 4096\n")));
    expect(error.message).toBe(
      `Node '${TRAIN}' (function sf-data_science-train_model_node) runs on ECS Fargate, which has no task size cpu 256 with memory 4096 MB.`,
    );
    expect(error.hint).toContain("nearest Fargate size is cpu 512 with memory 4096");
    expect(error.hint).toContain("cpu 256 allows memory 512-2048 MB");
    expect(failure(() => compile(routed("      runner: ecs\n      cpu: 3000\n"))).hint).toContain(
      "cpu is one of 256, 512, 1024",
    );
    expect(nearestFargateSize(undefined, 3000)).toEqual({ cpu: 512, memoryMb: 3072 });
    expect(fargateSize(undefined, 30720, "n", "x")).toEqual({ cpu: 4096, memoryMb: 30720 });
  });

  it("refuses a node routed to both runners, naming both sfn.yml entries", () => {
    const yaml = `functions:
  overrides:
    - tag: long
      runner: ecs
    - tag: small
      runner: lambda
`;
    const graph = spaceflightsGraph();
    graph.nodes = graph.nodes.map((n) => (n.name === TRAIN ? { ...n, tags: ["long", "small"] } : n));
    const error = failure(() =>
      compilePipeline(graph, {
        stateMachineName: "sf",
        groupBy: [],
        structure: "dag",
        functionDefaults: {
          memoryMb: 1024,
          timeoutSeconds: 300,
          ephemeralStorageMb: 512,
          architecture: "x86_64",
          environment: {},
        },
        overrides: parseFunctionOverrides(yaml, FILE),
      }),
    );
    expect(error.message).toBe(
      `Conflicting settings for node '${TRAIN}': ${FILE} overrides[0] (tag: long) sets runner to ecs, ${FILE} overrides[1] (tag: small) sets it to lambda.`,
    );
  });

  it("refuses a group whose nodes run on different runners", () => {
    const error = failure(() => compile(routed("      runner: ecs\n"), { groupBy: ["namespace"] }));
    expect(error.message).toContain("one task runs on one runner");
    expect(error.hint).toContain("sfn.yml");
  });

  it("refuses cpu on a Lambda node and an unknown runner", () => {
    expect(failure(() => compile(routed("      cpu: 1024\n"))).message).toContain(
      "applies to ECS Fargate tasks only",
    );
    expect(failure(() => compile(routed("      runner: batch\n"))).message).toBe(
      `${FILE}: ${FILE} overrides[0] (node: ${TRAIN}): runner must be lambda or ecs, not "batch".`,
    );
  });
});

describe("ECS inputs", () => {
  const compiled = compile(routed("      runner: ecs\n"));
  const good = {
    ecsCluster: "kedro",
    ecsSubnets: ["subnet-0123456789abcdef0"],
    ecsSecurityGroups: [],
    ecsExecutionRoleArn: "arn:aws:iam::123456789012:role/ecs-exec",
    ecsTaskRoleArn: "arn:aws:iam::123456789012:role/kedro-node",
    lambdaRoleArn: "arn:aws:iam::123456789012:role/kedro-node",
    stateMachineRoleArn: "arn:aws:iam::123456789012:role/kedro-sfn",
  };

  it("needs none of them when no node runs on ECS", () => {
    expect(
      checkEcsInputs({ ...good, ecsCluster: "", ecsSubnets: [] }, compile(""), "eu-west-1", true),
    ).toEqual([]);
  });

  it("requires the cluster, subnets and roles to deploy, and warns when a plan lacks them", () => {
    const missing = { ...good, ecsCluster: "", ecsTaskRoleArn: "" };
    const error = failure(() => checkEcsInputs(missing, compiled, "eu-west-1", true));
    expect(error.message).toBe(
      `Inputs 'ecs-cluster', 'ecs-task-role-arn' are required to deploy: node '${TRAIN}' runs on ECS (runner: ecs).`,
    );
    expect(checkEcsInputs(missing, compiled, "eu-west-1", false)).toEqual([
      `Planned without 'ecs-cluster', 'ecs-task-role-arn': a deploy needs them, since node '${TRAIN}' runs on ECS (runner: ecs).`,
    ]);
    expect(checkEcsInputs(good, compiled, "eu-west-1", true)).toEqual([]);
  });

  it("names the input of a malformed subnet, group, cluster or role", () => {
    expect(
      failure(() => checkEcsInputs({ ...good, ecsSubnets: ["subnet-1"] }, compiled, null, true)).message,
    ).toBe(`Input 'ecs-subnets': "subnet-1" is not a subnet id.`);
    expect(
      failure(() => checkEcsInputs({ ...good, ecsSecurityGroups: ["default"] }, compiled, null, true))
        .message,
    ).toContain("'ecs-security-groups'");
    expect(
      failure(() =>
        checkEcsInputs(
          { ...good, ecsCluster: "arn:aws:ecs:us-east-1:123456789012:cluster/k" },
          compiled,
          "eu-west-1",
          true,
        ),
      ).message,
    ).toContain("the cluster is in us-east-1 but the deployment region is eu-west-1");
    expect(
      failure(() => checkEcsInputs({ ...good, ecsExecutionRoleArn: "ecs-exec" }, compiled, null, true))
        .message,
    ).toBe(`Input 'ecs-execution-role-arn': "ecs-exec" is not an IAM role ARN.`);
    expect(
      failure(() =>
        checkEcsInputs({ ...good, ecsTaskRoleArn: "arn:aws:iam::210987654321:role/x" }, compiled, null, true),
      ).message,
    ).toContain("different accounts");
  });
});
