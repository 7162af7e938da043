import { resolve } from "node:path";
import { Input } from "./constants.js";
import { UserError } from "./errors.js";
import type { Structure } from "./compile/structure.js";
import { parseFunctionSharing, type FunctionSharing } from "./compile/sharing.js";
import type { Architecture, Runner } from "./compile/types.js";
import type { GroupBy } from "./graph/grouping.js";
import type { ImageBuilderName as Builder } from "./image/options.js";
import { validateStateMachineName } from "./plan/desired.js";
import { checkScheduleExpression, checkTimeZone } from "./plan/schedule.js";
import type { LogLevel } from "./plan/types.js";

// Each union is declared once, where its values mean something; options re-exports them for the entry points.
export type { Architecture, Builder, GroupBy, LogLevel, Structure };
export type Mode = "auto" | "plan" | "deploy";
/** What `auto` becomes once the event is known. */
export type JobMode = Exclude<Mode, "auto">;
export type CommentOnPr = "true" | "changes-only" | "false";

/** Every setting of a run, parsed once from action inputs or CLI flags. */
export interface Options {
  projectPath: string;
  pipeline: string;
  kedroEnv: string;
  python: string;
  mode: Mode;
  stateMachineName: string;
  functionPrefix: string;
  groupBy: GroupBy[];
  structure: Structure;
  durationsFile: string;
  functionConfigFile: string;
  memoryMb: number;
  timeoutSeconds: number;
  ephemeralStorageMb: number;
  architecture: Architecture;
  ecrRepository: string;
  registry: string;
  builder: Builder;
  baseImage: string;
  dockerfile: string;
  /** The project's requirements or lock file for the image; "" = the first default found. */
  requirements: string;
  confSource: string;
  /** s3://bucket/prefix for run-scoped data between tasks; "" = none (every crossing dataset must be persisted in the catalog). */
  dataLocation: string;
  keepImages: number;
  /** State machine versions kept after a cutover (Step Functions allows 1,000); older ones and unused function versions are deleted. */
  keepVersions: number;
  lambdaRoleArn: string;
  stateMachineRoleArn: string;
  prune: boolean;
  logLevel: LogLevel;
  logGroupArn: string;
  tracing: boolean;
  startExecution: boolean;
  executionInput: string;
  waitForExecution: boolean;
  executionTimeoutMinutes: number;
  failOnExecutionFailure: boolean;
  commentOnPr: CommentOnPr;
  githubToken: string;
  label: string;
  requireReviewedPlan: boolean;
  /** Deploy what imported when find_pipelines() skipped a pipeline module that raised. */
  allowPipelineImportErrors: boolean;
  summaryFile: string;
  /** ARN of a failed execution to resume (src/run/resume.ts); "" = deploy as usual. */
  resumeExecution: string;
  /** `rollback-to`: "" (deploy as usual), `previous` or a version number; parsed by src/ops/rollback.ts. */
  rollbackTo: string;
  /** Where nodes run unless sfn.yml routes them (`runner:`). */
  defaultRunner: Runner;
  /** ECS Fargate tasks (nodes with runner ecs): cluster, network and roles; checked by checkInputs. */
  ecsCluster: string;
  ecsSubnets: string[];
  ecsSecurityGroups: string[];
  ecsAssignPublicIp: boolean;
  ecsExecutionRoleArn: string;
  ecsTaskRoleArn: string;
  /** Compile with durations learned from the deployed state machine's past executions. */
  learnDurations: boolean;
  /** EventBridge Scheduler schedule (src/plan/schedulePlan.ts): `cron(...)`/`rate(...)`, "" = none. */
  schedule: string;
  scheduleTimezone: string;
  /** JSON object, the scheduled executions' input. */
  scheduleInput: string;
  schedulerRoleArn: string;
  /** `function-sharing`: "" = sfn.yml's `functions.sharing`, else per-node (src/compile/sharing.ts). */
  functionSharing: FunctionSharing | "";
}

/** Reads one raw input by name; "" when not given. */
export type InputReader = (name: Input) => string;

const DEFAULTS: Partial<Record<Input, string>> = {
  [Input.ProjectPath]: ".",
  [Input.Pipeline]: "__default__",
  [Input.KedroEnv]: "aws",
  [Input.Python]: "python3",
  [Input.Mode]: "auto",
  [Input.GroupBy]: "none",
  [Input.Structure]: "dag",
  [Input.MemorySize]: "1024",
  [Input.Timeout]: "900",
  [Input.EphemeralStorage]: "512",
  [Input.Architecture]: "x86_64",
  [Input.Builder]: "docker",
  [Input.BaseImage]: "public.ecr.aws/lambda/python:3.12",
  [Input.ConfSource]: "image",
  [Input.KeepImages]: "30",
  [Input.KeepVersions]: "10",
  [Input.Prune]: "false",
  [Input.LogLevel]: "OFF",
  [Input.Tracing]: "false",
  [Input.StartExecution]: "false",
  [Input.ExecutionInput]: "{}",
  [Input.WaitForExecution]: "true",
  [Input.ExecutionTimeoutMinutes]: "60",
  [Input.FailOnExecutionFailure]: "true",
  [Input.CommentOnPr]: "true",
  [Input.RequireReviewedPlan]: "false",
  [Input.AllowPipelineImportErrors]: "false",
  [Input.DefaultRunner]: "lambda",
  [Input.EcsAssignPublicIp]: "false",
  [Input.LearnDurations]: "true",
  [Input.ScheduleTimezone]: "UTC",
  [Input.ScheduleInput]: "{}",
};

/**
 * keep-images and keep-versions together: kept versions' images are shielded from the lifecycle
 * policy but may still fill its count, and then a freshly pushed image, not yet tagged as kept,
 * could be the one it expires. Room for every kept version's image avoids that.
 */
function parseRetention(get: (name: Input) => string): { keepImages: number; keepVersions: number } {
  const keepImages = parseInteger(Input.KeepImages, get(Input.KeepImages), 1, 10000);
  const keepVersions = parseInteger(Input.KeepVersions, get(Input.KeepVersions), 1, 1000);
  if (keepImages < keepVersions) {
    throw new UserError(
      `Input '${Input.KeepImages}' (${keepImages}) must be at least '${Input.KeepVersions}' (${keepVersions}): every kept state machine version may run its own image.`,
      { hint: `Raise ${Input.KeepImages} to ${keepVersions} or more, or lower ${Input.KeepVersions}.` },
    );
  }
  return { keepImages, keepVersions };
}

/** Parses and validates every input; each error names the input at fault. */
export function parseOptions(read: InputReader): Options {
  const get = (name: Input): string => read(name).trim() || DEFAULTS[name] || "";
  const stateMachineName = get(Input.StateMachineName);
  if (stateMachineName) validateStateMachineName(stateMachineName);
  return {
    projectPath: get(Input.ProjectPath),
    pipeline: get(Input.Pipeline),
    kedroEnv: get(Input.KedroEnv),
    // A relative interpreter path means the workspace's: stages run Python inside the project folder.
    python: get(Input.Python).includes("/") ? resolve(get(Input.Python)) : get(Input.Python),
    mode: parseChoice(Input.Mode, get(Input.Mode), ["auto", "plan", "deploy"] as const),
    stateMachineName,
    functionPrefix: get(Input.FunctionPrefix) || stateMachineName,
    groupBy: parseGroupBy(get(Input.GroupBy)),
    structure: parseChoice(Input.Structure, get(Input.Structure), ["dag", "layered"] as const),
    durationsFile: get(Input.Durations),
    functionConfigFile: get(Input.FunctionConfig),
    memoryMb: parseInteger(Input.MemorySize, get(Input.MemorySize), 128, 10240),
    timeoutSeconds: parseInteger(Input.Timeout, get(Input.Timeout), 1, 900),
    ephemeralStorageMb: parseInteger(Input.EphemeralStorage, get(Input.EphemeralStorage), 512, 10240),
    architecture: parseChoice(Input.Architecture, get(Input.Architecture), ["x86_64", "arm64"] as const),
    ecrRepository: get(Input.EcrRepository),
    registry: get(Input.Registry),
    builder: parseChoice(Input.Builder, get(Input.Builder), ["docker", "buildah"] as const),
    baseImage: get(Input.BaseImage),
    dockerfile: get(Input.Dockerfile),
    requirements: get(Input.Requirements),
    confSource: parseConfSource(get(Input.ConfSource)),
    dataLocation: parseDataLocation(get(Input.DataLocation)),
    ...parseRetention(get),
    lambdaRoleArn: get(Input.LambdaRoleArn),
    stateMachineRoleArn: get(Input.StateMachineRoleArn),
    prune: parseBoolean(Input.Prune, get(Input.Prune)),
    logLevel: parseChoice(Input.LogLevel, get(Input.LogLevel).toUpperCase(), [
      "OFF",
      "ALL",
      "ERROR",
      "FATAL",
    ] as const),
    logGroupArn: get(Input.LogGroupArn),
    tracing: parseBoolean(Input.Tracing, get(Input.Tracing)),
    startExecution: parseBoolean(Input.StartExecution, get(Input.StartExecution)),
    executionInput: parseJsonObject(Input.ExecutionInput, get(Input.ExecutionInput)),
    waitForExecution: parseBoolean(Input.WaitForExecution, get(Input.WaitForExecution)),
    executionTimeoutMinutes: parseInteger(
      Input.ExecutionTimeoutMinutes,
      get(Input.ExecutionTimeoutMinutes),
      1,
      525600,
    ),
    failOnExecutionFailure: parseBoolean(Input.FailOnExecutionFailure, get(Input.FailOnExecutionFailure)),
    commentOnPr: parseChoice(Input.CommentOnPr, get(Input.CommentOnPr), [
      "true",
      "changes-only",
      "false",
    ] as const),
    githubToken: get(Input.GithubToken),
    label: get(Input.Label),
    requireReviewedPlan: parseBoolean(Input.RequireReviewedPlan, get(Input.RequireReviewedPlan)),
    allowPipelineImportErrors: parseBoolean(
      Input.AllowPipelineImportErrors,
      get(Input.AllowPipelineImportErrors),
    ),
    summaryFile: get(Input.SummaryFile),
    resumeExecution: get(Input.ResumeExecution),
    rollbackTo: get(Input.RollbackTo),
    defaultRunner: parseChoice(Input.DefaultRunner, get(Input.DefaultRunner), ["lambda", "ecs"] as const),
    ecsCluster: get(Input.EcsCluster),
    ecsSubnets: parseList(get(Input.EcsSubnets)),
    ecsSecurityGroups: parseList(get(Input.EcsSecurityGroups)),
    ecsAssignPublicIp: parseBoolean(Input.EcsAssignPublicIp, get(Input.EcsAssignPublicIp)),
    ecsExecutionRoleArn: get(Input.EcsExecutionRoleArn),
    ecsTaskRoleArn: get(Input.EcsTaskRoleArn),
    learnDurations: parseBoolean(Input.LearnDurations, get(Input.LearnDurations)),
    ...parseSchedule(get),
    functionSharing: get(Input.FunctionSharing)
      ? parseFunctionSharing(get(Input.FunctionSharing), `Input '${Input.FunctionSharing}'`)
      : "",
  };
}

/** The schedule inputs, checked before any AWS call (the role ARN with the other roles, in checkInputs). */
function parseSchedule(
  get: (name: Input) => string,
): Pick<Options, "schedule" | "scheduleTimezone" | "scheduleInput" | "schedulerRoleArn"> {
  const schedule = get(Input.Schedule);
  const scheduleTimezone = get(Input.ScheduleTimezone);
  for (const [input, check] of [
    [Input.Schedule, schedule ? checkScheduleExpression(schedule) : null],
    [Input.ScheduleTimezone, checkTimeZone(scheduleTimezone)],
  ] as const) {
    if (check && !check.ok) throw new UserError(`Input '${input}': ${check.problem}`, { hint: check.hint });
  }
  return {
    schedule,
    scheduleTimezone,
    scheduleInput: parseJsonObject(Input.ScheduleInput, get(Input.ScheduleInput)),
    schedulerRoleArn: get(Input.SchedulerRoleArn),
  };
}

/** "a, b c" -> ["a", "b", "c"]. */
function parseList(value: string): string[] {
  return value.split(/[\s,]+/).filter((part) => part !== "");
}

/** Fails with the name of the first missing input. */
export function requireInputs(options: Options, needed: [Input, keyof Options][], why: string): void {
  for (const [input, key] of needed) {
    if (options[key] === "") {
      throw new UserError(`Input '${input}' is required ${why}.`, {
        hint: `Set '${input}' in the step's 'with:' block (or --${input} on the command line).`,
      });
    }
  }
}

/** The YAML 1.2 core schema booleans, as @actions/core's getBooleanInput accepts them. */
export function parseBoolean(name: string, value: string): boolean {
  if (["true", "True", "TRUE"].includes(value)) return true;
  if (["false", "False", "FALSE"].includes(value)) return false;
  throw new UserError(`Input '${name}' must be true or false, got '${value}'.`);
}

export function parseInteger(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value)) throw new UserError(`Input '${name}' must be a whole number, got '${value}'.`);
  const n = Number(value);
  if (n < min || n > max) {
    throw new UserError(`Input '${name}' must be between ${min} and ${max}, got ${n}.`);
  }
  return n;
}

export function parseChoice<T extends string>(name: string, value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new UserError(`Input '${name}' must be one of ${choices.join(", ")}; got '${value}'.`);
}

function parseGroupBy(value: string): GroupBy[] {
  const parts = value
    .split(/[\s,]+/)
    .map((p) => p.trim())
    .filter((p) => p !== "");
  if (parts.length === 1 && parts[0] === "none") return [];
  const groups = parts.map((p) => parseChoice(Input.GroupBy, p, ["namespace", "memory"] as const));
  return [...new Set(groups)].sort();
}

/** Keeps the text (it is sent to AWS as is) after checking it is a JSON object with object `params`. */
function parseJsonObject(name: string, value: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new UserError(`Input '${name}' is not valid JSON: ${(error as Error).message}.`, {
      hint: `Example: ${name}: '{"params": {"model_options.test_size": 0.3}}'`,
    });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UserError(`Input '${name}' must be a JSON object, got ${JSON.stringify(parsed)}.`);
  }
  const params = (parsed as Record<string, unknown>)["params"];
  if (params !== undefined && (typeof params !== "object" || params === null || Array.isArray(params))) {
    throw new UserError(`Input '${name}': "params" must be an object of runtime parameters.`);
  }
  return value;
}

/** "image" copies conf/ into the image; an s3:// URL is where deploy uploads it for the Lambdas to read. */
function parseConfSource(value: string): string {
  // It reaches the image's Dockerfile and the Lambda environment: one line, no spaces.
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(value)) {
    throw new UserError(
      `Input '${Input.ConfSource}' must not contain whitespace or control characters; got ${JSON.stringify(value)}.`,
      { hint: `Give 'image' or one s3:// URL, e.g. ${Input.ConfSource}: s3://my-bucket/kedro-conf` },
    );
  }
  if (value === "image" || value.startsWith("s3://")) return value;
  throw new UserError(`Input '${Input.ConfSource}' must be 'image' or an s3:// URL; got '${value}'.`);
}

/** "" or s3://bucket[/prefix], kept without a trailing slash: keys are joined below it. */
function parseDataLocation(value: string): string {
  if (value === "") return "";
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/[^\s]*)?$/.exec(value);
  if (!match) {
    throw new UserError(
      `Input '${Input.DataLocation}' must be an s3:// URL (s3://bucket/prefix); got '${value}'.`,
      {
        hint: `Example: ${Input.DataLocation}: s3://my-bucket/kedro-runs`,
      },
    );
  }
  return value.replace(/\/+$/, "");
}
