/** A failed ECS Task's node error, read from the end of its task's log (CloudWatch Logs). */
import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { lastLogLines } from "../aws/ecs.js";
import { errorMessage } from "../errors.js";
import { lambdaTasksOf } from "../compile/lambdaTasks.js";
import type { CompiledPipeline, EcsTaskSpec } from "../compile/types.js";
import { ecsLogGroup } from "../plan/taskDefinitions.js";
import { nodeErrorFromLog } from "./ecsFailure.js";
import type { RunReport } from "./execute.js";
import type { RunTask } from "./types.js";

/** The run's view of the Tasks routed to ECS: their log group tells them from Lambda Tasks. */
export function ecsRunTasks(tasks: readonly EcsTaskSpec[] | undefined): RunTask[] {
  return (tasks ?? []).map((t) => ({
    stateName: t.stateName,
    functionName: t.taskName,
    nodes: [...t.nodes],
    logGroup: ecsLogGroup(t.family),
  }));
}

/** Every Task of a compiled pipeline as the run sees it: the Lambda ones, then those on ECS. */
export function runTasksOf(compiled: Pick<CompiledPipeline, "functions" | "tasks" | "ecsTasks">): RunTask[] {
  return [...lambdaTasksOf(compiled), ...ecsRunTasks(compiled.ecsTasks)];
}

/**
 * Step Functions reports a failed container by its exit code; the node's own error type and
 * message are the last line the ECS entry wrote. Puts them on the failed ECS Tasks and their
 * nodes; a log that cannot be read leaves the exit code's message and says why.
 */
export async function addEcsNodeErrors(
  logs: CloudWatchLogsClient,
  report: RunReport,
  warn: (line: string) => void,
): Promise<void> {
  for (const run of report.tasks) {
    if (
      !run.logGroup ||
      !run.logStream ||
      !run.error ||
      run.status === "succeeded" ||
      run.status === "retried"
    )
      continue;
    let lines: string[];
    try {
      lines = await lastLogLines(logs, run.logGroup, run.logStream);
    } catch (error) {
      warn(
        `Could not read the log of ECS task ${run.functionName} (${run.logGroup} ${run.logStream}): ${errorMessage(error)}`,
      );
      continue;
    }
    const error = nodeErrorFromLog(lines, run.error);
    run.error = error;
    for (const node of report.nodes) if (node.task === run.stateName) node.error = error;
  }
}
