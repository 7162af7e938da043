/**
 * Resume a failed execution: a new execution of the failed one's state machine version, with
 * the failed one's input and run id, in which the Tasks that succeeded answer "skipped" at
 * once (python/kedro_sfn/resume.py) and the rest run. Every check comes before anything
 * starts, so bad input changes nothing.
 */
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  type DescribeExecutionOutput,
  type SFNClient,
} from "@aws-sdk/client-sfn";
import { RUN_CONTEXT } from "../compile/asl.js";
import type { AslDefinition, AslState } from "../compile/types.js";
import { UserError, errorMessage } from "../errors.js";
import { executePipeline, isVersionArn, type RunDeps, type RunReport } from "./execute.js";
import { readNodeStatuses } from "./history.js";
import { executionConsoleUrl, locationOfArn } from "./links.js";
import { parseExecutionInput, resumeInput, runIdOf, skipSetOf, type SkipSet } from "./resumeSkip.js";
import { MAX_EXECUTION_NAME } from "./start.js";
import { errorName } from "./retry.js";
import { pipelineTasksFromDefinition } from "./tasks.js";
import type { PipelineTask } from "./types.js";
export type { ResumedFrom } from "./types.js";

const EXECUTION_ARN =
  /^arn:(aws|aws-cn|aws-us-gov|aws-iso[a-z-]*):states:([a-z0-9-]+):(\d{12}):execution:([^:\s]{1,80}):([^:\s]{1,80})$/;

export interface ResumeRequest {
  executionArn: string;
  /** Where the ARN came from, for errors: `resume-execution` or `--execution`. */
  inputName: string;
  /** The state machine the execution must belong to (`state-machine-name`); "" checks nothing. */
  stateMachineName: string;
  wait: boolean;
  timeoutMs: number;
  failOnExecutionFailure: boolean;
}

export interface ParsedExecutionArn {
  region: string;
  stateMachineName: string;
  name: string;
}

export interface ResumePlan {
  failed: { executionArn: string; name: string; status: string; consoleUrl: string };
  /** What the new execution starts: the failed execution's version. */
  stateMachineArn: string;
  runId: string;
  tasks: PipelineTask[];
  skipSet: SkipSet;
  input: string;
  name: string;
}

/** The parts of an execution ARN; a UserError naming the input when it is not one. */
export function parseExecutionArn(arn: string, inputName: string): ParsedExecutionArn {
  const match = EXECUTION_ARN.exec(arn.trim());
  if (!match) {
    throw new UserError(`Input '${inputName}' is not a Step Functions execution ARN: '${arn}'.`, {
      hint: "Copy it from the failed run's summary or the console: arn:aws:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME.",
    });
  }
  return { region: match[2] as string, stateMachineName: match[4] as string, name: match[5] as string };
}

/** Every check, then the new execution's input; starts nothing. */
export async function planResume(sfn: SFNClient, request: ResumeRequest, nowMs: number): Promise<ResumePlan> {
  const arn = request.executionArn.trim();
  const input = request.inputName;
  const parsed = parseExecutionArn(arn, input);
  if (request.stateMachineName && parsed.stateMachineName !== request.stateMachineName) {
    throw new UserError(
      `Input '${input}' is an execution of state machine '${parsed.stateMachineName}', not of '${request.stateMachineName}' ('state-machine-name').`,
      {
        hint: "Resume an execution of this state machine, or set 'state-machine-name' to the one it belongs to.",
      },
    );
  }
  const described = await describeFailed(sfn, arn, parsed, input);
  const stateMachineArn = versionToStart(described, input);
  const definition = await definitionOf(sfn, stateMachineArn, input);
  requireRunContext(definition, stateMachineArn, input);
  const tasks = pipelineTasksFromDefinition(definition);
  if (tasks.length === 0) {
    throw new UserError(`${stateMachineArn} has no Task that runs Kedro nodes: there is nothing to resume.`);
  }
  const history = await readNodeStatuses(sfn, arn, tasks, { location: locationOfArn(arn) });
  const skipSet = skipSetOf(tasks, history.tasks);
  if (skipSet.rerun.length === 0) {
    throw new UserError(
      `Every Task of ${arn} succeeded (it ended ${described.status} after them): there is nothing to resume.`,
      { hint: "Start a new run instead." },
    );
  }
  const failedInput = parseExecutionInput(described.input, arn);
  const runId = runIdOf(failedInput, parsed.name);
  return {
    failed: {
      executionArn: arn,
      name: parsed.name,
      status: described.status ?? "",
      consoleUrl: executionConsoleUrl(arn),
    },
    stateMachineArn,
    runId,
    tasks,
    skipSet,
    input: resumeInput(failedInput, { runId, skip: skipSet.skip, resumedFrom: arn }, input),
    name: resumeName(parsed.name, nowMs),
  };
}

export interface ResumedRun {
  run: RunReport;
  /** The version's Tasks with their dependencies (for the flowchart). */
  pipeline: PipelineTask[];
}

/** Plans, then starts and (when asked) waits for the new execution. */
export async function resumeExecution(
  sfn: SFNClient,
  request: ResumeRequest,
  deps: RunDeps,
): Promise<ResumedRun> {
  const plan = await planResume(sfn, request, deps.now());
  const { skip, rerun } = plan.skipSet;
  deps.log(
    `Resuming ${plan.failed.name} (${plan.failed.status}) on ${plan.stateMachineArn} with run id ${plan.runId}: ` +
      `${skip.length} node(s) skipped (they succeeded), ${rerun.length} to run.`,
  );
  const report = await executePipeline(
    sfn,
    {
      stateMachineArn: plan.stateMachineArn,
      name: plan.name,
      input: plan.input,
      wait: request.wait,
      timeoutMs: request.timeoutMs,
      tasks: plan.tasks,
      failOnExecutionFailure: request.failOnExecutionFailure,
    },
    deps,
  );
  report.resumedFrom = {
    executionArn: plan.failed.executionArn,
    name: plan.failed.name,
    consoleUrl: plan.failed.consoleUrl,
    runId: plan.runId,
    skipped: skip,
    rerun,
  };
  return { run: report, pipeline: plan.tasks };
}

/** `2026-12-02T04.10.00.000Z-resume-<failed name>`, at most 80 characters: sorts by time like every run. */
export function resumeName(failedName: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/:/g, ".");
  return `${stamp}-resume-${failedName}`.slice(0, MAX_EXECUTION_NAME);
}

async function describeFailed(
  sfn: SFNClient,
  arn: string,
  parsed: ParsedExecutionArn,
  input: string,
): Promise<DescribeExecutionOutput> {
  let described: DescribeExecutionOutput;
  try {
    described = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
  } catch (error) {
    const name = errorName(error);
    if (name === "ExecutionDoesNotExist" || name === "InvalidArn" || name === "ResourceNotFound") {
      const region = await sfn.config.region();
      throw new UserError(`Input '${input}': no execution ${arn} (${errorMessage(error)}).`, {
        hint:
          parsed.region !== region
            ? `The ARN is in region ${parsed.region} but the step talks to ${region}: set the AWS region to ${parsed.region}.`
            : "Check the ARN; Step Functions keeps a Standard execution's history 90 days after it ends.",
        cause: error,
      });
    }
    throw error;
  }
  const status = described.status ?? "";
  if (status === "SUCCEEDED") {
    throw new UserError(
      `Input '${input}': execution ${parsed.name} succeeded, so there is nothing to resume.`,
      {
        hint: "Resume takes an execution that FAILED, TIMED_OUT or was ABORTED; start a new run to run the pipeline again.",
      },
    );
  }
  if (status === "RUNNING" || status === "PENDING_REDRIVE") {
    throw new UserError(`Input '${input}': execution ${parsed.name} is still ${status}.`, {
      hint: "Wait for it to end (or stop it), then resume it.",
    });
  }
  return described;
}

/** The failed execution's own version: a resume runs the definition (and function versions) it ran. */
function versionToStart(described: DescribeExecutionOutput, input: string): string {
  const version = described.stateMachineVersionArn;
  if (version && isVersionArn(version)) return version;
  throw new UserError(
    `Input '${input}': execution ${described.name ?? described.executionArn ?? ""} did not run a published state machine version, so the definition it ran cannot be started again.`,
    {
      hint: "Resume works on executions the action or `kedro-sfn deploy` started (they start the version they publish); run the pipeline again instead.",
    },
  );
}

async function definitionOf(sfn: SFNClient, stateMachineArn: string, input: string): Promise<AslDefinition> {
  let text: string | undefined;
  try {
    text = (await sfn.send(new DescribeStateMachineCommand({ stateMachineArn }))).definition;
  } catch (error) {
    const name = errorName(error);
    if (name === "StateMachineDoesNotExist" || name === "ResourceNotFound" || name === "InvalidArn") {
      throw new UserError(
        `Input '${input}': the state machine version the execution ran, ${stateMachineArn}, no longer exists (${errorMessage(error)}).`,
        {
          hint: "Old versions are deleted by the deploy's version retention: run the pipeline again on the current version instead.",
          cause: error,
        },
      );
    }
    throw error;
  }
  try {
    return JSON.parse(text ?? "") as AslDefinition;
  } catch (error) {
    throw new Error(`The definition of ${stateMachineArn} is not JSON: ${errorMessage(error)}`);
  }
}

/**
 * Only definitions whose Tasks pass `$.kedro_sfn` can skip: an older one would rerun every Task
 * under the first run's version, and versioned datasets refuse to save a version twice.
 */
function requireRunContext(definition: AslDefinition, stateMachineArn: string, input: string): void {
  const payloads: Record<string, unknown>[] = [];
  collectPayloads(definition.States, payloads, 0);
  const key = `${RUN_CONTEXT}.$`;
  if (payloads.length > 0 && payloads.every((p) => key in p)) return;
  throw new UserError(
    `Input '${input}': ${stateMachineArn} was deployed by an older kedro-sfn whose Tasks do not receive the run context (${RUN_CONTEXT}), so it cannot skip what succeeded.`,
    { hint: "Deploy with this version of kedro-sfn, run the pipeline, and resume that run if it fails." },
  );
}

function collectPayloads(
  states: Record<string, AslState>,
  out: Record<string, unknown>[],
  depth: number,
): void {
  if (depth > 100) return;
  for (const state of Object.values(states)) {
    const resource = state["Resource"];
    if (
      state.Type === "Task" &&
      typeof resource === "string" &&
      resource.startsWith("arn:aws:states:::lambda:invoke")
    ) {
      const parameters = state["Parameters"] as Record<string, unknown> | undefined;
      const payload = parameters?.["Payload"];
      if (typeof payload === "object" && payload !== null && "nodes" in payload) out.push(payload);
    }
    const branches = state["Branches"];
    if (Array.isArray(branches)) {
      for (const b of branches as AslDefinition[]) if (b?.States) collectPayloads(b.States, out, depth + 1);
    }
    const body = (state["ItemProcessor"] ?? state["Iterator"]) as AslDefinition | undefined;
    if (body?.States) collectPayloads(body.States, out, depth + 1);
  }
}
