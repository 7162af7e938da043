import type { CompiledPipeline, LambdaTask } from "./types.js";

/**
 * The Lambda Tasks of a compile, one per Task state: `tasks` when functions are shared
 * (src/compile/sharing.ts), else the functions themselves (one per Task). What run, resume and
 * the reports key status by: a shared function's name names several Tasks.
 */
export function lambdaTasksOf(compiled: Pick<CompiledPipeline, "functions" | "tasks">): LambdaTask[] {
  return compiled.tasks ?? compiled.functions;
}
