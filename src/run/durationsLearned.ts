/**
 * Durations learned from past executions, and whether they are worth a new
 * structure. Pure: the AWS reads are in src/aws/learnedDurations.ts.
 */
import { compilePipeline, type CompileOptions } from "../compile/index.js";
import { lambdaTasksOf } from "../compile/lambdaTasks.js";
import type { AslDefinition, AslState, CompiledPipeline } from "../compile/types.js";
import type { PipelineGraph } from "../graph/types.js";
import type { TaskRun } from "./types.js";

/** A new structure must predict at least this much less run time, or the current one stays (no flapping). */
export const MIN_STRUCTURE_GAIN = 0.05;

/**
 * Seconds per node: the median over the executions of each node's time. A
 * Task running one node gives its time (Task state entered to succeeded); a
 * Task running several (group-by) gives each node the time the handler
 * reported for it, else an equal share of the Task's time, so a group's nodes
 * add up to the Task again when the compiler sums them.
 */
export function learnedDurationsOf(executions: readonly (readonly TaskRun[])[]): Record<string, number> {
  const samples = new Map<string, number[]>();
  for (const runs of executions) {
    for (const run of runs) {
      // A retried Task's time holds its failed attempts and back-off: not the node's.
      if (run.status !== "succeeded" || run.startMs === null || run.endMs === null) continue;
      const taskSeconds = Math.max(0, run.endMs - run.startMs) / 1000;
      for (const node of run.nodes) {
        const own = run.nodes.length > 1 ? run.nodeSeconds?.[node] : undefined;
        const seconds = own ?? taskSeconds / run.nodes.length;
        let list = samples.get(node);
        if (!list) samples.set(node, (list = []));
        list.push(seconds);
      }
    }
  }
  const durations: Record<string, number> = {};
  for (const node of [...samples.keys()].sort()) {
    const values = (samples.get(node) as number[]).sort((a, b) => a - b);
    const median =
      ((values[(values.length - 1) >> 1] as number) + (values[values.length >> 1] as number)) / 2;
    // Milliseconds: the history's resolution; rounding keeps equal histories giving equal structures.
    durations[node] = Math.round(median * 1000) / 1000;
  }
  return durations;
}

export interface StructureChoice {
  compiled: CompiledPipeline;
  /** Whether the learned durations chose the structure. */
  learned: boolean;
  /** One line for the plan: what happened and why. */
  note: string;
}

/**
 * Compiles with the learned durations (the explicit ones win per node) and
 * takes that structure only when, under those durations, it is predicted at
 * least MIN_STRUCTURE_GAIN faster than the incumbent: the deployed structure
 * when it still fits the pipeline (read back from `deployed`), else
 * `baseline`, the compile without learned durations. Otherwise the incumbent
 * stays, so durations that drift a little never redeploy another structure.
 * Deterministic: the same histories, inputs and deployed definition choose the same.
 */
export function chooseStructure(
  graph: PipelineGraph,
  options: CompileOptions,
  baseline: CompiledPipeline,
  learned: { durations: Record<string, number>; executions: number },
  deployed?: AslDefinition,
): StructureChoice {
  const known = graph.nodes.filter((n) => Object.hasOwn(learned.durations, n.name)).length;
  if (learned.executions === 0 || known === 0) {
    return {
      compiled: baseline,
      learned: false,
      note:
        learned.executions === 0
          ? "Structure not re-chosen: the state machine has no successful execution to learn durations from."
          : "Structure not re-chosen: the past executions ran none of this pipeline's nodes.",
    };
  }
  const merged = { ...learned.durations, ...(options.durations ?? {}) };
  const candidate = compilePipeline(graph, { ...options, durations: merged });
  let incumbent = baseline;
  let what = "the structure compiled without them";
  if (deployed !== undefined) {
    const kept = compilePipeline(graph, { ...options, durations: merged, keepStructure: deployed });
    if (kept.report?.strategy === "deployed") {
      incumbent = kept;
      what = "the deployed structure";
    }
  }
  const from = `learned durations of ${learned.executions} execution(s)`;
  if (JSON.stringify(candidate.definition) === JSON.stringify(incumbent.definition)) {
    return { compiled: incumbent, learned: false, note: `Structure kept: the ${from} choose ${what} again.` };
  }
  const seconds = taskSecondsOf(candidate, merged);
  const before = predictedSeconds(incumbent.definition, seconds, childrenOf(incumbent));
  const after = predictedSeconds(candidate.definition, seconds, childrenOf(candidate));
  const gain = before > 0 ? 1 - after / before : 0;
  const figures = `predicted ${formatSeconds(before)} -> ${formatSeconds(after)}`;
  if (gain >= MIN_STRUCTURE_GAIN) {
    return {
      compiled: candidate,
      learned: true,
      note: `Structure re-chosen from ${from}: predicted −${percent(gain)} against ${what} (${figures}).`,
    };
  }
  return {
    compiled: incumbent,
    learned: false,
    note: `Structure kept (${what}): a new one from the ${from} predicts only ${gain > 0 ? "−" : "+"}${percent(Math.abs(gain))} (${figures}; it needs −${percent(MIN_STRUCTURE_GAIN)}).`,
  };
}

/**
 * Seconds per Task state name: the sum of its nodes' durations (the median of the others when
 * unknown). By state, not function: a shared function serves several Tasks.
 */
function taskSecondsOf(compiled: CompiledPipeline, durations: Record<string, number>): Map<string, number> {
  const values = Object.values(durations).sort((a, b) => a - b);
  const median = values.length === 0 ? 1 : (values[values.length >> 1] as number);
  return new Map(
    lambdaTasksOf(compiled).map((f) => [
      f.stateName,
      f.nodes.reduce((sum, n) => sum + (Object.hasOwn(durations, n) ? (durations[n] as number) : median), 0),
    ]),
  );
}

/**
 * The run time a definition predicts with unlimited parallelism: Tasks take
 * their function's seconds, a Parallel its longest branch, states in a chain
 * add up (Catch targets are failure paths, not followed).
 */
export function predictedSeconds(
  definition: AslDefinition,
  seconds: ReadonlyMap<string, number>,
  /** A split pipeline's children by name (as compiled): a child start takes its child's time. */
  children: ReadonlyMap<string, AslDefinition> = new Map(),
): number {
  const machine = (m: { StartAt: string; States: Record<string, AslState> }): number => {
    let total = 0;
    let name: string | undefined = m.StartAt;
    const seen = new Set<string>();
    while (name !== undefined && !seen.has(name)) {
      seen.add(name);
      const state: AslState | undefined = m.States[name];
      if (state === undefined) break;
      if (state.Type === "Task") {
        const parameters = state["Parameters"] as Record<string, unknown> | undefined;
        const fn = parameters?.["FunctionName"];
        const child = parameters?.["StateMachineArn"];
        const started = typeof child === "string" ? children.get(child) : undefined;
        // A child start takes its child's time; a Lambda Task its own, keyed by Task state name
        // (taskSecondsOf), or by function name when each Task has its own.
        total += started
          ? machine(started)
          : (seconds.get(name) ?? (typeof fn === "string" ? (seconds.get(fn) ?? 0) : 0));
      } else if (state.Type === "Parallel") {
        const branches = (state["Branches"] ?? []) as { StartAt: string; States: Record<string, AslState> }[];
        total += Math.max(0, ...branches.map(machine));
      }
      name = typeof state["Next"] === "string" ? state["Next"] : undefined;
    }
    return total;
  };
  return machine(definition);
}

function childrenOf(compiled: CompiledPipeline): Map<string, AslDefinition> {
  return new Map((compiled.children ?? []).map((child) => [child.name, child.definition]));
}

function percent(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function formatSeconds(s: number): string {
  return s >= 100 ? `${Math.round(s)} s` : `${s.toFixed(1)} s`;
}
