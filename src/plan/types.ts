import type { AslDefinition, CompiledPipeline } from "../compile/types.js";

export const PLAN_SCHEMA = "kedro-sfn/plan@1";

export type LogLevel = "ALL" | "ERROR" | "FATAL" | "OFF";

export interface LoggingSettings {
  level: LogLevel;
  /** CloudWatch Logs group ARN; required unless level is OFF. */
  logGroupArn?: string;
  includeExecutionData?: boolean;
}

/** Everything a deploy converges AWS to. */
export interface DesiredDeployment {
  stateMachineName: string;
  compiled: CompiledPipeline;
  /** Pinned by digest: `<registry>/<repo>@sha256:<hex>`. */
  imageUri: string;
  lambdaRoleArn: string;
  stateMachineRoleArn: string;
  /** User tags, put on every function and the state machine next to the `kedro-sfn:*` ones. */
  tags: Record<string, string>;
  /** Goes into version descriptions and the state machine's commit tag; never into hashes. */
  commitSha: string;
  logging?: LoggingSettings;
  tracing: boolean;
  project: string;
}

/** What `kedro-sfn` writes into a function's Description, read back from ListFunctions. */
export interface FunctionMarker {
  stateMachine: string;
  /** Hash of the function's configuration (role, memory, timeout, storage, environment, nodes). */
  config: string;
  /** Hash of the function's tags. */
  tags: string;
}

/** One function as a list call shows it. */
export interface DeployedFunction {
  functionName: string;
  /** Unqualified ARN. */
  functionArn: string;
  revisionId: string | null;
  marker: FunctionMarker | null;
  codeSha256: string;
  architecture: string | null;
  memoryMb: number | null;
  timeoutSeconds: number | null;
  ephemeralStorageMb: number | null;
  environment: Record<string, string>;
  role: string | null;
}

/** A desired function name already taken by something this state machine does not own. */
export interface ForeignFunction {
  functionName: string;
  /** Value of its `kedro-sfn:state-machine` tag; null when it has none. */
  owner: string | null;
}

/** A Task of the deployed definition: which function version it invokes, built from which spec. */
export interface BoundTask {
  functionName: string;
  /** Qualified ARN as written in the definition. */
  versionArn: string;
  /** Spec hash recorded next to the task when it was bound; null if absent. */
  specHash: string | null;
  nodes: string[];
}

export interface DeployedLogging {
  level: LogLevel;
  logGroupArn: string | null;
  includeExecutionData: boolean;
}

export interface DeployedStateMachine {
  arn: string;
  name: string;
  definition: AslDefinition;
  roleArn: string;
  logging: DeployedLogging;
  tracing: boolean;
  tags: Record<string, string>;
  /** By function name. */
  tasks: Record<string, BoundTask>;
}

export interface DeployedState {
  region: string;
  stateMachine: DeployedStateMachine | null;
  /** Functions marked as managed for this state machine, sorted by name. */
  functions: DeployedFunction[];
  foreign: ForeignFunction[];
}

/** The vocabulary; `steps` says what exactly an update does. */
export type FunctionAction = "create" | "update-code" | "update-config" | "noop" | "delete";
export type FunctionStep = "create" | "code" | "tags" | "config" | "publish" | "delete";
export type StateMachineAction = "create" | "update" | "noop";

export interface FieldChange {
  field: string;
  before: string | number | boolean | null;
  after: string | number | boolean | null;
}

export interface FunctionPlan {
  functionName: string;
  action: FunctionAction;
  /** AWS calls the apply makes, in order (waits not counted). */
  steps: FunctionStep[];
  /** Task state name; null for a delete. */
  stateName: string | null;
  nodes: string[];
  changes: FieldChange[];
  /** Desired spec hash; null for a delete. */
  specHash: string | null;
  /** Unqualified ARN of the existing function; null for a create. */
  functionArn: string | null;
  /** Version the state machine invokes now, reused when nothing changes. */
  currentVersionArn: string | null;
  /** Optimistic lock from the listing; left out of the plan hash. */
  revisionId: string | null;
}

export interface DefinitionChange {
  /** JSON Pointer into the definition, e.g. `/States/train/Next`. */
  path: string;
  kind: "added" | "removed" | "changed";
  before?: unknown;
  after?: unknown;
}

export interface StateMachinePlan {
  name: string;
  arn: string | null;
  action: StateMachineAction;
  /** `update` publishes a new version; `tags` alone only retags. */
  steps: ("create" | "update" | "tags")[];
  /** The version the last deploy published (from the state machine's tag), if known. */
  currentVersionArn: string | null;
  /** Role, logging, tracing, tags. */
  changes: FieldChange[];
  /** Function ARNs shown as `name:version` (`name:new` for versions the apply publishes). */
  definitionChanges: DefinitionChange[];
}

export interface PlanSummary {
  /** Counts include the state machine. */
  toCreate: number;
  toUpdate: number;
  toDelete: number;
  unchanged: number;
  hasChanges: boolean;
}

export interface Plan {
  schema: typeof PLAN_SCHEMA;
  stateMachineName: string;
  region: string | null;
  /** `nothing-deployed`: AWS was not read (no credentials); every resource is planned as new. */
  basis: "deployed" | "nothing-deployed";
  note: string | null;
  imageUri: string;
  /** Hash of the desired deployment (commit excluded); apply refuses a plan made for other inputs. */
  desiredHash: string;
  prune: boolean;
  /** Sorted by function name. */
  functions: FunctionPlan[];
  /** Functions that left the pipeline but stay because prune is off. */
  retained: string[];
  stateMachine: StateMachinePlan;
  summary: PlanSummary;
  /** sha256 of the canonical plan without `hash` and revision ids. */
  hash: string;
}

export interface DeployResult {
  stateMachineArn: string;
  stateMachineVersionArn: string | null;
  imageUri: string;
  /** Function name -> published version ARN the state machine invokes. */
  functionArns: Record<string, string>;
  plan: Plan;
  deleted: string[];
}

/** One way the plan a reviewer approved and the plan now differ (the reviewed-plan check). */
export interface PlanDifference {
  /** "function" names a Lambda; "state machine" and "plan" stand alone. */
  kind: "function" | "state machine" | "plan";
  name: string;
  reviewed: string;
  current: string;
}
