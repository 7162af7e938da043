import type { FunctionSpec } from "../compile/types.js";
import { Input } from "../constants.js";
import { UserError } from "../errors.js";
import { stableStringify } from "../canonicalJson.js";
import { sha256Hex, shortHash } from "./canonical.js";
import { scheduleName } from "./schedule.js";
import type { DesiredDeployment, FunctionMarker, LoggingSettings } from "./types.js";

export const Tag = {
  managedBy: "kedro-sfn:managed-by",
  stateMachine: "kedro-sfn:state-machine",
  project: "kedro-sfn:project",
  commit: "kedro-sfn:commit",
  /** On the state machine: the version ARN the last deploy published (a no-op deploy reports it). */
  version: "kedro-sfn:version",
  /** On the state machine: the image (pinned by digest) the last deploy deployed; plan mode plans against it. */
  image: "kedro-sfn:image",
  /**
   * On the state machine: `none` when the last deploy left nothing behind for cleanup, `maybe`
   * when old function versions stayed (executions were running). A read finding anything but
   * `none` reads every function version again (see src/aws/deployed.ts).
   */
  leftovers: "kedro-sfn:leftovers",
  /**
   * On the state machine: the name of its schedule, or `none` (src/plan/schedulePlan.ts): a read
   * finding `none` and no `schedule` input skips GetSchedule.
   */
  schedule: "kedro-sfn:schedule",
  /**
   * On the state machine: `none` once a deploy switched it; the plan's hash while a deploy
   * creates or changes functions before the switch; `retained` when the last switch left
   * functions of nodes that left the pipeline (no `prune`). A read finding a hash (a deploy
   * killed midway) does not take $LATEST to be the bound version, and a pruning deploy finding
   * anything but `none` lists the region for functions no definition names (src/aws/deployed.ts).
   */
  deploying: "kedro-sfn:deploying",
} as const;

/** State machine tags that record what a deploy did, not what it is asked for: never a reason to deploy. */
export const BOOKKEEPING_TAGS: ReadonlySet<string> = new Set([
  Tag.commit,
  Tag.version,
  Tag.image,
  Tag.deploying,
]);
/** The deploying tag's value when no deploy is under way and none left functions behind (see Tag.deploying). */
export const NOT_DEPLOYING = "none";
/** The deploying tag's value after a switch that kept functions of nodes that left (see Tag.deploying). */
export const RETAINED_FUNCTIONS = "retained";
export const NO_LEFTOVERS = "none";
/** The schedule tag's value when the state machine has no schedule. */
export const NO_SCHEDULE = "none";
export const MAYBE_LEFTOVERS = "maybe";

const MANAGED_BY = "kedro-sfn-action";
const MARKER_PREFIX = "kedro-sfn:v1";
const DESCRIPTION_LIMIT = 256;

export interface DeployInputs {
  stateMachineName: string;
  lambdaRoleArn?: string | undefined;
  stateMachineRoleArn?: string | undefined;
  /** A repository name or URI (`<account>.dkr.ecr.<region>.amazonaws.com/<name>`). */
  ecrRepository?: string | undefined;
  /** The deployment region, when known: checked against an ECR repository URI. */
  region?: string | undefined;
  logging?: LoggingSettings | undefined;
  tags?: Record<string, string> | undefined;
  /** Plan mode checks the roles given but does not require them (the deploy does). */
  rolesOptional?: boolean;
  /** The `schedule` input is set: its role is required to deploy. */
  scheduled?: boolean;
  schedulerRoleArn?: string | undefined;
}

/** The AWS partitions, and the region prefixes that belong to each (the rest are `aws`). */
const PARTITION_OF_REGION: [RegExp, string][] = [
  [/^cn-/, "aws-cn"],
  [/^us-gov-/, "aws-us-gov"],
  [/^us-isob-/, "aws-iso-b"],
  [/^us-isof-/, "aws-iso-f"],
  [/^eu-isoe-/, "aws-iso-e"],
  [/^us-iso-/, "aws-iso"],
  [/^eusc-/, "aws-eusc"],
];
const PARTITIONS = "aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc";
// IAM: an optional path /a/b/ and a name of up to 64 of [\w+=,.@-].
const ROLE_ARN = new RegExp(
  `^arn:(${PARTITIONS}):iam::(\\d{12}):role\\/(?:[\\w+=,.@-]+\\/)*[\\w+=,.@-]{1,64}$`,
);
const ECR_HOST = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?(?:\/|$)/;
const LOG_GROUP_ARN = new RegExp(
  `^arn:(${PARTITIONS}):logs:[a-z0-9-]+:\\d{12}:log-group:[\\w#./-]{1,512}(?::\\*)?$`,
);
// AWS: 1-80 characters; no whitespace, brackets, wildcards, punctuation below, or control characters.
// eslint-disable-next-line no-control-regex
const STATE_MACHINE_NAME_FORBIDDEN = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/u;

/** Throws a UserError naming the input at fault; returns nothing when all is well. */
export function validateDeployInputs(inputs: DeployInputs): void {
  validateStateMachineName(inputs.stateMachineName);
  const optional = inputs.rolesOptional === true;
  const lambda = validateRoleArn(Input.LambdaRoleArn, inputs.lambdaRoleArn, inputs.region, optional);
  const states = validateRoleArn(
    Input.StateMachineRoleArn,
    inputs.stateMachineRoleArn,
    inputs.region,
    optional,
  );
  if (lambda && states && lambda.accountId !== states.accountId) {
    // The state machine's ARN is made from its role's account, and Lambda takes roles of its own account.
    throw new UserError(
      `Inputs '${Input.LambdaRoleArn}' (account ${lambda.accountId}) and '${Input.StateMachineRoleArn}' (account ${states.accountId}) name roles in different accounts.`,
      { hint: "Both roles must be in the account you deploy to." },
    );
  }
  if (inputs.scheduled || inputs.schedulerRoleArn)
    validateRoleArn(
      Input.SchedulerRoleArn,
      inputs.schedulerRoleArn,
      inputs.region,
      optional || !inputs.scheduled,
    );
  if (inputs.ecrRepository) validateRepositoryRegion(inputs.ecrRepository, inputs.region);
  if (inputs.logging) validateLogging(inputs.logging, inputs.region);
  for (const key of Object.keys(inputs.tags ?? {})) {
    if (key.startsWith("kedro-sfn:") || key.startsWith("aws:")) {
      throw new UserError(`Tag key "${key}" is reserved.`, {
        hint: "Keys starting with kedro-sfn: are set by the action; keys starting with aws: belong to AWS.",
      });
    }
  }
}

/** The one check of a state machine name, for the input (options) and before deploying. */
export function validateStateMachineName(name: string): void {
  const input = Input.StateMachineName;
  if (!name) throw new UserError(`Input '${input}' is required.`);
  const invalid = `Input '${input}' is not a valid Step Functions name:`;
  if ([...name].length > 80) {
    throw new UserError(`${invalid} "${name}" is ${[...name].length} characters long; AWS allows 80.`);
  }
  const bad = STATE_MACHINE_NAME_FORBIDDEN.exec(name);
  if (bad) {
    const shown = /\s/.test(bad[0]) ? "whitespace" : `"${bad[0]}"`;
    throw new UserError(
      `${invalid} "${name}" contains ${shown}, which AWS does not allow in a state machine name.`,
      {
        hint: "Use letters, digits, '-' and '_' (no spaces, brackets, wildcards, or any of < > { } [ ] ? * \" # % \\ ^ | ~ ` $ & , ; : /).",
      },
    );
  }
}

export function validateRoleArn(
  input: string,
  value: string | undefined,
  region: string | undefined,
  optional: boolean,
): { partition: string; accountId: string } | null {
  if (!value) {
    if (optional) return null;
    throw new UserError(`Input '${input}' is required to deploy.`, {
      hint: "Give the ARN of an existing IAM role, e.g. arn:aws:iam::123456789012:role/kedro-node (see docs/iam/).",
    });
  }
  const match = ROLE_ARN.exec(value);
  if (!match) {
    throw new UserError(`Input '${input}': "${value}" is not an IAM role ARN.`, {
      hint: "Expected arn:<partition>:iam::<12-digit account>:role/[path/]<name>, e.g. arn:aws:iam::123456789012:role/kedro-node.",
    });
  }
  const partition = match[1] ?? "aws";
  checkPartition(input, value, partition, region);
  return { partition, accountId: match[2] ?? "" };
}

/** The AWS partition a region belongs to (`aws-cn` for cn-north-1, ...). */
export function partitionOfRegion(region: string): string {
  return PARTITION_OF_REGION.find(([prefix]) => prefix.test(region))?.[1] ?? "aws";
}

function checkPartition(input: string, arn: string, partition: string, region: string | undefined): void {
  if (!region) return;
  const expected = partitionOfRegion(region);
  if (partition !== expected) {
    throw new UserError(
      `Input '${input}': "${arn}" is in partition ${partition}, but region ${region} is in ${expected}.`,
      { hint: `Use an ARN starting arn:${expected}: (or deploy to a region of ${partition}).` },
    );
  }
}

function validateRepositoryRegion(repository: string, region: string | undefined): void {
  const match = ECR_HOST.exec(repository);
  if (!match || !region) return;
  const repositoryRegion = match[2];
  if (repositoryRegion !== region) {
    throw new UserError(
      `Input '${Input.EcrRepository}': the repository is in ${repositoryRegion} but the deployment region is ${region}; Lambda pulls images only from its own region.`,
      { hint: `Use a repository in ${region} (or set aws-region to ${repositoryRegion}).` },
    );
  }
}

function validateLogging(logging: LoggingSettings, region: string | undefined): void {
  if (!["ALL", "ERROR", "FATAL", "OFF"].includes(logging.level)) {
    throw new UserError(
      `Input '${Input.LogLevel}': "${logging.level}" is not one of ALL, ERROR, FATAL, OFF.`,
    );
  }
  if (logging.logGroupArn) {
    const match = LOG_GROUP_ARN.exec(logging.logGroupArn);
    if (!match) {
      throw new UserError(
        `Input '${Input.LogGroupArn}': "${logging.logGroupArn}" is not a CloudWatch Logs group ARN.`,
        {
          hint: "Expected arn:aws:logs:<region>:<12-digit account>:log-group:<name>[:*], e.g. arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vendedlogs/states/spaceflights:*",
        },
      );
    }
    checkPartition(Input.LogGroupArn, logging.logGroupArn, match[1] ?? "aws", region);
  }
  if (logging.level === "OFF") return;
  if (!logging.logGroupArn) {
    throw new UserError(
      `Input '${Input.LogGroupArn}' is required when '${Input.LogLevel}' is ${logging.level}.`,
      {
        hint: "Give the ARN of an existing CloudWatch Logs group, e.g. arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vendedlogs/states/spaceflights:*",
      },
    );
  }
}

/** Account and partition of an ARN (the roles name the account that owns the deployment). */
export function arnAccount(arn: string): { partition: string; accountId: string } | null {
  const parts = arn.split(":");
  if (parts.length < 6 || parts[0] !== "arn" || !/^\d{12}$/.test(parts[4] ?? "")) return null;
  return { partition: parts[1] ?? "aws", accountId: parts[4] ?? "" };
}

/** The hex digest of an image pinned by digest; null for a tag reference. */
export function imageDigestHex(imageUri: string): string | null {
  return /@sha256:([0-9a-f]{64})$/.exec(imageUri)?.[1] ?? null;
}

export function functionTags(desired: DesiredDeployment): Record<string, string> {
  return {
    ...desired.tags,
    [Tag.managedBy]: MANAGED_BY,
    [Tag.stateMachine]: desired.stateMachineName,
    [Tag.project]: tagValue(desired.project),
  };
}

export function stateMachineTags(desired: DesiredDeployment): Record<string, string> {
  const image = tagValue(desired.imageUri);
  return {
    ...functionTags(desired),
    [Tag.commit]: tagValue(desired.commitSha),
    [Tag.deploying]: NOT_DEPLOYING,
    [Tag.leftovers]: NO_LEFTOVERS,
    [Tag.schedule]: desired.schedule ? scheduleName(desired.stateMachineName) : NO_SCHEDULE,
    // Only an exact record: a URI the tag rules would alter (or cut) is left out.
    ...(image === desired.imageUri && imageDigestHex(image) ? { [Tag.image]: image } : {}),
  };
}

/** The image a state machine's tags say it runs, or null. */
export function taggedImage(tags: Record<string, string>): string | null {
  const image = tags[Tag.image];
  return image && imageDigestHex(image) ? image : null;
}

/**
 * Whether the functions' tags are what `desired` asks for, judged from the state machine's: a
 * deploy tags the state machine after every function, with the same tags plus its own records.
 */
export function functionTagsCurrent(
  stateMachineTagged: Record<string, string>,
  desired: DesiredDeployment,
): boolean {
  const wanted = functionTags(desired);
  const keys = Object.keys(stateMachineTagged).filter(
    (key) =>
      !BOOKKEEPING_TAGS.has(key) && key !== Tag.leftovers && key !== Tag.schedule && !key.startsWith("aws:"),
  );
  return (
    keys.length === Object.keys(wanted).length && keys.every((key) => stateMachineTagged[key] === wanted[key])
  );
}

/** Tag values allow letters, digits, spaces and `_ . : / = + - @` (the strictest service's rule). */
function tagValue(value: string): string {
  return value.replace(/[^\p{L}\p{N}\s_.:/=+\-@]/gu, "_").slice(0, 256);
}

/** The hashes that decide what a function needs. */
export interface FunctionHashes {
  /** Role, memory, timeout, storage, environment, node list: what a published version freezes. */
  config: string;
  /** Function tags (not versioned: a tag change publishes nothing). */
  tags: string;
  /** Image, architecture and config: what the state machine's Task records for its bound version. */
  spec: string;
}

export function functionHashes(spec: FunctionSpec, desired: DesiredDeployment): FunctionHashes {
  const config = shortHash({
    role: desired.lambdaRoleArn,
    memoryMb: spec.memoryMb,
    timeoutSeconds: spec.timeoutSeconds,
    ephemeralStorageMb: spec.ephemeralStorageMb,
    environment: spec.environment,
    nodes: spec.nodes,
  });
  const tags = shortHash(functionTags(desired));
  return {
    config,
    tags,
    spec: shortHash({ imageUri: desired.imageUri, architecture: spec.architecture, config }),
  };
}

/**
 * The Description written with every configuration, so a list call reads the hashes back.
 * The code needs no marker: for image functions Lambda reports the image digest as CodeSha256.
 */
export function functionDescription(
  stateMachineName: string,
  hashes: FunctionHashes,
  nodes: string[],
): string {
  const full = `${MARKER_PREFIX} sm=${stateMachineName} cfg=${hashes.config} tags=${hashes.tags} nodes=${nodes.join(",")}`;
  return full.length <= DESCRIPTION_LIMIT ? full : `${full.slice(0, DESCRIPTION_LIMIT - 1)}…`;
}

export function parseFunctionDescription(description: string | undefined): FunctionMarker | null {
  if (!description) return null;
  const match = /^kedro-sfn:v1 sm=(\S+) cfg=([0-9a-f]{16}) tags=([0-9a-f]{16})(?: |$)/.exec(description);
  if (!match) return null;
  return { stateMachine: match[1] ?? "", config: match[2] ?? "", tags: match[3] ?? "" };
}

/**
 * Hash of what a deploy writes: not the commit (a new commit with no change plans the same), nor
 * the compiler's warnings and estimates (they change with duration hints, AWS does not).
 */
export function desiredHash(desired: DesiredDeployment): string {
  const { definition, functions } = desired.compiled;
  return sha256Hex(
    stableStringify({ ...desired, commitSha: undefined, compiled: { definition, functions } }),
  );
}
