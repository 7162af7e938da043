import type { SpTree } from "../graph/spTree.js";
import { ECS_TASK_FAILED, ecsTaskState, type EcsNetwork } from "./ecs.js";
import { MAX_STATE_NAME, StateNames } from "./names.js";
import type { AslDefinition, AslState } from "./types.js";

export const LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke";
/** Lambda's own transient failures, worth retrying; the node's errors are not. */
export const TRANSIENT_LAMBDA_ERRORS = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
];
export const TRANSIENT_RETRY = {
  ErrorEquals: TRANSIENT_LAMBDA_ERRORS,
  IntervalSeconds: 2,
  MaxAttempts: 6,
  BackoffRate: 2,
  MaxDelaySeconds: 60,
  JitterStrategy: "FULL",
};
/** The Task waits this much longer than the function may run, so Lambda's own timeout error is what surfaces. */
export const TASK_TIMEOUT_MARGIN_SECONDS = 60;
/**
 * The run context every runner reads (`$.kedro_sfn`): the run id (the save version and the run
 * store's folder) and the nodes to skip. The Prepare Pass gives it these defaults; a resume
 * starts an execution whose input carries its own (the first run's id, the nodes that
 * succeeded there, the execution it resumes).
 */
export const RUN_CONTEXT = "kedro_sfn";
export const RUN_CONTEXT_DEFAULTS = { "run_id.$": "$$.Execution.Name", skip: [] as string[] };
/** Where a caught error lands in the state, for the Fail state to report. */
const ERROR_PATH = "$.error";

export interface TaskInfo {
  stateName: string;
  failStateName: string;
  functionName: string;
  nodes: string[];
  timeoutSeconds: number;
  /** Set: the task runs on ECS Fargate (src/compile/ecs.ts), not Lambda. */
  ecs?: {
    family: string;
    cpu: number;
    memoryMb: number;
    environment: Record<string, string>;
    network: EcsNetwork;
  };
}

export { HISTORY_EVENTS } from "./limits.js";

export interface BuiltDefinition {
  definition: AslDefinition;
  counts: { tasks: number; parallels: number; passes: number };
}

/**
 * The state machine for an SP tree of tasks: two Pass states that give the
 * input a `params` object when it has none, then the tree as nested Parallel
 * states and sequences of Tasks. Each Task catches any error into its own Fail
 * state (beside it, since a Catch cannot leave its Parallel branch), which ends
 * the execution with the node's error and cause; the Fail state's name says
 * which task failed.
 */
export function buildDefinition(tree: SpTree, tasks: readonly TaskInfo[], comment: string): BuiltDefinition {
  const names = new StateNames(tasks.flatMap((t) => [t.stateName, t.failStateName]));
  const counts = { tasks: 0, parallels: 0, passes: 2 };

  const chain = (node: SpTree): { StartAt: string; States: Record<string, AslState> } => {
    const steps = node.kind === "series" ? node.children : [node];
    const states: Record<string, AslState> = {};
    const stepNames = steps.map((step) => {
      if (step.kind === "task") return (tasks[step.task] as TaskInfo).stateName;
      const identity = tasksIn(step)
        .map((t) => (tasks[t] as TaskInfo).stateName)
        .join("\n");
      return names.allocate(
        parallelName(step.children.map((c) => (tasks[firstTask(c)] as TaskInfo).stateName)),
        identity,
      );
    });
    steps.forEach((step, i) => {
      const next = stepNames[i + 1];
      const link: Link = next === undefined ? { End: true } : { Next: next };
      const name = stepNames[i] as string;
      if (step.kind === "task") {
        const t = tasks[step.task] as TaskInfo;
        counts.tasks++;
        states[name] = t.ecs
          ? ecsTaskState(
              { ...t.ecs, nodes: t.nodes, timeoutSeconds: t.timeoutSeconds, failStateName: t.failStateName },
              t.ecs.network,
              link,
              ERROR_PATH,
            )
          : taskState(t, link);
        states[t.failStateName] = failState(t);
      } else {
        counts.parallels++;
        states[name] = { Type: "Parallel", Branches: step.children.map(chain), ResultPath: null, ...link };
      }
    });
    return { StartAt: stepNames[0] as string, States: states };
  };

  const body = chain(tree);
  const prepare = names.allocate("Prepare input", "kedro-sfn:prepare-input");
  const defaults = names.allocate("Apply parameter defaults", "kedro-sfn:apply-defaults");
  const definition: AslDefinition = {
    Comment: comment,
    StartAt: prepare,
    States: {
      [prepare]: {
        Type: "Pass",
        Parameters: { defaults: { params: {}, [RUN_CONTEXT]: RUN_CONTEXT_DEFAULTS }, "input.$": "$" },
        Next: defaults,
      },
      // Execution input without `params` gets an empty one, so `$.params` always resolves; without
      // `kedro_sfn` (every run but a resume, src/run/resume.ts) the run id is the execution's name.
      [defaults]: {
        Type: "Pass",
        Parameters: { "merged.$": "States.JsonMerge($.defaults, $.input, false)" },
        OutputPath: "$.merged",
        Next: body.StartAt,
      },
      ...body.States,
    },
  };
  return { definition, counts };
}

type Link = { End: true } | { Next: string };

function taskState(t: TaskInfo, link: Link): AslState {
  return {
    Type: "Task",
    Resource: LAMBDA_INVOKE,
    Parameters: {
      FunctionName: t.functionName,
      // The whole run context, not run_id and skip apart: one short path per Task keeps the definition small.
      Payload: { nodes: [...t.nodes], [`${RUN_CONTEXT}.$`]: `$.${RUN_CONTEXT}`, "params.$": "$.params" },
    },
    ResultPath: null,
    TimeoutSeconds: t.timeoutSeconds + TASK_TIMEOUT_MARGIN_SECONDS,
    Retry: [{ ...TRANSIENT_RETRY, ErrorEquals: [...TRANSIENT_LAMBDA_ERRORS] }],
    Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: ERROR_PATH, Next: t.failStateName }],
    ...link,
  };
}

function failState(t: TaskInfo): AslState {
  const nodes = t.nodes.length === 1 ? `node ${t.nodes[0] as string}` : `nodes ${t.nodes.join(", ")}`;
  if (t.ecs) {
    // A failed ECS task is States.TaskFailed with the task as the cause: a name of our own says
    // which runner failed (and moto's Fail state refuses error names starting "States.").
    return {
      Type: "Fail",
      Comment: `Kedro ${nodes} failed (ECS task ${t.functionName})`,
      Error: ECS_TASK_FAILED,
      CausePath: `${ERROR_PATH}.Cause`,
    };
  }
  return {
    Type: "Fail",
    Comment: `Kedro ${nodes} failed (function ${t.functionName})`,
    ErrorPath: `${ERROR_PATH}.Error`,
    CausePath: `${ERROR_PATH}.Cause`,
  };
}

/** "Parallel: a, b" after the first task of each branch, without namespaces; shortened as needed. */
function parallelName(heads: string[]): string {
  const short = heads.map((h) => h.slice(h.lastIndexOf(".") + 1) || h);
  const full = `Parallel: ${short.join(", ")}`;
  if (full.length <= MAX_STATE_NAME) return full;
  return `Parallel: ${short[0] ?? ""} and ${short.length - 1} more`;
}

function firstTask(tree: SpTree): number {
  return tree.kind === "task" ? tree.task : firstTask(tree.children[0] as SpTree);
}

function tasksIn(tree: SpTree, out: number[] = []): number[] {
  if (tree.kind === "task") out.push(tree.task);
  else for (const c of tree.children) tasksIn(c, out);
  return out;
}
