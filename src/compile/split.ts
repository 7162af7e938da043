import { UserError } from "../errors.js";
import { parallel, series, type SpTree } from "../graph/spTree.js";
import { buildDefinition, type TaskInfo } from "./asl.js";
import {
  HISTORY_EVENTS,
  historyEventsOf,
  sentDefinitionBytes,
  worstFunctionArn,
  type Limits,
} from "./limits.js";
import type { AslDefinition, AslState, ChildMachine } from "./types.js";

/** Step Functions runs a child state machine and waits for it; the output carries the child's. */
export const START_EXECUTION_SYNC = "arn:aws:states:::states:startExecution.sync:2";
/** What a child receives: the run's parameters and run context (shared decision 1). */
export const CHILD_INPUT = { "params.$": "$.params", "kedro_sfn.$": "$.kedro_sfn" } as const;
const MAX_STATE_MACHINE_NAME = 80;
/** Every definition's fixed part (Comment, the two Pass states): generous, re-checked exactly. */
const BASE_BYTES = 2_000;
/** An escaped Parallel state's own keys and name around its branches. */
const PARALLEL_BYTES = 400;

/** `<parent>-part-01`, `<parent>-part-02`, ...: predictable from the parent's name. */
export function childMachineName(parent: string, index: number, count: number): string {
  const width = Math.max(2, String(count).length);
  return `${parent}-part-${String(index + 1).padStart(width, "0")}`;
}

export interface SplitResult {
  /** The parent's SP tree: each leaf is a child machine (its index in `children`). */
  parentTree: SpTree;
  children: { tree: SpTree }[];
}

/**
 * Cuts an SP tree into parts that each fit `budget` as a state machine of its own. A part is a
 * whole subtree, or consecutive steps of a sequence, or some branches of a Parallel, so the
 * parent (the same series/parallel shape over the parts) keeps every dependency and the
 * structure's run time, plus one child start per part on the path. Cuts are made as high in the
 * tree as possible: a part is as big as fits.
 */
export function splitTree(tree: SpTree, tasks: readonly TaskInfo[], budget: Limits): SplitResult {
  const taskBytes = tasks.map(escapedTaskBytes);
  const costs = new Map<SpTree, { bytes: number; events: number }>();
  const cost = (t: SpTree): { bytes: number; events: number } => {
    let c = costs.get(t);
    if (c) return c;
    if (t.kind === "task") c = { bytes: taskBytes[t.task] ?? 0, events: HISTORY_EVENTS.task };
    else {
      c = { bytes: 0, events: 0 };
      for (const child of t.children) {
        const cc = cost(child);
        c.bytes += cc.bytes;
        c.events += cc.events;
      }
      if (t.kind === "parallel") {
        c.bytes += PARALLEL_BYTES;
        c.events += HISTORY_EVENTS.parallel;
      }
    }
    costs.set(t, c);
    return c;
  };
  const fixedEvents = HISTORY_EVENTS.execution + 2 * HISTORY_EVENTS.pass;
  const fits = (bytes: number, events: number): boolean =>
    bytes + BASE_BYTES <= budget.definitionBytes && events + fixedEvents <= budget.historyEvents;

  const children: { tree: SpTree }[] = [];
  const leaf = (t: SpTree): SpTree => {
    children.push({ tree: t });
    return { kind: "task", task: children.length - 1 };
  };
  const cut = (t: SpTree): SpTree => {
    const whole = cost(t);
    if (fits(whole.bytes, whole.events)) return leaf(t);
    if (t.kind === "task") {
      const info = tasks[t.task] as TaskInfo;
      throw new UserError(`Task '${info.stateName}' alone is too large for a state machine.`, {
        hint: "Give it fewer nodes (group-by) or shorter node names.",
      });
    }
    // Greedy: consecutive steps (or branches) while they fit; a step too big alone is cut further.
    const parts: SpTree[] = [];
    let group: SpTree[] = [];
    let bytes = t.kind === "parallel" ? PARALLEL_BYTES : 0;
    let events = t.kind === "parallel" ? HISTORY_EVENTS.parallel : 0;
    const flush = (): void => {
      if (group.length > 0) parts.push(leaf(t.kind === "series" ? series(group) : parallel(group)));
      group = [];
      bytes = t.kind === "parallel" ? PARALLEL_BYTES : 0;
      events = t.kind === "parallel" ? HISTORY_EVENTS.parallel : 0;
    };
    for (const child of t.children) {
      const c = cost(child);
      if (!fits(c.bytes + (t.kind === "parallel" ? PARALLEL_BYTES : 0), c.events)) {
        flush();
        parts.push(cut(child));
        continue;
      }
      if (!fits(bytes + c.bytes, events + c.events)) flush();
      group.push(child);
      bytes += c.bytes;
      events += c.events;
    }
    flush();
    return t.kind === "series" ? series(parts) : parallel(parts);
  };
  const parentTree = cut(tree);
  return { parentTree, children };
}

/**
 * Builds the children's definitions and the parent's, whose Tasks start each child
 * (`startExecution.sync:2`, by name here; deploy binds each to the child's published version)
 * and end the run with the child's failure. Each part is re-measured exactly; a part the
 * estimate let through too big is cut again with a smaller budget.
 */
export function splitDefinition(
  tree: SpTree,
  tasks: readonly TaskInfo[],
  options: { parentName: string; comment: string; budget: Limits },
): { definition: AslDefinition; children: ChildMachine[]; parentEvents: number } {
  let budget = options.budget;
  for (let attempt = 0; attempt < 6; attempt++) {
    const split = splitTree(tree, tasks, budget);
    const names = split.children.map((_, i) =>
      childMachineName(options.parentName, i, split.children.length),
    );
    const tooLong = names.find((n) => n.length > MAX_STATE_MACHINE_NAME);
    if (tooLong !== undefined) {
      throw new UserError(
        `The pipeline is split into ${names.length} state machines named like '${tooLong}', longer than Step Functions' ${MAX_STATE_MACHINE_NAME} characters.`,
        {
          hint: `Use a state machine name of at most ${MAX_STATE_MACHINE_NAME - tooLong.length + options.parentName.length} characters.`,
        },
      );
    }
    const children: ChildMachine[] = split.children.map((child, i) => {
      const name = names[i] as string;
      const built = buildDefinition(
        child.tree,
        tasks,
        `${options.comment}: part ${i + 1} of ${names.length}`,
      );
      return {
        name,
        definition: built.definition,
        functionNames: taskIndices(child.tree).map((t) => (tasks[t] as TaskInfo).functionName),
        definitionBytes: sentDefinitionBytes(built.definition),
        expectedHistoryEvents: historyEventsOf(built.counts),
      };
    });
    const over = children.filter(
      (c) => c.definitionBytes > budget.definitionBytes || c.expectedHistoryEvents > budget.historyEvents,
    );
    if (over.length === 0) {
      const parentTasks: TaskInfo[] = children.map((c) => ({
        stateName: `Run ${c.name}`,
        failStateName: `Run ${c.name} failed`,
        functionName: c.name,
        nodes: [],
        timeoutSeconds: 0,
      }));
      const built = buildDefinition(
        split.parentTree,
        parentTasks,
        `${options.comment}: runs ${children.length} state machines`,
      );
      toChildStarts(built.definition.States, new Map(children.map((c) => [c.name, c])));
      return {
        definition: built.definition,
        children,
        parentEvents: historyEventsOf({ ...built.counts, tasks: 0, syncTasks: built.counts.tasks }),
      };
    }
    budget = {
      definitionBytes: Math.floor(budget.definitionBytes * 0.85),
      historyEvents: Math.floor(budget.historyEvents * 0.85),
    };
  }
  throw new Error("Could not split the pipeline into state machines within Step Functions' limits.");
}

/** Turns the parent's placeholder Lambda Tasks into child starts (same names, links and Catch). */
function toChildStarts(states: Record<string, AslState>, children: ReadonlyMap<string, ChildMachine>): void {
  for (const [name, state] of Object.entries(states)) {
    const params = state.Parameters as { FunctionName?: unknown } | undefined;
    if (
      state.Type === "Task" &&
      typeof params?.FunctionName === "string" &&
      children.has(params.FunctionName)
    ) {
      const child = params.FunctionName;
      state.Resource = START_EXECUTION_SYNC;
      state.Parameters = { StateMachineArn: child, Input: { ...CHILD_INPUT }, "Name.$": "States.UUID()" };
      delete state.TimeoutSeconds;
      delete state.Retry;
      state.Comment = `Runs ${child} and waits for it`;
      const fail = states[`${name} failed`];
      if (fail) fail.Comment = `Part ${child} failed: the cause holds the child execution`;
    }
    for (const branch of (state.Branches as { States: Record<string, AslState> }[] | undefined) ?? [])
      toChildStarts(branch.States, children);
  }
}

/** A Task state and its Fail state as sent (worst-case ARN, escaped), for the estimate. */
function escapedTaskBytes(t: TaskInfo): number {
  const nodes = JSON.stringify(JSON.stringify(t.nodes)).length;
  return (
    900 +
    2 * (t.stateName.length + t.failStateName.length) +
    worstFunctionArn(t.functionName).length +
    2 * t.functionName.length +
    2 * nodes
  );
}

function taskIndices(tree: SpTree, out: number[] = []): number[] {
  if (tree.kind === "task") out.push(tree.task);
  else for (const c of tree.children) taskIndices(c, out);
  return out;
}
