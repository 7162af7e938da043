import { lambdaTasksOf } from "../compile/lambdaTasks.js";
import type { CompiledPipeline } from "../compile/types.js";
import type { Finding } from "../graph/preflight.js";
import type { PipelineGraph } from "../graph/types.js";
import { codeSpan, escapeText } from "./markdown.js";
import type { AliasPlan, DefinitionChange, Plan, SchedulePlan, TaskDefinitionPlan } from "../plan/types.js";
import { pipelineTasksFromGraph } from "../run/tasks.js";
import type { FunctionRow, ImageView, PlanTask, PlanView, TaskChange } from "./planModel.js";

export interface PlanViewContext {
  target: string;
  findings: Finding[];
  graph: PipelineGraph;
  compiled: CompiledPipeline;
  image: ImageView;
  summaryUrl?: string;
  commit?: string;
}

/** The deploy plan as the PR comment and job summary show it. */
export function toPlanView(plan: Plan, context: PlanViewContext): PlanView {
  const byFunction = new Map(plan.functions.map((f) => [f.functionName, f]));
  const specs = new Map(context.compiled.functions.map((f) => [f.functionName, f]));
  const changeOf = (functionName: string): TaskChange => {
    const action = byFunction.get(functionName)?.action;
    if (action === "create") return "new";
    if (action === "delete") return "removed";
    if (action === "update-code" || action === "update-config") return "changed";
    return "none";
  };
  const tasks: PlanTask[] = pipelineTasksFromGraph(lambdaTasksOf(context.compiled), context.graph).map(
    (t) => ({
      id: t.stateName,
      label: t.stateName,
      nodes: t.nodes,
      dependsOn: t.dependsOn,
      change: changeOf(t.functionName),
    }),
  );
  // Deleted functions are no longer in the pipeline: drawn unconnected, so a reviewer sees them go.
  // One whose nodes all still run (function-sharing switched, say) is drawn in their new Tasks.
  const running = new Set(tasks.flatMap((t) => t.nodes));
  for (const f of plan.functions.filter((fn) => fn.action === "delete" && !stillRunning(fn.nodes, running))) {
    tasks.push({
      id: `deleted:${f.functionName}`,
      label: f.nodes.length === 1 ? (f.nodes[0] as string) : f.functionName,
      nodes: f.nodes,
      dependsOn: [],
      change: "removed",
    });
  }
  const functions: FunctionRow[] = plan.functions.map((f) => {
    const spec = specs.get(f.functionName);
    const row: FunctionRow = {
      name: f.functionName,
      nodes: f.nodes,
      change: f.action,
      memoryMb: spec?.memoryMb ?? null,
      timeoutSeconds: spec?.timeoutSeconds ?? null,
    };
    return row;
  });
  const view: PlanView = {
    target: context.target,
    counts: { create: plan.summary.toCreate, update: plan.summary.toUpdate, delete: plan.summary.toDelete },
    findings: context.findings,
    tasks,
    functions,
    ...(context.compiled.tasks
      ? { sharing: { functions: context.compiled.functions.length, tasks: context.compiled.tasks.length } }
      : {}),
    stateMachine: {
      name: plan.stateMachine.name,
      change: plan.stateMachine.action,
      definitionDiff: renderDefinitionChanges(plan.stateMachine.definitionChanges),
      ...aliasSentence(plan.stateMachine.alias),
      ...(context.compiled.children
        ? {
            children: context.compiled.children.map((c) => ({ name: c.name, tasks: c.functionNames.length })),
          }
        : {}),
      ...(plan.schedule ? { schedule: scheduleSentence(plan.schedule) } : {}),
      ...(plan.taskDefinition ? { taskDefinition: taskDefinitionSentence(plan.taskDefinition) } : {}),
    },
    image: context.image,
    planHash: plan.hash,
  };
  const old = plan.oldVersions;
  if (old.stateMachineVersions.length + old.functionVersions.length > 0) {
    view.oldVersions = {
      keep: old.keep,
      stateMachine: old.stateMachineVersions.length,
      functions: old.functionVersions.length,
    };
  }
  if (context.summaryUrl) view.summaryUrl = context.summaryUrl;
  if (context.commit) view.commit = context.commit;
  return view;
}

/** One line per changed JSON pointer: `+` added, `-` removed, `~` changed. */
export function renderDefinitionChanges(changes: DefinitionChange[]): string {
  const show = (value: unknown): string => JSON.stringify(value) ?? "undefined";
  return changes
    .map((c) => {
      if (c.kind === "added") return `+ ${c.path}: ${show(c.after)}`;
      if (c.kind === "removed") return `- ${c.path}: ${show(c.before)}`;
      return `~ ${c.path}: ${show(c.before)} → ${show(c.after)}`;
    })
    .join("\n");
}

/** `Schedule kedro-sfn-x (cron(0 6 * * ? *), UTC): to create.` */
function scheduleSentence(schedule: SchedulePlan): string {
  const what = `Schedule ${codeSpan(schedule.name)} (${codeSpan(schedule.expression)}, ${escapeText(schedule.timezone)})`;
  if (schedule.action === "update") {
    const changed = schedule.changes
      .map((c) => `${c.field} ${codeSpan(String(c.before))} → ${codeSpan(String(c.after))}`)
      .join(", ");
    return `${what}: to update (${changed}).`;
  }
  return `${what}: ${{ create: "to create", delete: "to delete", noop: "unchanged" }[schedule.action]}.`;
}

/** `ECS task definition mixed-ecs: a new revision (revision mixed-ecs:1 -> mixed-ecs:new).` */
function taskDefinitionSentence(plan: TaskDefinitionPlan): string {
  const what = `ECS task definition ${codeSpan(plan.family)}`;
  if (plan.action === "create") return `${what}: to create (its first revision).`;
  if (plan.action === "noop") return `${what}: unchanged.`;
  const changed = plan.changes
    .map((c) => `${c.field} ${codeSpan(String(c.before))} → ${codeSpan(String(c.after))}`)
    .join(", ");
  return `${what}: a new revision${changed ? ` (${changed})` : ""}.`;
}

/** `Alias live: version 2 -> the new version.` for the plan; nothing when the alias stays. */
function aliasSentence(alias: AliasPlan | undefined): { alias?: string } {
  if (!alias || alias.action === "noop") return {};
  const version = (arn: string): string => {
    const tail = arn.slice(arn.lastIndexOf(":") + 1);
    return /^\d+$/.test(tail) ? `version ${tail}` : "the new version";
  };
  const to = version(alias.targetVersionArn);
  return {
    alias:
      alias.action === "create" || !alias.currentVersionArn
        ? `Alias \`${alias.name}\`: to create, at ${to}.`
        : `Alias \`${alias.name}\`: ${version(alias.currentVersionArn)} → ${to}.`,
  };
}

function stillRunning(nodes: readonly string[], running: ReadonlySet<string>): boolean {
  return nodes.length > 0 && nodes.every((node) => running.has(node));
}
