/**
 * What a resume skips and what it runs again, from the failed execution's per-Task status
 * (historyFold.ts) and the Tasks' dependencies. Pure: no AWS client.
 */
import { UserError } from "../errors.js";
import { RUN_CONTEXT } from "../compile/asl.js";
import type { NodeState, PipelineTask, TaskRun } from "./types.js";

/** A Task that ended in one of these left its outputs complete: a resume does not run it. */
const DONE = new Set<NodeState>(["succeeded", "retried", "skipped"]);

/** Step Functions refuses an execution input over 256 KiB. */
export const MAX_EXECUTION_INPUT_BYTES = 256 * 1024;

export interface SkipSet {
  /** Nodes of the Tasks that succeeded (or were skipped) in the failed run, none downstream of a rerun. */
  skip: string[];
  /** Nodes that run again: the failed Task, what did not start or was cut short, and all downstream. */
  rerun: string[];
  /** The Tasks that failed or timed out (a subset of those rerun), for the summary. */
  failedTasks: string[];
}

/**
 * Whole Tasks are skipped or run, never split: a Task is the unit that succeeds or fails.
 * A Task is skipped when it succeeded and no Task it depends on (transitively) runs again;
 * with compiled state machines a Task downstream of a failure never succeeded anyway, so the
 * closure only guards against a history that says otherwise.
 */
export function skipSetOf(pipeline: readonly PipelineTask[], runs: readonly TaskRun[]): SkipSet {
  const status = new Map(runs.map((r) => [r.stateName, r.status]));
  const rerun = new Set(
    pipeline.filter((t) => !DONE.has(status.get(t.stateName) ?? "not-started")).map((t) => t.stateName),
  );
  // Downstream of a rerun runs too: walk the dependents until nothing changes.
  let grew = true;
  while (grew) {
    grew = false;
    for (const t of pipeline) {
      if (!rerun.has(t.stateName) && t.dependsOn.some((d) => rerun.has(d))) {
        rerun.add(t.stateName);
        grew = true;
      }
    }
  }
  const skip: string[] = [];
  const again: string[] = [];
  for (const t of pipeline) (rerun.has(t.stateName) ? again : skip).push(...t.nodes);
  const failedTasks = pipeline
    .filter((t) => {
      const s = status.get(t.stateName);
      return s === "failed" || s === "timed-out";
    })
    .map((t) => t.stateName);
  return { skip, rerun: again, failedTasks };
}

export interface ResumeContext {
  /** The first run's id: the save version and the run store's folder of every Task. */
  runId: string;
  skip: string[];
  /** ARN of the execution resumed. */
  resumedFrom: string;
}

/**
 * The run id a resume keeps: the one the failed execution ran under (its own `kedro_sfn.run_id`
 * when it was itself a resume), else its name, which is what the definition's defaults make it.
 */
export function runIdOf(failedInput: Record<string, unknown>, failedName: string): string {
  const context = failedInput[RUN_CONTEXT];
  if (typeof context === "object" && context !== null) {
    const runId = (context as Record<string, unknown>)["run_id"];
    if (typeof runId === "string" && runId !== "") return runId;
  }
  return failedName;
}

/** The failed execution's input as an object (its params and anything else the user passed). */
export function parseExecutionInput(text: string | undefined, executionArn: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text || "{}");
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UserError(`The input of ${executionArn} is not a JSON object, so it cannot be resumed.`, {
      hint: 'Compiled state machines take a JSON object ({"params": {...}}): start a new run instead.',
    });
  }
  return parsed as Record<string, unknown>;
}

/**
 * The resumed execution's input: the failed one's, with the run context replaced. Throws a
 * UserError when it exceeds Step Functions' 256 KiB (a very long skip list).
 */
export function resumeInput(
  failedInput: Record<string, unknown>,
  context: ResumeContext,
  inputName: string,
): string {
  const text = JSON.stringify({
    ...failedInput,
    [RUN_CONTEXT]: { run_id: context.runId, skip: context.skip, resumed_from: context.resumedFrom },
  });
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_EXECUTION_INPUT_BYTES) {
    throw new UserError(
      `Cannot resume the execution of '${inputName}': the resumed execution's input would be ${bytes} bytes ` +
        `(the skip list names ${context.skip.length} nodes), over Step Functions' ${MAX_EXECUTION_INPUT_BYTES}-byte limit.`,
      {
        hint: "Start a new run instead (the pipeline runs whole), or use Step Functions' RedriveExecution on AWS.",
      },
    );
  }
  return text;
}
