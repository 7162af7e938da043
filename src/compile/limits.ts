import type { AslDefinition, AslState } from "./types.js";

/** Step Functions' limits, checked before anything is deployed. */
export const STEP_FUNCTIONS_LIMITS = { definitionBytes: 1024 * 1024, historyEvents: 25_000 } as const;

/**
 * What one state machine may use before the compiler splits the pipeline: the limits less a
 * margin, for retries (each Lambda retry writes 3 more events) and for what the
 * worst-case ARNs below may still miss.
 */
export const SPLIT_BUDGET = {
  definitionBytes: Math.floor(STEP_FUNCTIONS_LIMITS.definitionBytes * 0.9),
  historyEvents: Math.floor(STEP_FUNCTIONS_LIMITS.historyEvents * 0.8),
} as const;

export type Limits = { definitionBytes: number; historyEvents: number };

/**
 * History events per state kind on a successful Standard execution, as Step Functions writes them:
 * ExecutionStarted + ExecutionSucceeded; PassStateEntered + PassStateExited; a Lambda Task:
 * TaskStateEntered, TaskScheduled, TaskStarted, TaskSucceeded, TaskStateExited; a `.sync` Task
 * adds TaskSubmitted; a Parallel: ParallelStateEntered, ParallelStateStarted,
 * ParallelStateSucceeded, ParallelStateExited.
 */
export const HISTORY_EVENTS = { execution: 2, pass: 2, task: 5, syncTask: 6, parallel: 4 } as const;

export interface StateCounts {
  tasks: number;
  parallels: number;
  passes: number;
  /** Tasks that start a child state machine and wait for it (`startExecution.sync:2`). */
  syncTasks?: number;
}

/** History events of one successful execution of a definition with these states. */
export function historyEventsOf(counts: StateCounts): number {
  return (
    HISTORY_EVENTS.execution +
    HISTORY_EVENTS.pass * counts.passes +
    HISTORY_EVENTS.task * counts.tasks +
    HISTORY_EVENTS.syncTask * (counts.syncTasks ?? 0) +
    HISTORY_EVENTS.parallel * counts.parallels
  );
}

/**
 * The longest function version ARN a deploy can bind for `name`: the longest partition and region
 * Step Functions runs in, a 12-digit account and a 10-digit version. What is sent is never longer.
 */
export function worstFunctionArn(name: string): string {
  return `arn:aws-us-gov:lambda:ap-southeast-5:123456789012:function:${name}:4294967295`;
}

/** The longest state machine version ARN a deploy can bind for a child named `name`. */
export function worstStateMachineArn(name: string): string {
  return `arn:aws-us-gov:states:ap-southeast-5:123456789012:stateMachine:${name}:4294967295`;
}

/** What bind appends to each Lambda Task's Comment (src/plan/bind.ts): the same length. */
const SPEC_COMMENT = " kedro-sfn spec 0123456789abcdef";

/**
 * Bytes of the definition as it goes over the wire: every Lambda Task bound to its longest
 * version ARN (with the spec-hash comment bind adds), every child state machine to its longest
 * version ARN, then the definition serialised to a string and that string escaped inside the
 * request's JSON body (quotes and backslashes doubled), which is what Step Functions measures.
 */
export function sentDefinitionBytes(definition: AslDefinition): number {
  const bound = structuredClone(definition);
  visitTasks(bound.States, (state) => {
    const params = state.Parameters as Record<string, unknown> | undefined;
    if (!params) return;
    if (typeof params.FunctionName === "string") {
      params.FunctionName = worstFunctionArn(params.FunctionName);
      state.Comment = `${typeof state.Comment === "string" ? state.Comment : ""}${SPEC_COMMENT}`;
    }
    if (typeof params.StateMachineArn === "string")
      params.StateMachineArn = worstStateMachineArn(params.StateMachineArn);
  });
  return Buffer.byteLength(JSON.stringify(JSON.stringify(bound)));
}

function visitTasks(states: Record<string, AslState>, visit: (state: AslState) => void): void {
  for (const state of Object.values(states)) {
    if (state.Type === "Task") visit(state);
    for (const branch of (state.Branches as { States: Record<string, AslState> }[] | undefined) ?? [])
      visitTasks(branch.States, visit);
  }
}
