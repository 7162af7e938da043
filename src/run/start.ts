import { StartExecutionCommand, type SFNClient } from "@aws-sdk/client-sfn";
import { UserError, errorMessage } from "../errors.js";
import { errorName } from "./retry.js";

export const MAX_EXECUTION_NAME = 80;

export interface ExecutionNameParts {
  /** Commit the run deploys (GITHUB_SHA); "" outside CI. */
  commitSha: string;
  /** GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT; "" outside CI. */
  runId: string;
  runAttempt: string;
  /** Epoch ms. */
  now: number;
}

/**
 * `2026-01-31T09.15.02.123Z-3f2a1b9c0d1e-run123456789-1`: unique per run attempt,
 * at most 80 characters of [A-Za-z0-9._-]. It starts with the time in Kedro's
 * version format, so names (which the Lambdas receive as the run id) sort by time.
 */
export function executionName(parts: ExecutionNameParts): string {
  const stamp = new Date(parts.now).toISOString().replace(/:/g, ".");
  const clean = (text: string): string => text.replace(/[^A-Za-z0-9_-]/g, "");
  const sha = clean(parts.commitSha).slice(0, 12);
  const runId = clean(parts.runId);
  const attempt = clean(parts.runAttempt);
  const pieces = [stamp, sha || "local", ...(runId ? [`run${runId}`] : []), ...(attempt ? [attempt] : [])];
  const name = pieces.join("-");
  if (name.length <= MAX_EXECUTION_NAME) return name;
  // Only an absurd run id gets here: keep its tail, the part that changes.
  const room = MAX_EXECUTION_NAME - (stamp.length + sha.length + attempt.length + 6);
  return [stamp, sha || "local", `run${runId.slice(-room)}`, attempt].join("-").slice(0, MAX_EXECUTION_NAME);
}

export interface StartRequest {
  /** The published version ARN just deployed (or a state machine ARN). */
  stateMachineArn: string;
  name: string;
  /** JSON text, validated by options. */
  input: string;
}

export interface StartedExecution {
  executionArn: string;
  /** As Step Functions recorded it: used to check later that we watch our own execution. */
  startDate: Date;
  name: string;
  stateMachineArn: string;
  input: string;
}

/** Starts one execution; AWS errors a user can fix come back as UserError. */
export async function startExecution(sfn: SFNClient, request: StartRequest): Promise<StartedExecution> {
  try {
    const response = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: request.stateMachineArn,
        name: request.name,
        input: request.input,
      }),
    );
    if (!response.executionArn) throw new Error("StartExecution returned no executionArn.");
    return {
      executionArn: response.executionArn,
      startDate: response.startDate ?? new Date(),
      name: request.name,
      stateMachineArn: request.stateMachineArn,
      input: request.input,
    };
  } catch (error) {
    throw explainStartError(error, request);
  }
}

function explainStartError(error: unknown, request: StartRequest): Error {
  const detail = errorMessage(error);
  switch (errorName(error)) {
    case "ExecutionAlreadyExists":
      return new UserError(
        `An execution named '${request.name}' already exists for ${request.stateMachineArn}.`,
        {
          hint: "Execution names come from the commit and the run attempt: re-run the workflow to get a new attempt.",
          cause: error,
        },
      );
    case "StateMachineDoesNotExist":
      return new UserError(`Cannot start ${request.stateMachineArn}: it does not exist (${detail}).`, {
        hint: "Deploy first, or check the state machine name and the AWS region.",
        cause: error,
      });
    case "InvalidExecutionInput":
      return new UserError(`Input 'execution-input' was refused by Step Functions: ${detail}`, {
        hint: "It must be a JSON object under 256 KiB.",
        cause: error,
      });
    case "ExecutionLimitExceeded":
      return new UserError(`Cannot start the execution: too many executions are running (${detail}).`, {
        hint: "Wait for running executions to finish or stop some.",
        cause: error,
      });
    case "AccessDeniedException":
      return new UserError(`Not allowed to start ${request.stateMachineArn}: ${detail}`, {
        hint: "Give the workflow's role states:StartExecution on the state machine and its versions (arn...:stateMachine:NAME:*).",
        cause: error,
      });
    default:
      return new Error(`Could not start an execution of ${request.stateMachineArn}: ${detail}`, {
        cause: error,
      });
  }
}
