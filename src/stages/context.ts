import { setTimeout as sleep } from "node:timers/promises";
import { createAwsClients, readOnlyGuard, type AwsClientOptions, type AwsClients } from "../aws/clients.js";
import type { Output } from "../constants.js";
import { createGitHubClient, type Octokit } from "../github/client.js";
import { readEventContext, type EventContext } from "../github/context.js";
import type { JobMode, Options } from "../options.js";

/** Where the job talks to the world: @actions/core in the action, the terminal in the CLI. */
export interface JobIO {
  info(line: string): void;
  /** Detail a reader opens only when something went wrong (every build line); hidden unless step debug is on. */
  debug(line: string): void;
  warning(message: string, where?: Annotation): void;
  error(message: string, where?: Annotation): void;
  /** A foldable section of the log (core.group); the CLI prints a header. */
  group<T>(name: string, work: () => Promise<T>): Promise<T>;
  setOutput(name: Output, value: string): void;
  setSecret(secret: string): void;
}

/** Where a finding points; GitHub shows it on that line of the file. */
export interface Annotation {
  title?: string;
  file?: string;
  startLine?: number;
}

/** Seconds per stage, in the order they ran. */
export type Timings = [string, number][];

/** What every stage shares, made once by runJob: no stage reads process.env or makes its own clients. */
export interface JobContext {
  options: Options;
  io: JobIO;
  /** The GitHub event, read (and checked) before any project code runs. */
  event: EventContext;
  mode: JobMode;
  /** Null without `github-token`. */
  octokit: Octokit | null;
  /** AWS clients, made on first use and shared; the job destroys them when it ends. */
  aws: AwsConnection;
  timings: Timings;
  /** Warnings worth a line in the job summary too (see `warn`). */
  warnings: string[];
  clock: { now: () => number; sleep: (ms: number) => Promise<void> };
}

export interface AwsConnection {
  clients(): Promise<AwsClients>;
  destroy(): void;
}

type Env = Record<string, string | undefined>;

/** The one place the job reads the environment: the event, the run ids. */
export function createJobContext(
  options: Options,
  io: JobIO,
  mode: JobContext["mode"],
  env: Env,
  connect: (options: AwsClientOptions) => Promise<AwsClients> = createAwsClients,
): JobContext {
  const event = readEventContext(env);
  return {
    options,
    io,
    event,
    mode,
    octokit: createGitHubClient(options.githubToken, event.apiUrl),
    aws: lazyAws(() => connect(awsOptionsFor(mode))),
    timings: [],
    warnings: [],
    clock: { now: Date.now, sleep: (ms) => sleep(ms) },
  };
}

/**
 * Plan mode imports the pull request's code and must never write: its clients refuse every write
 * before it is sent, whatever the credentials allow (the plan role allows none, docs/iam/).
 */
export function awsOptionsFor(mode: JobMode): AwsClientOptions {
  return mode === "plan" ? { recorders: [readOnlyGuard] } : {};
}

/** Clients made at most once, on first use: plan mode without credentials never makes them. */
function lazyAws(connect: () => Promise<AwsClients>): AwsConnection {
  let made: Promise<AwsClients> | undefined;
  let ready: AwsClients | undefined;
  return {
    clients: () => (made ??= connect().then((clients) => (ready = clients))),
    destroy: () => ready?.destroy(),
  };
}

/** Runs `work` in a foldable log group and records how long it took under `stage`. */
export async function stage<T>(
  ctx: Pick<JobContext, "io" | "timings">,
  name: string,
  work: () => Promise<T> | T,
): Promise<T> {
  const started = performance.now();
  try {
    return await ctx.io.group(name, async () => await work());
  } catch (error) {
    // The innermost stage names the failure (`failure-reason`).
    if (typeof error === "object" && error !== null && !failedStages.has(error))
      failedStages.set(error, name);
    throw error;
  } finally {
    ctx.timings.push([name, (performance.now() - started) / 1000]);
  }
}

const failedStages = new WeakMap<object, string>();

/** The stage a thrown error escaped from, when it came through `stage()`. */
export function stageOfError(error: unknown): string | undefined {
  return typeof error === "object" && error !== null ? failedStages.get(error) : undefined;
}

/** A warning annotation that the job summary lists as well. */
export function warn(ctx: Pick<JobContext, "io" | "warnings">, message: string): void {
  ctx.io.warning(message);
  ctx.warnings.push(message);
}

export function renderTimings(timings: Timings): string {
  return timings.map(([name, seconds]) => `${name} ${seconds.toFixed(1)}s`).join(", ");
}

export function setOutputs(io: JobIO, outputs: Record<string, string> | Iterable<[string, string]>): void {
  const entries = Symbol.iterator in outputs ? outputs : Object.entries(outputs);
  for (const [name, value] of entries) io.setOutput(name as Output, value);
}
