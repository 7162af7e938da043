/**
 * The `failure-reason` output: one value per way the step can fail. action.yml
 * and the README list them (a test keeps the lists in step).
 */
export const FAILURE_REASONS = {
  "bad-input": "an input (a flag on the command line) is missing or invalid",
  "unsupported-event": "an event that mode auto does not handle",
  "fork-deploy": "deploy mode on a pull request from a fork",
  "inspect-failed": "the Kedro project could not be inspected",
  "pipeline-import": "a pipeline module failed to import (allow-pipeline-import-errors lets it through)",
  "compile-failed": "the pipeline cannot become a state machine",
  preflight: "pre-flight found errors in the catalog",
  "plan-failed": "what is deployed could not be read",
  "plan-not-reviewed": "with require-reviewed-plan, no reviewed plan was found",
  "plan-changed": "the plan differs from the reviewed one",
  "build-failed": "packaging, building, smoke-testing or pushing the image failed",
  "deploy-failed": "applying the plan to AWS failed",
  "run-failed": "the execution could not be started or followed",
  "execution-failed": "the execution failed",
  "execution-timed-out": "the execution timed out",
  "execution-aborted": "the execution was stopped outside this step",
  "wait-timed-out": "the step stopped waiting before the execution ended",
  "execution-mismatch": "the execution that succeeded is not the one this step started",
  internal: "an unexpected error (a bug: please report it)",
} as const;

export type FailureReason = keyof typeof FAILURE_REASONS;

/** A thrown error's reason by the stage it escaped from (the names `stage()` records). */
const STAGE_REASONS: Record<string, FailureReason> = {
  inspect: "inspect-failed",
  compile: "compile-failed",
  plan: "plan-failed",
  "package+build+push": "build-failed",
  deploy: "deploy-failed",
  run: "run-failed",
};

/**
 * Why a thrown error ended the job: the reason the error names, else the stage
 * it came from; outside any stage a UserError is a bad input, anything else internal.
 */
export function reasonForThrown(
  stage: string | undefined,
  error: { userError: boolean; reason?: string | undefined },
): FailureReason {
  if (error.reason !== undefined && isFailureReason(error.reason)) return error.reason;
  const byStage = stage === undefined ? undefined : STAGE_REASONS[stage];
  return byStage ?? (error.userError ? "bad-input" : "internal");
}

export function isFailureReason(value: string): value is FailureReason {
  return Object.prototype.hasOwnProperty.call(FAILURE_REASONS, value);
}
