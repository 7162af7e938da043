import { paginateGetExecutionHistory, type HistoryEvent, type SFNClient } from "@aws-sdk/client-sfn";
import { childExecutionArns, foldChildren } from "./historyChildren.js";
import { foldHistory, nodeStatusesOf, type ExecutionEvents } from "./historyFold.js";
import type { ExecutionStatus, NodeStatus, RunLocation, RunTask, TaskRun } from "./types.js";

/** Standard executions stop at 25,000 events; a little more tolerates a redriven execution's extra events. */
export const MAX_HISTORY_EVENTS = 25_000;
const PAGE_SIZE = 1000;

export interface ReadHistoryOptions {
  /** Stop paging after this many events (a safety net against a server that never ends). */
  maxEvents?: number;
  pageSize?: number;
  /** Called after each page, e.g. to log progress of a long read. */
  onPage?: (eventsSoFar: number) => void;
}

/**
 * Pages through GetExecutionHistory from the first event with the SDK's
 * paginator. A throttled page is retried by the client's own retry strategy
 * (adaptive, with backoff): no second loop stacked on it here.
 */
export async function readExecutionHistory(
  sfn: SFNClient,
  executionArn: string,
  options: ReadHistoryOptions = {},
): Promise<HistoryEvent[]> {
  const maxEvents = options.maxEvents ?? MAX_HISTORY_EVENTS + 5000;
  const events: HistoryEvent[] = [];
  const pages = paginateGetExecutionHistory(
    { client: sfn, pageSize: options.pageSize ?? PAGE_SIZE },
    { executionArn, includeExecutionData: true },
  );
  for await (const page of pages) {
    events.push(...(page.events ?? []));
    options.onPage?.(events.length);
    if (events.length >= maxEvents) break;
  }
  return events;
}

export interface ReadNodeStatusesOptions extends ReadHistoryOptions {
  location: RunLocation;
  /** The end DescribeExecution reported, used when the history does not show it. */
  settled?: { status: ExecutionStatus; stopMs: number | null };
}

export interface ExecutionHistory {
  /** One per Task, in the order given. */
  tasks: TaskRun[];
  /** One per Kedro node. */
  nodes: NodeStatus[];
  execution: ExecutionEvents;
  eventCount: number;
}

/** Reads the whole history and maps it to Tasks and Kedro nodes. */
export async function readNodeStatuses(
  sfn: SFNClient,
  executionArn: string,
  tasks: readonly RunTask[],
  options: ReadNodeStatusesOptions,
): Promise<ExecutionHistory> {
  const events = await readExecutionHistory(sfn, executionArn, options);
  const folder = foldHistory(events, tasks);
  if (options.settled) folder.settle(options.settled.status, options.settled.stopMs);
  let runs = folder.runs();
  let eventCount = events.length;
  // A split pipeline: the Tasks ran in the child executions the parent started.
  const children = childExecutionArns(events);
  if (children.length > 0) {
    const histories: HistoryEvent[][] = [];
    for (const child of children) histories.push(await readExecutionHistory(sfn, child, options));
    const folded = foldChildren(histories, tasks, folder.execution);
    runs = folded.runs;
    eventCount += histories.reduce((sum, h) => sum + h.length, 0);
    if (folded.error !== null) {
      folder.execution.error = folded.error;
      folder.execution.cause = folded.cause;
    }
  }
  return {
    tasks: runs,
    nodes: nodeStatusesOf(runs, options.location),
    execution: folder.execution,
    eventCount,
  };
}
