import type { AslDefinition, AslState } from "../compile/types.js";
import { functionNameOf } from "../compile/names.js";
import type { BoundTask } from "./types.js";

const LAMBDA_INVOKE = /^arn:aws[a-z-]*:states:::lambda:invoke(\.waitForTaskToken)?$/;
const SPEC_COMMENT = /(?:^| )kedro-sfn spec ([0-9a-f]{16})$/;

export interface TaskBinding {
  /** What goes into Parameters.FunctionName: a qualified (version) ARN. */
  functionArn: string;
  /** Recorded in the Task's Comment so a later read knows what the bound version was built from. */
  specHash: string;
}

type Visitor = (state: AslState & { Parameters: Record<string, unknown> }, functionName: string) => void;

/** Calls `visit` for every Lambda Task, in Parallel branches and Map processors too. */
function visitLambdaTasks(definition: { States: Record<string, AslState> }, visit: Visitor): void {
  for (const state of Object.values(definition.States)) {
    if (state.Type === "Task" && typeof state.Resource === "string" && LAMBDA_INVOKE.test(state.Resource)) {
      const parameters = state.Parameters;
      if (
        parameters &&
        typeof parameters === "object" &&
        typeof (parameters as Record<string, unknown>).FunctionName === "string"
      ) {
        visit(
          state as AslState & { Parameters: Record<string, unknown> },
          (parameters as Record<string, string>).FunctionName ?? "",
        );
      }
    }
    for (const branch of nestedMachines(state)) visitLambdaTasks(branch, visit);
  }
}

function nestedMachines(state: AslState): { States: Record<string, AslState> }[] {
  const nested: unknown[] = [];
  if (Array.isArray(state.Branches)) nested.push(...(state.Branches as unknown[]));
  if (state.ItemProcessor) nested.push(state.ItemProcessor);
  if (state.Iterator) nested.push(state.Iterator);
  return nested.filter(
    (item): item is { States: Record<string, AslState> } =>
      item !== null && typeof item === "object" && typeof (item as { States?: unknown }).States === "object",
  );
}

/**
 * A deep copy of a compiled definition with every Task's FunctionName (a plain function name)
 * replaced by its binding's ARN, and the binding's spec hash appended to the Task's Comment.
 * Every Task must have a binding: a missing one is a bug, not a user error.
 */
export function bindDefinition(
  definition: AslDefinition,
  bindings: ReadonlyMap<string, TaskBinding>,
): AslDefinition {
  const copy = structuredClone(definition);
  visitLambdaTasks(copy, (state, functionName) => {
    const binding = bindings.get(functionName);
    if (!binding) throw new Error(`No function version to bind for Task FunctionName "${functionName}".`);
    state.Parameters.FunctionName = binding.functionArn;
    const comment = typeof state.Comment === "string" ? stripSpecComment(state.Comment) : "";
    state.Comment = comment
      ? `${comment} kedro-sfn spec ${binding.specHash}`
      : `kedro-sfn spec ${binding.specHash}`;
  });
  return copy;
}

/** The Lambda Tasks of a deployed definition, by function name. */
export function boundTasks(definition: AslDefinition): Record<string, BoundTask> {
  const tasks: Record<string, BoundTask> = {};
  visitLambdaTasks(definition, (state, reference) => {
    const functionName = functionNameOf(reference);
    const payload = state.Parameters.Payload as { nodes?: unknown } | undefined;
    const nodes = Array.isArray(payload?.nodes)
      ? payload.nodes.filter((node): node is string => typeof node === "string")
      : [];
    const specHash =
      typeof state.Comment === "string" ? (SPEC_COMMENT.exec(state.Comment)?.[1] ?? null) : null;
    const earlier = tasks[functionName];
    // One function may serve several Tasks (a function shared by nodes with the same settings):
    // it is bound once, and serves all their nodes.
    tasks[functionName] = earlier
      ? { ...earlier, nodes: [...earlier.nodes, ...nodes.filter((node) => !earlier.nodes.includes(node))] }
      : { functionName, versionArn: reference, specHash, nodes };
  });
  return tasks;
}

/** The plain function names a compiled definition invokes. */
export function taskFunctionNames(definition: AslDefinition): string[] {
  const names: string[] = [];
  visitLambdaTasks(definition, (_state, reference) => names.push(functionNameOf(reference)));
  return names;
}

/** `arn:...:function:name:7` -> `name:7`, for humans. */
export function shortFunctionReference(reference: string): string {
  if (!reference.startsWith("arn:")) return reference;
  const parts = reference.split(":");
  return parts.length > 7 ? `${parts[6]}:${parts[7]}` : (parts[6] ?? reference);
}

export function stripSpecComment(comment: string): string {
  return comment.replace(SPEC_COMMENT, "");
}

/** A copy that shows functions as `name:version` and hides spec hashes: what a reader diffs. */
export function readableDefinition(definition: AslDefinition): AslDefinition {
  const copy = structuredClone(definition);
  visitLambdaTasks(copy, (state, reference) => {
    state.Parameters.FunctionName = shortFunctionReference(reference);
    if (typeof state.Comment === "string") {
      const comment = stripSpecComment(state.Comment);
      if (comment) state.Comment = comment;
      else delete state.Comment;
    }
  });
  return copy;
}

const START_EXECUTION = /^arn:aws[a-z-]*:states:::states:startExecution(\.sync(:2)?)?$/;

/** Calls `visit` for every Task that starts a child state machine (a split pipeline's parent). */
function visitChildStarts(
  definition: { States: Record<string, AslState> },
  visit: (parameters: Record<string, unknown>, reference: string) => void,
): void {
  for (const state of Object.values(definition.States)) {
    const parameters = state.Parameters as Record<string, unknown> | undefined;
    if (
      state.Type === "Task" &&
      typeof state.Resource === "string" &&
      START_EXECUTION.test(state.Resource) &&
      typeof parameters?.StateMachineArn === "string"
    )
      visit(parameters, parameters.StateMachineArn);
    for (const branch of nestedMachines(state)) visitChildStarts(branch, visit);
  }
}

/**
 * A copy of a split pipeline's parent with each child start bound to the child's published
 * version ARN (by child name), as function versions are bound: the parent's one update is the
 * cutover. A child without a version is a bug, not a user error.
 */
export function bindChildMachines(
  definition: AslDefinition,
  versionArnByChild: ReadonlyMap<string, string>,
): AslDefinition {
  const copy = structuredClone(definition);
  visitChildStarts(copy, (parameters, name) => {
    const arn = versionArnByChild.get(name);
    if (!arn) throw new Error(`No state machine version to bind for child "${name}".`);
    parameters.StateMachineArn = arn;
  });
  return copy;
}

/** The child state machines (version ARNs as deployed, or names as compiled) a parent starts. */
export function childMachineReferences(definition: AslDefinition): string[] {
  const references: string[] = [];
  visitChildStarts(definition, (_parameters, reference) => references.push(reference));
  return references;
}
