import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type DescribeExecutionOutput,
  type HistoryEvent,
  type SFNClient,
} from "@aws-sdk/client-sfn";
import { UserError, errorMessage } from "../errors.js";
import { logName } from "../report/escape.js";
import { formatDuration } from "./duration.js";
import { HistoryFolder } from "./historyFold.js";
import { executionConsoleUrl } from "./links.js";
import { errorName, isThrottling, isTransient } from "./retry.js";
import type { ExecutionStatus, NodeState, RunTask, TaskRun } from "./types.js";

export const TERMINAL: ReadonlySet<ExecutionStatus> = new Set([
  "SUCCEEDED",
  "FAILED",
  "TIMED_OUT",
  "ABORTED",
]);

export interface WaitOptions {
  /** Stop waiting (the execution goes on) after this long. */
  timeoutMs: number;
  sleep: (ms: number) => Promise<void>;
  /** Epoch ms. */
  now: () => number;
  log: (line: string) => void;
  /** When given, the history is followed and a line is logged as each Task finishes. */
  tasks?: readonly RunTask[];
  /** First poll interval; it grows by half each quiet poll up to maxPollMs. */
  pollMs?: number;
  maxPollMs?: number;
  /** A "still running" line after this long without any other line. */
  heartbeatMs?: number;
}

export interface WaitResult {
  /** The last status seen: RUNNING when the wait timed out. */
  status: ExecutionStatus;
  /** The last DescribeExecution answer. */
  description: DescribeExecutionOutput;
  waitTimedOut: boolean;
  polls: number;
  /** How many polls were throttled. */
  throttled: number;
}

const MAX_CONSECUTIVE_ERRORS = 5;
const MAX_THROTTLED_POLL_MS = 60_000;

/**
 * Polls DescribeExecution with backoff until the execution ends or the timeout
 * passes. Throttling and passing server errors slow the polling down instead of
 * failing the step; the execution itself is never stopped.
 */
export async function waitForExecution(
  sfn: SFNClient,
  executionArn: string,
  options: WaitOptions,
): Promise<WaitResult> {
  const { now, sleep, log } = options;
  const minPoll = options.pollMs ?? 2000;
  const maxPoll = options.maxPollMs ?? 20_000;
  const heartbeatMs = options.heartbeatMs ?? 5 * 60_000;
  const startedAt = now();
  const deadline = startedAt + options.timeoutMs;
  const progress = options.tasks ? new ProgressLog(sfn, executionArn, options.tasks, log) : undefined;

  let interval = minPoll;
  let polls = 0;
  let throttled = 0;
  let throttleStreak = 0;
  let errorStreak = 0;
  let lastLineAt = startedAt;
  let description: DescribeExecutionOutput | undefined;
  const say = (line: string): void => {
    lastLineAt = now();
    log(line);
  };

  for (;;) {
    polls++;
    let progressed = false;
    let answered = false;
    try {
      description = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      answered = true;
      if (throttleStreak > 0) {
        say(`DescribeExecution answers again after ${throttleStreak} throttled poll(s).`);
      }
      throttleStreak = 0;
      errorStreak = 0;
    } catch (error) {
      if (errorName(error) === "ExecutionDoesNotExist") {
        throw new UserError(`Execution ${executionArn} does not exist any more: ${errorMessage(error)}`, {
          hint: "Was the state machine deleted while the step waited?",
          cause: error,
        });
      }
      if (isThrottling(error)) {
        throttled++;
        throttleStreak++;
        interval = Math.min(MAX_THROTTLED_POLL_MS, Math.max(interval, minPoll) * 2);
        if (throttleStreak === 1) {
          say(
            `DescribeExecution is throttled (${errorName(error)}); polling every ${formatDuration(interval)} for now.`,
          );
        }
      } else if (isTransient(error) && ++errorStreak < MAX_CONSECUTIVE_ERRORS) {
        say(`DescribeExecution failed (${errorMessage(error)}); trying again.`);
      } else {
        throw new Error(`Could not read the status of ${executionArn}: ${errorMessage(error)}`, {
          cause: error,
        });
      }
    }

    const status: ExecutionStatus = description?.status ?? "RUNNING";
    if (description && progress && answered) {
      const end = TERMINAL.has(status)
        ? { status, stopMs: description.stopDate?.getTime() ?? now() }
        : undefined;
      const lines = await progress.follow(end);
      for (const line of lines) say(line);
      progressed = lines.length > 0;
    }
    if (description && TERMINAL.has(status)) {
      return { status, description, waitTimedOut: false, polls, throttled };
    }

    const remaining = deadline - now();
    if (remaining <= 0) {
      say(
        `Stopped waiting after ${formatDuration(options.timeoutMs)} ('execution-timeout-minutes'): the execution is ` +
          `still ${status} and goes on without this step. Follow it at ${executionConsoleUrl(executionArn)}`,
      );
      return {
        status,
        description: description ?? {
          executionArn,
          stateMachineArn: undefined,
          status: "RUNNING",
          startDate: undefined,
        },
        waitTimedOut: true,
        polls,
        throttled,
      };
    }
    if (now() - lastLineAt >= heartbeatMs) {
      say(
        `… still ${status} after ${formatDuration(now() - startedAt)}${progress ? `: ${progress.tally()}` : ""}.`,
      );
    }
    if (progressed) interval = minPoll;
    await sleep(Math.min(interval, remaining));
    if (throttleStreak === 0) interval = Math.min(maxPoll, Math.round(interval * 1.5));
  }
}

/** Follows the history while waiting and turns Task changes into log lines. */
class ProgressLog {
  private readonly folder: HistoryFolder;
  private readonly reported = new Map<string, { status: NodeState; attempts: number }>();
  private historyBroken = false;
  private done = 0;

  constructor(
    private readonly sfn: SFNClient,
    private readonly executionArn: string,
    private readonly tasks: readonly RunTask[],
    private readonly warn: (line: string) => void,
  ) {
    this.folder = new HistoryFolder(tasks);
  }

  /** Folds the new events; `end` is the execution's end when DescribeExecution reported one. */
  async follow(end?: { status: ExecutionStatus; stopMs: number }): Promise<string[]> {
    try {
      for (const event of await this.newEvents()) this.folder.add(event);
      if (end) this.folder.settle(end.status, end.stopMs);
      this.historyBroken = false;
    } catch (error) {
      // Progress lines are a courtesy: a throttled history read only delays them.
      if (!this.historyBroken && !isThrottling(error)) {
        this.warn(
          `Could not read the execution history for progress (${errorMessage(error)}); still waiting.`,
        );
      }
      this.historyBroken = true;
      return [];
    }
    const lines: string[] = [];
    const finished: TaskRun[] = [];
    for (const run of this.folder.runs()) {
      const before = this.reported.get(run.stateName) ?? { status: "not-started", attempts: 0 };
      if (run.attempts > before.attempts && run.attempts > 1 && run.status === "running") {
        lines.push(
          `↻ ${label(run)}: attempt ${run.attempts}${run.error ? ` after ${logName(run.error.type)}: ${firstLine(run.error.message)}` : ""}`,
        );
      }
      if (run.status !== before.status && isDone(run.status)) finished.push(run);
      this.reported.set(run.stateName, { status: run.status, attempts: run.attempts });
    }
    // Several Tasks may end between two polls: number them in the order they ended.
    finished.sort((a, b) => (a.endMs ?? 0) - (b.endMs ?? 0));
    for (const run of finished) lines.push(this.finishedLine(run, ++this.done));
    return lines;
  }

  tally(): string {
    const runs = this.folder.runs();
    const done = runs.filter((r) => isDone(r.status)).length;
    const running = runs.filter((r) => r.status === "running").length;
    return `${done}/${runs.length} tasks done, ${running} running`;
  }

  private finishedLine(run: TaskRun, done: number): string {
    const took =
      run.startMs !== null && run.endMs !== null ? ` in ${formatDuration(run.endMs - run.startMs)}` : "";
    const attempts = run.attempts > 1 ? ` after ${run.attempts} attempts` : "";
    const head = `[${done}/${this.tasks.length}]`;
    switch (run.status) {
      case "succeeded":
      case "retried":
        return `${head} ✓ ${label(run)} succeeded${took}${attempts}`;
      case "failed":
      case "timed-out": {
        const why = run.error ? `: ${logName(run.error.type)}: ${firstLine(run.error.message)}` : "";
        return `${head} ✗ ${label(run)} ${run.status === "failed" ? "failed" : "timed out"}${took}${attempts}${why}`;
      }
      default:
        return `${head} ■ ${label(run)} ${run.status}${took}`;
    }
  }

  /**
   * Newest events first until one already folded: one call per poll once caught
   * up. A page that comes back oldest first (moto answers reverseOrder that way
   * on every other call) is read to the end instead.
   */
  private async newEvents(): Promise<HistoryEvent[]> {
    const seen = this.folder.lastEventId;
    const fresh: HistoryEvent[] = [];
    let nextToken: string | undefined;
    let reachedSeen = false;
    do {
      const page = await this.sfn.send(
        new GetExecutionHistoryCommand({
          executionArn: this.executionArn,
          reverseOrder: true,
          maxResults: 200,
          includeExecutionData: true,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      const events = page.events ?? [];
      const newestFirst = (events[0]?.id ?? 0) >= (events.at(-1)?.id ?? 0);
      for (const event of events) {
        if ((event.id ?? 0) > seen) fresh.push(event);
        else if (newestFirst) reachedSeen = true;
      }
      nextToken = page.nextToken;
    } while (!reachedSeen && nextToken);
    return fresh.sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
  }
}

function isDone(status: NodeState): boolean {
  return status !== "running" && status !== "not-started";
}

/** Names from the project, each kept on the progress line (a namespace may hold a newline). */
function label(run: TaskRun): string {
  if (run.nodes.length === 1) return logName(run.nodes[0] as string);
  const some = run.nodes.slice(0, 3).map(logName).join(", ");
  return `${logName(run.stateName)} (${run.nodes.length} nodes: ${some}${run.nodes.length > 3 ? ", …" : ""})`;
}

function firstLine(text: string): string {
  const line = logName(text.split(/\r\n|\r|\n/, 1)[0] ?? "");
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
