/**
 * Whether a resume skipped an ECS Task. A Lambda Task says so in its payload (`skipped`, from
 * python/kedro_sfn/resume.py); an `ecs:runTask.sync` Task's output is the stopped task's
 * description, which the container cannot write to. But the container's decision is
 * `skip_result`'s, made from the run context alone (every node of the Task in the skip list),
 * and that context is the execution's input, in its ExecutionStarted event: the fold applies
 * the same rule to a Task that succeeded.
 */
import { RUN_CONTEXT } from "../compile/asl.js";
import { parseJsonObject } from "./failure.js";
import type { RunTask } from "./types.js";

/** A resumed execution's skip list and the execution it resumes. */
export interface ResumeSkipContext {
  skip: ReadonlySet<string>;
  /** ARN of the execution resumed ("" when the context does not name it). */
  resumedFrom: string;
}

/** The skip context of an execution input; null when it skips nothing (not a resume). */
export function resumeSkipContextOf(input: string | undefined): ResumeSkipContext | null {
  const context = parseJsonObject(input)?.[RUN_CONTEXT];
  if (typeof context !== "object" || context === null) return null;
  const { skip, resumed_from: resumedFrom } = context as Record<string, unknown>;
  if (!Array.isArray(skip) || skip.length === 0) return null;
  return {
    skip: new Set(skip.filter((n): n is string => typeof n === "string")),
    resumedFrom: typeof resumedFrom === "string" ? resumedFrom : "",
  };
}

/** For an ECS Task that succeeded: the execution it was skipped for, or null when it ran. */
export function ecsSkippedFrom(task: RunTask, context: ResumeSkipContext | null): string | null {
  if (!context || task.nodes.length === 0) return null;
  return task.nodes.every((node) => context.skip.has(node)) ? context.resumedFrom : null;
}
