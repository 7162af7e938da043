/**
 * What AWS authorises for each SDK call, parameters included: moto checks no IAM, so this table
 * is what stands between the documented policies (docs/iam/) and AWS refusing a real deploy.
 * One entry per IAM action the code calls; each maps the command's input to every action IAM
 * evaluates for it and the resource it evaluates it on. Sources: the Service Authorization
 * Reference and the services' guides, cited per entry. A call without an entry fails the IAM
 * test: add it here (with its source) before the policy can follow.
 */
import type { CallName, CallRecorder } from "../../src/aws/clients.js";

/** One action IAM evaluates, on one resource; `context` holds condition keys IAM sets for it. */
export interface Requirement {
  action: string;
  resource: string;
  context?: Record<string, string>;
  /** Which call (and which parameter) needs it: shown when the policy lacks it. */
  because: string;
}

export interface Account {
  region: string;
  accountId: string;
  /** The repository an image push goes to (a registry login is for that push). */
  pushRepository: string;
}

type Input = Record<string, unknown>;
type Rule = (input: Input, account: Account) => Omit<Requirement, "because">[];

const str = (value: unknown): string => (typeof value === "string" ? value : "");
const has = (value: unknown): boolean =>
  value !== undefined &&
  value !== null &&
  (Array.isArray(value) ? value.length > 0 : typeof value !== "object" || Object.keys(value).length > 0);

function functionArn(name: string, account: Account, qualifier?: string): string {
  const base = name.startsWith("arn:")
    ? name
    : `arn:aws:lambda:${account.region}:${account.accountId}:function:${name}`;
  return qualifier ? `${base}:${qualifier}` : base;
}

/**
 * Step Functions authorises calls on a version or an alias against the state machine's own ARN
 * ("Authorization for versions and aliases", Step Functions developer guide).
 */
function unqualifiedMachine(arn: string): string {
  const parts = arn.split(":");
  return parts.length > 7 && parts[5] === "stateMachine" ? parts.slice(0, 7).join(":") : arn;
}

const repositoryArn = (name: string, account: Account): string =>
  `arn:aws:ecr:${account.region}:${account.accountId}:repository/${name}`;

const passRole = (role: unknown, service: string) =>
  has(role)
    ? [{ action: "iam:PassRole", resource: str(role), context: { "iam:PassedToService": service } }]
    : [];

/** Lambda pulls a container image with the caller's ECR permissions on the repository. */
function imagePull(imageUri: unknown, account: Account) {
  const uri = str(imageUri);
  if (!uri) return [];
  const repository = uri.slice(uri.indexOf("/") + 1).split(/[@:]/)[0] ?? "";
  return ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"].map((action) => ({
    action,
    resource: repositoryArn(repository, account),
  }));
}

const on = (action: string, resource: string) => [{ action, resource }];

const scheduleArn = (i: Input, a: Account): string =>
  `arn:aws:scheduler:${a.region}:${a.accountId}:schedule/${str(i.GroupName) || "default"}/${str(i.Name)}`;

export const REQUIRED: Record<string, Rule> = {
  // Lambda. Tags on create need lambda:TagResource, and GetFunction on a tagged function needs
  // lambda:ListTags ("Using tags on Lambda functions", Lambda developer guide). `Publish` on
  // create or code update is authorised by that action alone (no other is documented for it).
  "lambda:ListFunctions": () => on("lambda:ListFunctions", "*"),
  // A rollback reads a function version by its qualified ARN: tags are read on the function's.
  "lambda:GetFunction": (i, a) => {
    const arn = functionArn(str(i.FunctionName), a, str(i.Qualifier));
    const unqualified = functionArn(str(i.FunctionName), a).split(":").slice(0, 7).join(":");
    return [...on("lambda:GetFunction", arn), ...on("lambda:ListTags", unqualified)];
  },
  "lambda:CreateFunction": (i, a) => {
    const arn = functionArn(str(i.FunctionName), a);
    return [
      ...on("lambda:CreateFunction", arn),
      ...passRole(i.Role, "lambda.amazonaws.com"),
      ...(has(i.Tags) ? on("lambda:TagResource", arn) : []),
      ...imagePull((i.Code as Input | undefined)?.ImageUri, a),
    ];
  },
  "lambda:UpdateFunctionCode": (i, a) => [
    ...on("lambda:UpdateFunctionCode", functionArn(str(i.FunctionName), a)),
    ...imagePull(i.ImageUri, a),
  ],
  "lambda:UpdateFunctionConfiguration": (i, a) => [
    ...on("lambda:UpdateFunctionConfiguration", functionArn(str(i.FunctionName), a)),
    ...passRole(i.Role, "lambda.amazonaws.com"),
  ],
  "lambda:PublishVersion": (i, a) => on("lambda:PublishVersion", functionArn(str(i.FunctionName), a)),
  "lambda:ListTags": (i) => on("lambda:ListTags", str(i.Resource)),
  "lambda:TagResource": (i) => on("lambda:TagResource", str(i.Resource)),
  "lambda:UntagResource": (i) => on("lambda:UntagResource", str(i.Resource)),
  // With a Qualifier only that version goes (the version cleanup), without it the function.
  "lambda:DeleteFunction": (i, a) =>
    on("lambda:DeleteFunction", functionArn(str(i.FunctionName), a, str(i.Qualifier))),
  "lambda:ListVersionsByFunction": (i, a) =>
    on("lambda:ListVersionsByFunction", functionArn(str(i.FunctionName), a)),

  // Step Functions. `publish: true` also needs states:PublishStateMachineVersion, tags on create
  // need states:TagResource ("Authorization for versions and aliases"; "Tagging in Step Functions").
  "states:ListStateMachines": () => on("states:ListStateMachines", "*"),
  "states:CreateStateMachine": (i, a) => {
    const arn = `arn:aws:states:${a.region}:${a.accountId}:stateMachine:${str(i.name)}`;
    return [
      ...on("states:CreateStateMachine", arn),
      ...passRole(i.roleArn, "states.amazonaws.com"),
      ...(i.publish === true ? on("states:PublishStateMachineVersion", arn) : []),
      ...(has(i.tags) ? on("states:TagResource", arn) : []),
    ];
  },
  "states:UpdateStateMachine": (i) => {
    const arn = unqualifiedMachine(str(i.stateMachineArn));
    return [
      ...on("states:UpdateStateMachine", arn),
      ...passRole(i.roleArn, "states.amazonaws.com"),
      ...(i.publish === true ? on("states:PublishStateMachineVersion", arn) : []),
    ];
  },
  // A split pipeline's prune deletes the child state machines its parent no longer runs.
  "states:DeleteStateMachine": (i) => on("states:DeleteStateMachine", str(i.stateMachineArn)),
  "states:DescribeStateMachine": (i) =>
    on("states:DescribeStateMachine", unqualifiedMachine(str(i.stateMachineArn))),
  "states:ListTagsForResource": (i) => on("states:ListTagsForResource", str(i.resourceArn)),
  "states:TagResource": (i) => on("states:TagResource", str(i.resourceArn)),
  "states:UntagResource": (i) => on("states:UntagResource", str(i.resourceArn)),
  "states:StartExecution": (i) => on("states:StartExecution", unqualifiedMachine(str(i.stateMachineArn))),
  "states:DescribeExecution": (i) => on("states:DescribeExecution", str(i.executionArn)),
  "states:GetExecutionHistory": (i) => on("states:GetExecutionHistory", str(i.executionArn)),
  "states:StopExecution": (i) => on("states:StopExecution", str(i.executionArn)),
  "states:ListStateMachineVersions": (i) => on("states:ListStateMachineVersions", str(i.stateMachineArn)),
  "states:DeleteStateMachineVersion": (i) =>
    on("states:DeleteStateMachineVersion", unqualifiedMachine(str(i.stateMachineVersionArn))),
  // The version cleanup lists a version's running executions by its ARN, authorised on the machine's.
  "states:ListExecutions": (i) => on("states:ListExecutions", unqualifiedMachine(str(i.stateMachineArn))),
  // The `live` alias (deploy, rollback, destroy): calls on an alias are authorised on the state
  // machine's ARN ("Authorization for versions and aliases"); a create names the machine through
  // the version it routes to. DeleteStateMachine takes the versions and aliases with it (same page).
  "states:DescribeStateMachineAlias": (i) =>
    on("states:DescribeStateMachineAlias", unqualifiedMachine(str(i.stateMachineAliasArn))),
  "states:CreateStateMachineAlias": (i) => {
    const routes = (i.routingConfiguration as { stateMachineVersionArn?: string }[] | undefined) ?? [];
    return on("states:CreateStateMachineAlias", unqualifiedMachine(str(routes[0]?.stateMachineVersionArn)));
  },
  "states:UpdateStateMachineAlias": (i) =>
    on("states:UpdateStateMachineAlias", unqualifiedMachine(str(i.stateMachineAliasArn))),
  "states:ListStateMachineAliases": (i) => on("states:ListStateMachineAliases", str(i.stateMachineArn)),
  "states:DeleteStateMachineAlias": (i) =>
    on("states:DeleteStateMachineAlias", unqualifiedMachine(str(i.stateMachineAliasArn))),

  // EventBridge Scheduler: calls on a schedule are authorised on arn:...:schedule/GROUP/NAME; a
  // create or update passes the target's role (iam:PassRole to scheduler.amazonaws.com; "Using
  // identity-based policies for EventBridge Scheduler", Scheduler user guide). The role's own
  // states:StartExecution on the alias is the scheduler role's, checked by the scenario.
  "scheduler:GetSchedule": (i, a) => on("scheduler:GetSchedule", scheduleArn(i, a)),
  "scheduler:CreateSchedule": (i, a) => [
    ...on("scheduler:CreateSchedule", scheduleArn(i, a)),
    ...passRole((i.Target as Input | undefined)?.RoleArn, "scheduler.amazonaws.com"),
  ],
  "scheduler:UpdateSchedule": (i, a) => [
    ...on("scheduler:UpdateSchedule", scheduleArn(i, a)),
    ...passRole((i.Target as Input | undefined)?.RoleArn, "scheduler.amazonaws.com"),
  ],
  "scheduler:DeleteSchedule": (i, a) => on("scheduler:DeleteSchedule", scheduleArn(i, a)),

  // ECR. Tags on create are authorised as ecr:TagResource too ("Using Tag-Based Access Control",
  // ECR user guide). A registry login is for a push over the registry API to the repository, which
  // IAM authorises action by action (those requests never go through the SDK).
  "ecr:GetAuthorizationToken": (_i, a) => [
    ...on("ecr:GetAuthorizationToken", "*"),
    ...[
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ].map((action) => ({ action, resource: repositoryArn(a.pushRepository, a) })),
  ],
  "ecr:DescribeRepositories": (i, a) =>
    ((i.repositoryNames as string[] | undefined) ?? []).map((name) => ({
      action: "ecr:DescribeRepositories",
      resource: repositoryArn(name, a),
    })),
  "ecr:CreateRepository": (i, a) => {
    const arn = repositoryArn(str(i.repositoryName), a);
    return [...on("ecr:CreateRepository", arn), ...(has(i.tags) ? on("ecr:TagResource", arn) : [])];
  },
  "ecr:GetLifecyclePolicy": (i, a) => on("ecr:GetLifecyclePolicy", repositoryArn(str(i.repositoryName), a)),
  "ecr:PutLifecyclePolicy": (i, a) => on("ecr:PutLifecyclePolicy", repositoryArn(str(i.repositoryName), a)),
  "ecr:DescribeImages": (i, a) => on("ecr:DescribeImages", repositoryArn(str(i.repositoryName), a)),
  "ecr:BatchGetImage": (i, a) => on("ecr:BatchGetImage", repositoryArn(str(i.repositoryName), a)),
  "ecr:PutImage": (i, a) => on("ecr:PutImage", repositoryArn(str(i.repositoryName), a)),
  // Removing a kept tag from an image no kept version runs (the version cleanup).
  "ecr:ListImages": (i, a) => on("ecr:ListImages", repositoryArn(str(i.repositoryName), a)),
  "ecr:BatchDeleteImage": (i, a) => on("ecr:BatchDeleteImage", repositoryArn(str(i.repositoryName), a)),

  // ECS. DescribeTaskDefinition and RegisterTaskDefinition take no resource-level permissions
  // ("*"); tags on register need ecs:TagResource on the revision, and the two roles are passed to
  // ecs-tasks.amazonaws.com ("Actions, resources, and condition keys for Amazon ECS"; "Tagging
  // your resources", ECS developer guide).
  "ecs:DescribeTaskDefinition": () => on("ecs:DescribeTaskDefinition", "*"),
  // Destroy lists a family's revisions and deregisters them: neither takes a resource either.
  "ecs:ListTaskDefinitions": () => on("ecs:ListTaskDefinitions", "*"),
  "ecs:DeregisterTaskDefinition": () => on("ecs:DeregisterTaskDefinition", "*"),
  "ecs:RegisterTaskDefinition": (i, a) => [
    ...on("ecs:RegisterTaskDefinition", "*"),
    ...(has(i.tags)
      ? on("ecs:TagResource", `arn:aws:ecs:${a.region}:${a.accountId}:task-definition/${str(i.family)}:*`)
      : []),
    ...passRole(i.taskRoleArn, "ecs-tasks.amazonaws.com"),
    ...passRole(i.executionRoleArn, "ecs-tasks.amazonaws.com"),
  ],
  // CloudWatch Logs: the run stage reads a failed ECS task's stream (GetLogEvents on the stream).
  "logs:GetLogEvents": (i, a) =>
    on(
      "logs:GetLogEvents",
      `arn:aws:logs:${a.region}:${a.accountId}:log-group:${str(i.logGroupName)}:log-stream:${str(i.logStreamName)}`,
    ),

  // S3: object ARNs; a tagged or ACL'd upload needs s3:PutObjectTagging / s3:PutObjectAcl too.
  "s3:PutObject": (i) => {
    const arn = `arn:aws:s3:::${str(i.Bucket)}/${str(i.Key)}`;
    return [
      ...on("s3:PutObject", arn),
      ...(has(i.Tagging) ? on("s3:PutObjectTagging", arn) : []),
      ...(has(i.ACL) ? on("s3:PutObjectAcl", arn) : []),
    ];
  },
  "s3:GetObject": (i) => on("s3:GetObject", `arn:aws:s3:::${str(i.Bucket)}/${str(i.Key)}`),
  "s3:ListBucket": (i) => on("s3:ListBucket", `arn:aws:s3:::${str(i.Bucket)}`),
};

/** What IAM evaluates for one call; a call without a rule throws (so the table cannot fall behind). */
export function requirementsOf(call: CallName, input: unknown, account: Account): Requirement[] {
  const rule = REQUIRED[call.iamAction];
  if (!rule)
    throw new Error(
      `No IAM requirement known for ${call.iamAction}: add it to REQUIRED in __tests__/harness/iamRequirements.ts.`,
    );
  const i = (input ?? {}) as Input;
  const keys = Object.keys(i).filter((key) => has(i[key]));
  return rule(i, account).map((r) => ({ ...r, because: `${call.iamAction}(${keys.join(", ")})` }));
}

/**
 * Records what IAM evaluates for every call, from the input before it is sent (a refused or failed
 * attempt needed its permissions just the same).
 */
export class RequirementLog implements CallRecorder {
  readonly required: Requirement[] = [];
  readonly unknown: string[] = [];

  constructor(private readonly account: () => Account) {}

  before(call: CallName, input: unknown): void {
    try {
      this.required.push(...requirementsOf(call, input, this.account()));
    } catch (error) {
      this.unknown.push((error as Error).message);
    }
  }

  record(): void {}

  actions(): string[] {
    return [...new Set(this.required.map((r) => r.action))].sort();
  }

  /** Each (action, resource, context) once. */
  distinct(): Requirement[] {
    const seen = new Map<string, Requirement>();
    for (const r of this.required) seen.set(JSON.stringify([r.action, r.resource, r.context ?? {}]), r);
    return [...seen.values()];
  }
}
