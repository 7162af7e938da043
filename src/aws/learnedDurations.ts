/**
 * Reads what the learned durations come from: the state machine's last few
 * successful executions and their histories. Reads only (plan mode runs
 * behind the read-only guard), bounded: one ListExecutions page of at most
 * `executions`, then one paged GetExecutionHistory each, capped in events.
 * A split pipeline's parent runs no Lambda Task: its history names the child
 * executions it started for that run, whose histories hold the Tasks; they are
 * read too, within a call budget (an execution is read whole or not at all).
 */
import { ListExecutionsCommand, type SFNClient } from "@aws-sdk/client-sfn";
import { readExecutionHistory, MAX_HISTORY_EVENTS } from "../run/history.js";
import { childExecutionArns, foldChildren } from "../run/historyChildren.js";
import { foldHistory } from "../run/historyFold.js";
import type { RunTask, TaskRun } from "../run/types.js";

/** A few executions: enough for a median that one slow run does not move, cheap to read. */
export const LEARN_FROM_EXECUTIONS = 3;
/**
 * Calls made at most before a split pipeline's next run is read (ListExecutions and history pages
 * counted): 8 children cost 1 + 3 x 9 = 28 for three runs; a pipeline of more parts learns from
 * fewer runs. A one-machine pipeline reads its three histories whole, as before.
 */
export const LEARN_CALL_BUDGET = 40;

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
  options: { executions?: number; maxCalls?: number } = {},
): Promise<LearnedRuns> {
  const budget = options.maxCalls ?? LEARN_CALL_BUDGET;
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
  const read = (arn: string) =>
    readExecutionHistory(sfn, arn, { maxEvents: MAX_HISTORY_EVENTS + 5000, onPage: () => (calls += 1) });
  for (const execution of newestFirst) {
    if (!execution.executionArn) continue;
    const events = await read(execution.executionArn);
    const parent = foldHistory(events, tasks);
    const children = childExecutionArns(events);
    if (children.length === 0) {
      executions.push(parent.runs());
      continue;
    }
    // One page per child at least: stop before a run that would not fit (a part-read run
    // would teach only some nodes' times, from fewer runs than the others').
    if (calls + children.length > budget) break;
    const histories = [];
    for (const child of children) histories.push(await read(child));
    executions.push(foldChildren(histories, tasks, parent.execution).runs);
  }
  return { executions, calls };
}
