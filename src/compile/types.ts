/** What the compiler hands to plan/apply/run/report. */
export type Architecture = "x86_64" | "arm64";

/** Where a task's nodes run: a Lambda function, or an ECS Fargate task of the same image. */
export type Runner = "lambda" | "ecs";

/** Per-function Lambda settings. */
export interface FunctionSettings {
  memoryMb: number;
  timeoutSeconds: number;
  ephemeralStorageMb: number;
  architecture: Architecture;
  environment: Record<string, string>;
  /** Absent: Lambda. */
  runner?: Runner;
  /** Fargate CPU units (256 = 0.25 vCPU), ECS only; absent: the smallest that fits the memory. */
  cpu?: number;
}

/** One Lambda function = one Task state = one or more Kedro nodes. */
export interface FunctionSpec extends FunctionSettings {
  /** Lambda function name (<= 64, [A-Za-z0-9_-]); stable across deploys. */
  functionName: string;
  /** Task state name (<= 80, unique in the machine). */
  stateName: string;
  /** Kedro node names this task runs, in run order. */
  nodes: string[];
}

/** One Lambda Task state: the nodes it runs (its Payload.nodes) and the function it invokes. */
export interface LambdaTask {
  stateName: string;
  functionName: string;
  nodes: string[];
}

/** An Amazon States Language document (kept loose: it is plain JSON). */
export type AslDefinition = { StartAt: string; States: Record<string, AslState>; Comment?: string } & Record<
  string,
  unknown
>;
export type AslState = Record<string, unknown> & { Type: string };

export interface CompiledPipeline {
  /**
   * Task states name their function by `functionName` in Parameters.FunctionName;
   * `bindFunctionArns` swaps in (version) ARNs at deploy time.
   */
  definition: AslDefinition;
  /** Sorted by functionName. */
  functions: FunctionSpec[];
  warnings: string[];
  /**
   * With shared functions (`function-sharing: by-settings`): every Lambda Task state, each with
   * its own nodes, several naming one function of `functions`. Absent: one function per Task
   * (`functions` is the Task list). Read it through lambdaTasksOf.
   */
  tasks?: LambdaTask[];
  /** Tasks that run as ECS Fargate tasks instead of Lambda functions (src/compile/ecs.ts); absent: none. */
  ecsTasks?: EcsTaskSpec[];
  /** Groups merged to keep the task graph acyclic (reported to the user). */
  merges: { functionName: string; nodes: string[]; reason: string }[];
  /** How the structure was chosen and how close to Step Functions' limits it is. */
  report?: CompileReport;
  /**
   * Set when the pipeline is too big for one state machine: `definition` is then the parent,
   * whose Tasks start these (by name; deploy binds their published versions) and wait for them.
   */
  children?: ChildMachine[];
}

/** A part of a split pipeline: a state machine of its own, run by the parent. */
export interface ChildMachine {
  /** `<parent>-part-01`, ... */
  name: string;
  /** Lambda Tasks name their function by plain name, as in an unsplit definition. */
  definition: AslDefinition;
  /** The functions its Tasks invoke, in definition order. */
  functionNames: string[];
  /** As sent: bound to the longest version ARNs, escaped in the request. */
  definitionBytes: number;
  expectedHistoryEvents: number;
}

export interface CompileReport {
  /** "deployed": the structure of the deployed definition, kept (CompileOptions.keepStructure). */
  strategy: "exact" | "layered" | "known-durations" | "expected-durations" | "deployed";
  /** Run time estimates: seconds when durations were given, else in units of a typical task. */
  estimate: { ours: number; layered: number; criticalPath: number };
  definitionBytes: number;
  expectedHistoryEvents: number;
}

/** One Task state run as an ECS Fargate task of the pipeline's task definition. */
export interface EcsTaskSpec {
  /** Task definition family (one per state machine); the definition names it until bound. */
  family: string;
  /** The name the task would have as a function: stable across deploys, names its log stream. */
  taskName: string;
  stateName: string;
  nodes: string[];
  /** Fargate CPU units and memory (MB): a valid Fargate pair. */
  cpu: number;
  memoryMb: number;
  timeoutSeconds: number;
  architecture: Architecture;
  environment: Record<string, string>;
}
