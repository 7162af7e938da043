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
  /** Roles of the tasks routed to ECS (compiled.ecsTasks); absent when none is. */
  ecs?: EcsRoles;
  /** The `schedule` input: one EventBridge Scheduler schedule starting the alias; absent = none. */
  schedule?: DesiredSchedule;
}

/** What the schedule of a state machine must be (src/plan/schedulePlan.ts). */
export interface DesiredSchedule {
  /** `cron(...)` or `rate(...)`, checked by src/plan/schedule.ts. */
  expression: string;
  /** IANA time zone. */
  timezone: string;
  /** The execution input, canonical JSON of an object (`{"params": {...}}`). */
  input: string;
  roleArn: string;
}

/** A schedule as GetSchedule shows it. */
export interface DeployedSchedule {
  name: string;
  arn: string | null;
  description: string;
  expression: string;
  timezone: string;
  targetArn: string;
  roleArn: string;
  input: string;
  state: string;
  flexibleWindow: string;
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
  /** Published versions, oldest first; absent when the listing did not include them. */
  versions?: DeployedFunctionVersion[];
  /**
   * How it was known: `latest` read from the function ($LATEST, GetFunction or a listing);
   * `bound` only from the deployed definition, whose Task names the version and records the spec
   * hash it was built from (a version is immutable: what it holds is what that hash says).
   * Absent means `latest`.
   */
  source?: "latest" | "bound";
}

/** One published version of a function, as ListFunctions (FunctionVersion=ALL) shows it. */
export interface DeployedFunctionVersion {
  /** Qualified ARN. */
  arn: string;
  version: number;
  /** The image digest (hex) for image functions. */
  codeSha256?: string;
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
  /** A version's description (what the deploy that published it recorded); absent for the state machine. */
  description?: string;
  /** By function name. */
  tasks: Record<string, BoundTask>;
  /** Published versions, newest first; absent when they were not read. */
  versions?: DeployedStateMachineVersion[];
  /**
   * The newest version when it has the state machine's current definition and settings: what
   * the state machine runs, whatever the version tag says (a deploy killed before tagging).
   * Absent when versions were not read.
   */
  currentVersionArn?: string | null;
  /** The `live` alias (src/constants.ts): null when there is none; absent when it was not read. */
  alias?: { arn: string; versionArn: string | null } | null;
  /**
   * A split pipeline's parent: the child state machine versions its definition starts, as read
   * (their Lambda Tasks are merged into `tasks`). Absent for one-machine pipelines.
   */
  children?: DeployedChild[];
}

/** One child state machine version a split parent starts (DescribeStateMachine of the version ARN). */
export interface DeployedChild {
  /** The child state machine's name (`<name>-part-NN`). */
  name: string;
  /** The version ARN the parent names. */
  versionArn: string;
  /** Null when the version could not be read (deleted by hand): its Tasks are then unknown. */
  definition: AslDefinition | null;
  roleArn: string;
  logging: DeployedLogging;
  tracing: boolean;
}

export interface DeployedStateMachineVersion {
  arn: string;
  version: number;
  /** Function version ARNs its definition invokes; null when it was not read (older than the kept ones). */
  functionVersionArns: string[] | null;
  /** The image digest (hex) its description records (every Task of one version runs one image); null if unknown. */
  imageDigest?: string | null;
}

export interface DeployedState {
  region: string;
  stateMachine: DeployedStateMachine | null;
  /** Functions marked as managed for this state machine, sorted by name. */
  functions: DeployedFunction[];
  foreign: ForeignFunction[];
  /** The image the last deploy deployed (the state machine's image tag); absent when unknown. */
  imageUri?: string | null;
  /** Desired names read and found absent (not read again when the state is completed once more). */
  absent?: string[];
  /** True once the region's functions were listed (ListFunctions): what no definition names was looked for. */
  listed?: boolean;
  /** True once every kept and old state machine version was read (what old-version cleanup needs). */
  versionsRead?: boolean;
  /** The ECS task definition family's latest ACTIVE revision; absent when not read (no ECS task). */
  taskDefinition?: DeployedTaskDefinition | null;
  /** The schedule of this name (src/plan/schedule.ts scheduleName): null when absent, absent when not read. */
  schedule?: DeployedSchedule | null;
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
  /**
   * Known from the version the state machine binds, $LATEST not read (only the image changed):
   * the apply checks what its first write reports of $LATEST, and reads it on a mismatch.
   */
  unread?: true;
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
  /** The version the state machine runs (the newest, when it matches), if known. */
  currentVersionArn: string | null;
  /** Role, logging, tracing, tags. */
  changes: FieldChange[];
  /** Function ARNs shown as `name:version` (`name:new` for versions the apply publishes). */
  definitionChanges: DefinitionChange[];
  /** The alias executions start through; absent in plans made before aliases. */
  alias?: AliasPlan;
  /**
   * A split pipeline's children: the version each keeps (its bound definition and settings are
   * what the parent already starts), or null when the apply publishes a new one.
   */
  children?: { name: string; versionArn: string | null }[];
}

/** Where the deploy moves the `live` alias: to the version it publishes, or keeps. */
export interface AliasPlan {
  name: string;
  action: "create" | "update" | "noop";
  /** The version it routes to now; null when it does not exist. */
  currentVersionArn: string | null;
  /** The version it will route to (`<state machine>:new` for the one the apply publishes). */
  targetVersionArn: string;
}

/** The EventBridge Scheduler schedule starting the alias (the `schedule` input). */
export interface SchedulePlan {
  name: string;
  action: "create" | "update" | "delete" | "noop";
  /** What it is (after for create/update/noop, before for delete). */
  expression: string;
  timezone: string;
  changes: FieldChange[];
}

export interface OldVersionsPlan {
  /** How many state machine versions are kept, the one this deploy publishes included. */
  keep: number;
  /** State machine versions beyond the kept ones (skipped at apply time while an execution runs them). */
  stateMachineVersions: string[];
  /** Function versions no kept state machine version invokes, sorted. */
  functionVersions: string[];
  /**
   * Image digests (`sha256:<hex>`) the kept versions and this deploy run: the ECR lifecycle keeps
   * them; other images lose their kept tag once old versions are deleted. Null when unknown.
   */
  keptImages: string[] | null;
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
  /** Versions deleted after the cutover (`keep-versions`). */
  oldVersions: OldVersionsPlan;
  /** The ECS task definition revision the tasks routed to ECS run; absent when none is. */
  taskDefinition?: TaskDefinitionPlan;
  /** Absent when there is no schedule, wanted or deployed. */
  schedule?: SchedulePlan;
  summary: PlanSummary;
  /** sha256 of the canonical plan without `hash` and revision ids. */
  hash: string;
}

export interface DeployResult {
  stateMachineArn: string;
  stateMachineVersionArn: string | null;
  /** The alias executions start through (null when no version was published to point it at). */
  stateMachineAliasArn?: string | null;
  imageUri: string;
  /** Function name -> published version ARN the state machine invokes. */
  functionArns: Record<string, string>;
  plan: Plan;
  deleted: string[];
  /** Old versions deleted after the cutover (qualified ARNs), and why others stayed. */
  deletedVersions: string[];
}

/** One way the plan a reviewer approved and the plan now differ (the reviewed-plan check). */
export interface PlanDifference {
  /** "function" names a Lambda; "state machine" and "plan" stand alone. */
  kind: "function" | "state machine" | "plan";
  name: string;
  reviewed: string;
  current: string;
}

/** The roles the tasks run with (inputs ecs-execution-role-arn, ecs-task-role-arn). */
export interface EcsRoles {
  executionRoleArn: string;
  taskRoleArn: string;
}

/** The family's latest ACTIVE revision as the plan reads it. */
export interface DeployedTaskDefinition {
  family: string;
  /** With its revision. */
  arn: string;
  revision: number;
  /** The `kedro-sfn:spec` tag; null when it has none (not registered by kedro-sfn). */
  specHash: string | null;
}

export interface TaskDefinitionPlan {
  family: string;
  /** create: the family's first revision; update: a new revision; noop: the latest one fits. */
  action: "create" | "update" | "noop";
  specHash: string;
  /** The revision the state machine should run when nothing changes; null otherwise. */
  currentArn: string | null;
  changes: FieldChange[];
}
