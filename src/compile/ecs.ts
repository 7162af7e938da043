/**
 * The second runner: a task whose nodes run as an ECS Fargate task of the pipeline's one image
 * (python/kedro_sfn/ecs_entry.py) instead of a Lambda function. Pure: Fargate's sizes, the
 * checks of a node's settings, and the Task state that runs it.
 */
import { UserError } from "../errors.js";
import type { AslState } from "./types.js";

export const ECS_RUN_TASK = "arn:aws:states:::ecs:runTask.sync";
/** The execution's error when an ECS Task failed (its cause: the stopped task's description). */
export const ECS_TASK_FAILED = "KedroSfn.EcsTaskFailed";
/** The one container of the task definition; the Task's ContainerOverrides name it. */
export const ECS_CONTAINER_NAME = "kedro";
/** The pipeline's task definition family: the function prefix's, so one IAM pattern covers both. */
export function taskDefinitionFamily(functionPrefix: string): string {
  return `${functionPrefix}-ecs`;
}

/**
 * ECS's own transient failures: a throttled or failed RunTask (`ECS.AmazonECSException`,
 * `ECS.ServerException`) and a RunTask answered with `Failures` (Fargate out of capacity in the
 * subnets' zones: "Capacity is unavailable at this time"), which `.sync` reports as
 * `AmazonECS.Unknown`. A container that ran and failed is `States.TaskFailed`: never retried.
 */
export const ECS_CAPACITY_ERRORS = ["ECS.AmazonECSException", "ECS.ServerException", "AmazonECS.Unknown"];
export const ECS_CAPACITY_RETRY = {
  ErrorEquals: ECS_CAPACITY_ERRORS,
  IntervalSeconds: 10,
  MaxAttempts: 6,
  BackoffRate: 2,
  MaxDelaySeconds: 300,
  JitterStrategy: "FULL",
};

/** Fargate's task sizes: CPU units -> the memory (MB) it allows (AWS ECS developer guide, task size). */
export const FARGATE_SIZES: readonly { cpu: number; memory: readonly number[] }[] = [
  { cpu: 256, memory: [512, 1024, 2048] },
  { cpu: 512, memory: range(1024, 4096, 1024) },
  { cpu: 1024, memory: range(2048, 8192, 1024) },
  { cpu: 2048, memory: range(4096, 16384, 1024) },
  { cpu: 4096, memory: range(8192, 30720, 1024) },
  { cpu: 8192, memory: range(16384, 61440, 4096) },
  { cpu: 16384, memory: range(32768, 122880, 8192) },
];

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let value = from; value <= to; value += step) out.push(value);
  return out;
}

export interface FargateSize {
  cpu: number;
  memoryMb: number;
}

/** Every valid pair, smallest first. */
function pairs(): FargateSize[] {
  return FARGATE_SIZES.flatMap(({ cpu, memory }) => memory.map((memoryMb) => ({ cpu, memoryMb })));
}

/** The valid pair closest to the asked one (relative distance in both), preferring the larger. */
export function nearestFargateSize(cpu: number | undefined, memoryMb: number): FargateSize {
  let best: FargateSize = pairs()[0] as FargateSize;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const pair of pairs()) {
    const memoryOff = Math.abs(Math.log2(pair.memoryMb / Math.max(memoryMb, 1)));
    const cpuOff = cpu === undefined ? 0 : Math.abs(Math.log2(pair.cpu / Math.max(cpu, 1)));
    // Too small is worse than too big: a node that ran out of memory fails.
    const short = pair.memoryMb < memoryMb || (cpu !== undefined && pair.cpu < cpu) ? 0.5 : 0;
    const score = memoryOff + cpuOff + short;
    if (score < bestScore) {
      best = pair;
      bestScore = score;
    }
  }
  return best;
}

/**
 * The Fargate size of a task: its memory with its CPU, or the smallest CPU that allows that
 * memory. A pair Fargate does not offer is a user error naming the nearest one it does.
 */
export function fargateSize(
  cpu: number | undefined,
  memoryMb: number,
  who: string,
  from: string,
): FargateSize {
  if (cpu === undefined) {
    const fits = FARGATE_SIZES.find((size) => size.memory.includes(memoryMb));
    if (fits) return { cpu: fits.cpu, memoryMb };
  } else if (FARGATE_SIZES.some((size) => size.cpu === cpu && size.memory.includes(memoryMb))) {
    return { cpu, memoryMb };
  }
  const nearest = nearestFargateSize(cpu, memoryMb);
  const asked = cpu === undefined ? `memory ${memoryMb} MB` : `cpu ${cpu} with memory ${memoryMb} MB`;
  const allowed = FARGATE_SIZES.find((size) => size.cpu === cpu);
  throw new UserError(`${who} runs on ECS Fargate, which has no task size ${asked}.`, {
    hint:
      `Set by ${from}. The nearest Fargate size is cpu ${nearest.cpu} with memory ${nearest.memoryMb}` +
      (allowed
        ? `; cpu ${cpu} allows memory ${allowed.memory[0] as number}-${allowed.memory[allowed.memory.length - 1] as number} MB in steps of ${(allowed.memory[1] ?? 0) - (allowed.memory[0] ?? 0)}.`
        : `; cpu is one of ${FARGATE_SIZES.map((size) => size.cpu).join(", ")}.`),
  });
}

export interface EcsNetwork {
  cluster: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
}

export interface EcsTaskInfo {
  /** Task definition family: the compiled definition names it; plan/apply bind the revision's ARN. */
  family: string;
  nodes: string[];
  cpu: number;
  memoryMb: number;
  timeoutSeconds: number;
  environment: Record<string, string>;
  failStateName: string;
}

/**
 * A Task that runs the nodes as one Fargate task and waits for it (`.sync`). The run id and the
 * parameters reach the container as environment overrides, read the same way the Lambda payload
 * is (python/kedro_sfn/ecs_entry.py); Step Functions stops the task at the timeout.
 */
export function ecsTaskState(
  t: EcsTaskInfo,
  network: EcsNetwork,
  link: { End: true } | { Next: string },
  errorPath: string,
): AslState {
  const environment = [
    ...Object.entries(t.environment).map(([Name, Value]) => ({ Name, Value })),
    { Name: "KEDRO_SFN_NODES", Value: JSON.stringify(t.nodes) },
    { Name: "KEDRO_SFN_RUN_ID", "Value.$": "$.kedro_sfn.run_id" },
    // The whole run context too: a resume's skip list reaches the container as it reaches a Lambda.
    { Name: "KEDRO_SFN_CONTEXT", "Value.$": "States.JsonToString($.kedro_sfn)" },
    { Name: "KEDRO_SFN_PARAMS", "Value.$": "States.JsonToString($.params)" },
  ];
  return {
    Type: "Task",
    Resource: ECS_RUN_TASK,
    Parameters: {
      Cluster: network.cluster,
      LaunchType: "FARGATE",
      TaskDefinition: t.family,
      NetworkConfiguration: {
        AwsvpcConfiguration: {
          Subnets: [...network.subnets],
          SecurityGroups: [...network.securityGroups],
          AssignPublicIp: network.assignPublicIp ? "ENABLED" : "DISABLED",
        },
      },
      Overrides: {
        Cpu: String(t.cpu),
        Memory: String(t.memoryMb),
        ContainerOverrides: [{ Name: ECS_CONTAINER_NAME, Environment: environment }],
      },
    },
    ResultPath: null,
    TimeoutSeconds: t.timeoutSeconds,
    Retry: [{ ...ECS_CAPACITY_RETRY, ErrorEquals: [...ECS_CAPACITY_ERRORS] }],
    Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: errorPath, Next: t.failStateName }],
    ...link,
  };
}
