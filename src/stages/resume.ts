import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import type { SFNClient } from "@aws-sdk/client-sfn";
import { Input } from "../constants.js";
import { UserError } from "../errors.js";
import { requireInputs, type Options } from "../options.js";
import { addEcsNodeErrors } from "../run/ecsErrors.js";
import { executionOutputs } from "../run/execute.js";
import { resumeExecution, type ResumedRun, type ResumeRequest } from "../run/resume.js";
import { setOutputs, stage, type JobContext } from "./context.js";
import { printRunReport } from "./runDeployed.js";

function requestFrom(options: Options, inputName: string): ResumeRequest {
  return {
    executionArn: options.resumeExecution,
    inputName,
    stateMachineName: options.stateMachineName,
    wait: options.waitForExecution,
    timeoutMs: options.executionTimeoutMinutes * 60_000,
    failOnExecutionFailure: options.failOnExecutionFailure,
  };
}

/**
 * The action with `resume-execution`: no inspect, build or deploy (the resume runs the version
 * the failed execution ran), only the new execution. Plan mode refuses: it never starts anything.
 */
export async function resumeStage(ctx: JobContext): Promise<ResumedRun> {
  const { options, io, clock } = ctx;
  if (ctx.mode === "plan") {
    throw new UserError(`Input '${Input.ResumeExecution}' starts an execution, which plan mode never does.`, {
      hint: "Resume from a workflow that deploys (mode: deploy, e.g. on workflow_dispatch), or drop the input.",
    });
  }
  requireInputs(
    options,
    [[Input.StateMachineName, "stateMachineName"]],
    `to check what '${Input.ResumeExecution}' belongs to`,
  );
  const clients = await ctx.aws.clients();
  const resumed = await stage(ctx, "resume", () =>
    resumeExecution(clients.sfn, requestFrom(options, Input.ResumeExecution), {
      log: (line) => io.info(line),
      warn: (line) => io.warning(line),
      sleep: clock.sleep,
      now: clock.now,
    }),
  );
  await addEcsNodeErrors(clients.logs, resumed.run, (line) => io.warning(line));
  setOutputs(io, executionOutputs(resumed.run));
  return resumed;
}

export interface CliResumeDeps {
  sfn: SFNClient;
  /** As CliRunDeps.logs: a failed ECS Task's node error from its log. */
  logs?: CloudWatchLogsClient;
  out: (text: string) => void;
  err: (line: string) => void;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

/** `kedro-sfn resume --execution ARN [--state-machine NAME] [--wait false]`: returns the exit code. */
export async function resumeCommand(options: Options, deps: CliResumeDeps): Promise<number> {
  if (!options.resumeExecution) {
    throw new UserError("kedro-sfn resume needs --execution ARN (the failed execution).");
  }
  const { run: report } = await resumeExecution(deps.sfn, requestFrom(options, "--execution"), {
    log: deps.err,
    warn: (line) => deps.err(`warning: ${line}`),
    sleep: deps.sleep,
    now: deps.now,
  });
  if (deps.logs) await addEcsNodeErrors(deps.logs, report, (line) => deps.err(`warning: ${line}`));
  const skipped = report.resumedFrom?.skipped.length ?? 0;
  const headline = `${report.status}  ${report.name}  (resumes ${report.resumedFrom?.name ?? ""}: ${skipped} node(s) skipped)`;
  return printRunReport(report, deps, headline);
}
