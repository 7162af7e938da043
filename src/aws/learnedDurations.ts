/**
 * Reads what the learned durations come from: the state machine's last few
 * successful executions and their histories. Reads only (plan mode runs
 * behind the read-only guard), bounded: one ListExecutions page of at most
 * `executions`, then one paged GetExecutionHistory each, capped in events.
 */
import { ListExecutionsCommand, type SFNClient } from "@aws-sdk/client-sfn";
import { readExecutionHistory, MAX_HISTORY_EVENTS } from "../run/history.js";
import { foldHistory } from "../run/historyFold.js";
import type { RunTask, TaskRun } from "../run/types.js";

/** A few executions: enough for a median that one slow run does not move, cheap to read. */
export const LEARN_FROM_EXECUTIONS = 3;

export interface LearnedRuns {
  /** One list of Task runs per execution read, newest first. */
  executions: TaskRun[][];
  /** GetExecutionHistory pages and ListExecutions calls made. */
  calls: number;
}

export async function readSucceededRuns(
  sfn: SFNClient,
  stateMachineArn: string,
  tasks: readonly RunTask[],
  options: { executions?: number } = {},
): Promise<LearnedRuns> {
  const listed = await sfn.send(
    new ListExecutionsCommand({
      stateMachineArn,
      statusFilter: "SUCCEEDED",
      maxResults: options.executions ?? LEARN_FROM_EXECUTIONS,
    }),
  );
  let calls = 1;
  const newestFirst = [...(listed.executions ?? [])]
    .sort((a, b) => (b.startDate?.getTime() ?? 0) - (a.startDate?.getTime() ?? 0))
    .slice(0, options.executions ?? LEARN_FROM_EXECUTIONS);
  const executions: TaskRun[][] = [];
  for (const execution of newestFirst) {
    if (!execution.executionArn) continue;
    const events = await readExecutionHistory(sfn, execution.executionArn, {
      maxEvents: MAX_HISTORY_EVENTS + 5000,
      onPage: () => (calls += 1),
    });
    executions.push(foldHistory(events, tasks).runs());
  }
  return { executions, calls };
}
