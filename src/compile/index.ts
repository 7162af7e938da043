import { UserError } from "../errors.js";
import { groupNodes, type GroupBy } from "../graph/grouping.js";
import type { GraphNode, PipelineGraph } from "../graph/types.js";
import { buildDefinition, HISTORY_EVENTS, type TaskInfo } from "./asl.js";
import {
  historyEventsOf,
  sentDefinitionBytes,
  SPLIT_BUDGET,
  STEP_FUNCTIONS_LIMITS,
  type Limits,
} from "./limits.js";
import { splitDefinition } from "./split.js";
import { durationsFor } from "./durations.js";
import { fargateSize, taskDefinitionFamily, type EcsNetwork } from "./ecs.js";
import type { FunctionOverride, FunctionSettings } from "./functionConfig.js";
import { resolveFunctionSettings } from "./functions.js";
import { functionNames, functionPrefixOf, MAX_STATE_NAME, taskStateNames } from "./names.js";
import { sharedFunctionName, type FunctionSharing } from "./sharing.js";
import { treeFromDefinition } from "./keepStructure.js";
import { givenStructure, planStructure, type Structure } from "./structure.js";
import type {
  AslDefinition,
  AslState,
  ChildMachine,
  CompiledPipeline,
  CompileReport,
  EcsTaskSpec,
  FunctionSpec,
} from "./types.js";
import { logName } from "../report/escape.js";
export { stableStringify } from "../canonicalJson.js";

export { parseDurations } from "./durations.js";
export { parseFunctionOverrides } from "./functionConfig.js";
export type { FunctionOverride, FunctionSettings } from "./functionConfig.js";
export { LAMBDA_LIMITS } from "./functions.js";
export type { EcsNetwork } from "./ecs.js";
export type { GroupBy } from "../graph/grouping.js";
export type { Structure } from "./structure.js";
export { lambdaTasksOf } from "./lambdaTasks.js";
export { FUNCTION_SHARINGS, parseFunctionSharing, type FunctionSharing } from "./sharing.js";

export { SPLIT_BUDGET, STEP_FUNCTIONS_LIMITS } from "./limits.js";

export interface CompileOptions {
  stateMachineName: string;
  /** Start of every Lambda function name (default: the state machine name). */
  functionPrefix?: string;
  /** Empty: one task (Lambda function) per node. */
  groupBy: GroupBy[];
  structure: Structure;
  /** Seconds per node name, e.g. from past executions. */
  durations?: Record<string, number>;
  functionDefaults: FunctionSettings;
  /** From `conf/<env>/sfn.yml` and/or action inputs, in that order. */
  overrides?: FunctionOverride[];
  /**
   * What one state machine may hold before the pipeline is split into a parent and child state
   * machines (default SPLIT_BUDGET: Step Functions' limits less a margin). "never": refuse instead.
   */
  split?: Limits | "never";
  /** Cluster and network of the tasks routed to ECS (`runner: ecs`); checked by the inputs stage. */
  ecs?: EcsNetwork;
  /**
   * A deployed definition whose structure to keep when it runs exactly this
   * compile's tasks in an order the pipeline allows (else the structure is chosen as usual).
   */
  keepStructure?: AslDefinition;
  /**
   * "by-settings": Lambda Tasks whose functions would be configured alike share one function
   * (src/compile/sharing.ts). Absent or "per-node": one function per Task, as always.
   */
  functionSharing?: FunctionSharing;
}

const NO_ECS_NETWORK: EcsNetwork = { cluster: "", subnets: [], securityGroups: [], assignPublicIp: false };

/** A task's Fail state is named after its Task state plus this. */
export const FAIL_SUFFIX = " failed";

/** The Fail state that ends an execution when this function's task fails. */
export function failStateNameOf(spec: Pick<FunctionSpec, "stateName">): string {
  return `${spec.stateName}${FAIL_SUFFIX}`;
}

/**
 * Compiles a pipeline graph to a Step Functions definition and one Lambda
 * function spec per task. Pure: the same graph and options give the same
 * result, and `stableStringify(definition)` is byte-identical.
 */
export function compilePipeline(
  graph: PipelineGraph,
  options: CompileOptions,
): CompiledPipeline & { report: CompileReport } {
  const warnings: string[] = [];
  const prefix =
    options.functionPrefix === undefined || options.functionPrefix === ""
      ? functionPrefixOf(options.stateMachineName, "state machine name (the default function prefix)")
      : functionPrefixOf(options.functionPrefix);
  const grouping = groupNodes(graph, options.groupBy);
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));

  const identities = grouping.groups.map((g) => g.nodes.join("\n"));
  const fnNames = functionNames(
    prefix,
    grouping.groups.map((g, i) => ({ label: g.label, identity: identities[i] as string })),
  );
  const stateNames = taskStateNames(
    grouping.groups.map((g, i) => ({ label: g.label, identity: identities[i] as string })),
    MAX_STATE_NAME - FAIL_SUFFIX.length,
  );

  const { settings, warnings: overrideWarnings } = resolveFunctionSettings(
    grouping.groups.map((g, i) => ({
      nodes: g.nodes.map((n) => byName.get(n) as GraphNode),
      functionName: fnNames[i] as string,
    })),
    options.functionDefaults,
    options.overrides ?? [],
  );
  warnings.push(...overrideWarnings);

  let durations: Float64Array | undefined;
  if (options.durations !== undefined) {
    const names = graph.nodes.map((n) => n.name);
    const matched = names.filter((n) => Object.hasOwn(options.durations as object, n)).length;
    const { seconds, warnings: durationWarnings } = durationsFor(names, options.durations);
    warnings.push(...durationWarnings);
    if (matched === 0) {
      warnings.push(
        "No duration hint names a node of this pipeline; compiling as if no durations were given.",
      );
    } else {
      durations = Float64Array.from(grouping.groups, (g) =>
        g.nodes.reduce((sum, n) => sum + (seconds.get(n) ?? 0), 0),
      );
    }
  }
  const sharing = options.functionSharing === "by-settings";
  // Shared Tasks name one function, so a deployed structure is recognised by its Task states.
  const kept =
    options.keepStructure &&
    treeFromDefinition(options.keepStructure, sharing ? stateNames : fnNames, grouping.dag, sharing);
  const taskFunctionNames = grouping.groups.map((_g, i) => {
    const s = settings[i] as FunctionSettings;
    return sharing && s.runner !== "ecs" ? sharedFunctionName(prefix, s) : (fnNames[i] as string);
  });
  const plan = kept
    ? givenStructure(kept, grouping.dag, durations)
    : planStructure(
        grouping.dag,
        durations === undefined
          ? { structure: options.structure }
          : { structure: options.structure, durations },
      );

  const tasks: TaskInfo[] = grouping.groups.map((g, i) => {
    const s = settings[i] as FunctionSettings;
    const task: TaskInfo = {
      stateName: stateNames[i] as string,
      failStateName: `${stateNames[i] as string}${FAIL_SUFFIX}`,
      functionName: taskFunctionNames[i] as string,
      nodes: g.nodes,
      timeoutSeconds: s.timeoutSeconds,
    };
    if (s.runner !== "ecs") return task;
    // A group takes its nodes' largest CPU and memory: that pair must be a Fargate size too.
    const size = fargateSize(
      s.cpu,
      s.memoryMb,
      `Task ${task.functionName} (nodes ${g.nodes.join(", ")})`,
      "its nodes' largest cpu and memory",
    );
    return {
      ...task,
      ecs: {
        family: taskDefinitionFamily(prefix),
        ...size,
        environment: sortedRecord(s.environment),
        network: options.ecs ?? NO_ECS_NETWORK,
      },
    };
  });
  const project = graph.project?.name ?? "Kedro project";
  const comment = `${project} pipeline '${graph.pipeline ?? "__default__"}' (${graph.nodes.length} nodes in ${tasks.length} tasks), compiled by kedro-sfn`;
  const built = buildDefinition(plan.tree, tasks, comment);
  let definition = built.definition;
  let children: ChildMachine[] | undefined;
  // Measured as sent (bound to version ARNs, escaped in the request), before any AWS write.
  let definitionBytes = sentDefinitionBytes(definition);
  let expectedHistoryEvents = historyEventsOf(built.counts);
  const budget = options.split ?? SPLIT_BUDGET;
  if (
    budget !== "never" &&
    (definitionBytes > budget.definitionBytes || expectedHistoryEvents > budget.historyEvents)
  ) {
    const split = splitDefinition(plan.tree, tasks, {
      parentName: options.stateMachineName,
      comment,
      budget,
    });
    definition = split.definition;
    children = split.children;
    definitionBytes = sentDefinitionBytes(definition);
    expectedHistoryEvents = split.parentEvents;
    warnings.push(
      `The pipeline is too big for one state machine (${built.counts.tasks} tasks): it runs as ${options.stateMachineName} starting ${children.length} child state machines (${children[0]?.name} ...).`,
    );
  }
  const problems = limitProblems(definitionBytes, expectedHistoryEvents, built.counts);
  if (problems.length > 0) {
    throw new UserError(problems.join("\n"), {
      hint:
        budget === "never"
          ? "Group nodes (group-by: namespace or memory) to have fewer tasks, or let the pipeline split into several state machines."
          : "Group nodes (group-by: namespace or memory) to have fewer tasks, or split the pipeline into several state machines.",
    });
  }

  const ecsTasks: EcsTaskSpec[] = tasks
    .flatMap((t) => {
      const { ecs } = t;
      if (!ecs) return [];
      const { architecture } = settings[tasks.indexOf(t)] as FunctionSettings;
      return [
        {
          family: ecs.family,
          taskName: t.functionName,
          stateName: t.stateName,
          nodes: [...t.nodes],
          cpu: ecs.cpu,
          memoryMb: ecs.memoryMb,
          timeoutSeconds: t.timeoutSeconds,
          architecture,
          environment: ecs.environment,
        },
      ];
    })
    .sort((a, b) => (a.taskName < b.taskName ? -1 : a.taskName > b.taskName ? 1 : 0));
  const functions: FunctionSpec[] = mergeSharedFunctions(
    tasks
      .map((t, i) => ({
        functionName: t.functionName,
        stateName: t.stateName,
        nodes: [...t.nodes],
        ...(settings[i] as FunctionSettings),
      }))
      .filter((f) => f.runner !== "ecs")
      .map(({ runner: _runner, cpu: _cpu, ...f }) => ({ ...f, environment: sortedRecord(f.environment) })),
  ).sort((a, b) => (a.functionName < b.functionName ? -1 : a.functionName > b.functionName ? 1 : 0));
  const lambdaTasks = sharing
    ? tasks
        .filter((t) => !t.ecs)
        .map((t) => ({ stateName: t.stateName, functionName: t.functionName, nodes: [...t.nodes] }))
    : undefined;
  const merges = grouping.merges.map((m) => ({
    functionName: taskFunctionNames[m.task] as string,
    nodes: [...(grouping.groups[m.task]?.nodes ?? [])],
    reason: m.reason,
  }));
  // The reason quotes namespaces, which may hold line breaks: kept on the warning's line.
  for (const m of merges) warnings.push(`Merged into one task (${m.functionName}): ${logName(m.reason)}.`);

  return {
    definition,
    functions,
    warnings,
    merges,
    ...(ecsTasks.length > 0 ? { ecsTasks } : {}),
    ...(lambdaTasks ? { tasks: lambdaTasks } : {}),
    report: { strategy: plan.strategy, estimate: plan.estimate, definitionBytes, expectedHistoryEvents },
    ...(children ? { children } : {}),
  };
}

function limitProblems(
  definitionBytes: number,
  expectedHistoryEvents: number,
  counts: { tasks: number; parallels: number; passes: number },
): string[] {
  const problems: string[] = [];
  if (definitionBytes > STEP_FUNCTIONS_LIMITS.definitionBytes) {
    problems.push(
      `The state machine definition would be ${definitionBytes} bytes as sent (bound to function versions, escaped in the request); Step Functions accepts at most ${STEP_FUNCTIONS_LIMITS.definitionBytes} (1 MB). It has ${counts.tasks} tasks and ${counts.parallels} Parallel states.`,
    );
  }
  if (expectedHistoryEvents > STEP_FUNCTIONS_LIMITS.historyEvents) {
    problems.push(
      `A run would write about ${expectedHistoryEvents} history events (${counts.tasks} tasks x ${HISTORY_EVENTS.task}, ${counts.parallels} Parallel states x ${HISTORY_EVENTS.parallel}, plus ${HISTORY_EVENTS.execution + HISTORY_EVENTS.pass * counts.passes}); a Standard execution stops at ${STEP_FUNCTIONS_LIMITS.historyEvents}.`,
    );
  }
  return problems;
}

/**
 * One spec per function: Tasks sharing a function (equal settings by construction) become one
 * spec that runs all their nodes, named after its first Task. Per-node specs pass through.
 */
function mergeSharedFunctions(specs: FunctionSpec[]): FunctionSpec[] {
  const byName = new Map<string, FunctionSpec>();
  for (const spec of specs) {
    const earlier = byName.get(spec.functionName);
    if (earlier) earlier.nodes.push(...spec.nodes);
    else byName.set(spec.functionName, spec);
  }
  return [...byName.values()];
}

/** Node name -> the function (task) that runs it. */
export function taskOfNode(compiled: Pick<CompiledPipeline, "functions">): Map<string, FunctionSpec> {
  const map = new Map<string, FunctionSpec>();
  for (const f of compiled.functions) for (const n of f.nodes) map.set(n, f);
  return map;
}

/**
 * A deep copy of `definition` whose Task states name their function by ARN
 * (e.g. a published version) instead of by plain name.
 */
export function bindFunctionArns(
  definition: AslDefinition,
  arnByFunctionName: Readonly<Record<string, string>>,
): AslDefinition {
  const copy = structuredClone(definition);
  const visit = (states: Record<string, AslState>): void => {
    for (const [stateName, state] of Object.entries(states)) {
      const params = state.Parameters as Record<string, unknown> | undefined;
      if (state.Type === "Task" && params && typeof params.FunctionName === "string") {
        const arn = arnByFunctionName[params.FunctionName];
        if (arn === undefined)
          throw new Error(`No ARN for function ${params.FunctionName} (state '${stateName}').`);
        params.FunctionName = arn;
      }
      for (const branch of (state.Branches as { States: Record<string, AslState> }[] | undefined) ?? [])
        visit(branch.States);
    }
  };
  visit(copy.States);
  return copy;
}

function sortedRecord(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
