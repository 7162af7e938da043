import type { DeployResult } from "../plan/types.js";
import { addEcsNodeErrors, runTasksOf } from "../run/ecsErrors.js";
import { executePipeline, executionOutputs, type RunReport } from "../run/execute.js";
import { executionName } from "../run/start.js";
import { setOutputs, stage, type JobContext } from "./context.js";
import type { Inspected } from "./inspect.js";

/** Starts the version just deployed (through the alias pointing at it) and, if asked, waits for it. */
export async function runStage(
  ctx: JobContext,
  inspected: Inspected,
  deployed: DeployResult,
): Promise<RunReport> {
  const { options, io, event, clock } = ctx;
  const clients = await ctx.aws.clients();
  const report = await stage(ctx, "run", () =>
    executePipeline(
      clients.sfn,
      {
        // Through the alias the deploy just moved (as schedules start it), checked against the version.
        stateMachineArn:
          deployed.stateMachineAliasArn ?? deployed.stateMachineVersionArn ?? deployed.stateMachineArn,
        versionArn: deployed.stateMachineAliasArn ? deployed.stateMachineVersionArn : null,
        name: executionName({
          commitSha: event.sha,
          runId: event.runId,
          runAttempt: event.runAttempt,
          now: clock.now(),
        }),
        input: options.executionInput,
        wait: options.waitForExecution,
        timeoutMs: options.executionTimeoutMinutes * 60_000,
        tasks: runTasksOf(inspected.compiled),
        failOnExecutionFailure: options.failOnExecutionFailure,
      },
      { log: (line) => io.info(line), warn: (line) => io.warning(line), sleep: clock.sleep, now: clock.now },
    ),
  );
  await addEcsNodeErrors(clients.logs, report, (line) => io.warning(line));
  setOutputs(io, executionOutputs(report));
  return report;
}
