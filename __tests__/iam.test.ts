/**
 * The documented least-privilege policies (docs/iam/) against what AWS requires for what the
 * product really calls. moto checks no IAM, so the clients' middleware hands every call's input
 * to a recorder that derives, from a table of AWS's authorisation rules
 * (harness/iamRequirements.ts), each action IAM evaluates and the resource it evaluates it on
 * (tags on create, `publish`, roles passed, versions): every one must be allowed by the role's
 * policy, and every documented action must be needed. Plan mode runs behind the read-only
 * guard, and the plan role's policy holds reads only.
 */
import { DeleteFunctionCommand, GetFunctionCommand } from "@aws-sdk/client-lambda";
import { DescribeStateMachineCommand } from "@aws-sdk/client-sfn";
import { describe, expect, it } from "@jest/globals";
import { execFile, execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { CallLog, isReadOperation, readOnlyGuard, WriteRefusedError } from "../src/aws/clients.js";
import { parseOptions } from "../src/options.js";
import { boundTasks } from "../src/plan/index.js";
import { childMachineReferences } from "../src/plan/bind.js";
import { compilePipeline } from "../src/compile/index.js";
import { FUNCTION_DEFAULTS, spaceflightsGraph } from "./harness/pipelines.js";
import { awsOptionsFor, createJobContext } from "../src/stages/context.js";
import type { AslDefinition } from "../src/compile/types.js";
import { deploy } from "./harness/deploy.js";
import { requirementsOf, RequirementLog, type Account, type Requirement } from "./harness/iamRequirements.js";
import {
  CONF_BUCKET,
  CONF_PREFIX,
  desiredFor,
  ECS_EXECUTION_ROLE_NAME,
  iamScenarios,
  NAME,
  planScenario,
  planThroughJobContext,
  REPOSITORY,
  schedulerRoleArn,
} from "./harness/iamScenarios.js";
import { ACTIONS_DIR, REPO_ROOT, testPython, useLocalStack, type LocalStack } from "./harness/localStack.js";

const stack = useLocalStack();
const run = promisify(execFile);
const IAM_DIR = join(REPO_ROOT, "docs", "iam");
const DEPLOY_POLICY = "deploy-role.json";
const PLAN_POLICY = "plan-role.json";

interface Statement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
interface PolicyDocument {
  Version: string;
  Statement: Statement[];
}

/**
 * Calls documented ahead of the code that calls them. Once a scenario records one, it must
 * leave this list (the version cleanup's calls have: the deploy scenario keeps one version).
 */
const DOCUMENTED_AHEAD: string[] = [];

function loadPolicy(file: string): PolicyDocument {
  return JSON.parse(readFileSync(join(IAM_DIR, file), "utf8")) as PolicyDocument;
}

const list = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);

function documentedActions(policy: PolicyDocument): string[] {
  return [
    ...new Set(policy.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => list(s.Action))),
  ].sort();
}

function variables(s: Pick<LocalStack, "region" | "accountId" | "roles">): Record<string, string> {
  return {
    Region: s.region,
    AccountId: s.accountId,
    StateMachineName: NAME,
    FunctionPrefix: NAME,
    EcrRepository: REPOSITORY,
    LambdaRoleName: s.roles.lambda.split("/").pop() ?? "",
    StateMachineRoleName: s.roles.stateMachine.split("/").pop() ?? "",
    EcsExecutionRoleName: ECS_EXECUTION_ROLE_NAME,
    SchedulerRoleName: schedulerRoleArn(s).split("/").pop() ?? "",
    DataBucket: "spaceflights-data",
    DataLocationBucket: "spaceflights-runs",
    DataLocationPrefix: "kedro-sfn",
    ConfBucket: CONF_BUCKET,
    ConfPrefix: CONF_PREFIX,
    GitHubOwner: "org",
    GitHubRepository: "repo",
    DeploySubject: "ref:refs/heads/main",
  };
}

function fill(pattern: string, vars: Record<string, string>): string {
  return pattern.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const replacement = vars[name];
    if (replacement === undefined) throw new Error(`Unknown placeholder {{${name}}} in a policy`);
    return replacement;
  });
}

/** IAM's wildcard match (* and ?), after filling the {{placeholders}}. */
function matches(pattern: string, value: string, vars: Record<string, string>, ignoreCase = true): boolean {
  const regex = new RegExp(
    `^${fill(pattern, vars)
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    ignoreCase ? "i" : "",
  );
  return regex.test(value);
}

/** StringEquals / StringLike on the keys IAM sets for the call; a key the call lacks fails, as in IAM. */
function conditionHolds(
  condition: Statement["Condition"],
  context: Record<string, string>,
  vars: Record<string, string>,
): boolean {
  return Object.entries(condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, wanted]) => {
      const value = context[key];
      if (value === undefined) return false;
      if (operator === "StringEquals") return list(wanted).some((w) => fill(w, vars) === value);
      if (operator === "StringLike") return list(wanted).some((w) => matches(w, value, vars, false));
      throw new Error(`The test does not evaluate the condition operator ${operator}: add it.`);
    }),
  );
}

function allows(
  policy: PolicyDocument,
  action: string,
  resource: string,
  vars: Record<string, string>,
  context: Record<string, string> = {},
): boolean {
  return policy.Statement.some(
    (s) =>
      s.Effect === "Allow" &&
      list(s.Action).some((a) => matches(a, action, vars)) &&
      list(s.Resource).some((r) => matches(r, resource, vars, false)) &&
      conditionHolds(s.Condition, context, vars),
  );
}

/** The requirements a policy does not allow, readably. */
function refused(policy: PolicyDocument, required: Requirement[], vars: Record<string, string>): string[] {
  return required
    .filter((r) => !allows(policy, r.action, r.resource, vars, r.context))
    .map((r) => `${r.action} on ${r.resource} (for ${r.because})`)
    .sort();
}

/**
 * Actions recorded by other test files through the harness (only ever added to the "must be
 * documented" side, so the order test files run in does not matter). Files of test files that
 * no longer exist are stale and skipped.
 */
function actionsFromOtherSuites(): string[] {
  if (!existsSync(ACTIONS_DIR)) return [];
  return readdirSync(ACTIONS_DIR)
    .filter(
      (file) =>
        file.endsWith(".json") &&
        file !== "iam.json" &&
        existsSync(join(REPO_ROOT, "__tests__", file.replace(/\.json$/, ".test.ts"))),
    )
    .flatMap((file) => JSON.parse(readFileSync(join(ACTIONS_DIR, file), "utf8")) as string[]);
}

const accountOf = (s: LocalStack): Account => ({
  region: s.region,
  accountId: s.accountId,
  pushRepository: REPOSITORY,
});

describe("IAM policies", () => {
  it("the deploy role's policy allows everything AWS evaluates for a CI run's calls, and nothing unused", async () => {
    const s = stack();
    const log = new CallLog();
    const required = new RequirementLog(() => accountOf(s));
    for (const scenario of iamScenarios) {
      await s.reset();
      const recorders = [log, required];
      await scenario.run(s, await s.clients({ recorders }), recorders);
    }
    expect({ callsWithoutRule: [...new Set(required.unknown)] }).toEqual({ callsWithoutRule: [] });
    // The table knows every call (recorded here and in other suites) and its parameters.
    for (const action of [...log.actions(), ...actionsFromOtherSuites()])
      expect(() =>
        requirementsOf({ service: "", operation: "", iamAction: action }, {}, accountOf(s)),
      ).not.toThrow();

    const policy = loadPolicy(DEPLOY_POLICY);
    const vars = variables(s);
    expect({ refusedByPolicy: refused(policy, required.distinct(), vars) }).toEqual({ refusedByPolicy: [] });

    const documented = documentedActions(policy);
    const needed = new Set(required.actions());
    const undocumented = [...new Set(actionsFromOtherSuites())].filter((a) => !documented.includes(a)).sort();
    expect({ calledInOtherSuitesButUndocumented: undocumented }).toEqual({
      calledInOtherSuitesButUndocumented: [],
    });
    const neverNeeded = documented.filter((a) => !needed.has(a) && !DOCUMENTED_AHEAD.includes(a));
    expect({ documentedButNeverNeeded: neverNeeded }).toEqual({ documentedButNeverNeeded: [] });
    const nowCalled = DOCUMENTED_AHEAD.filter((a) => needed.has(a));
    expect({ calledNowRemoveFromDocumentedAhead: nowCalled }).toEqual({
      calledNowRemoveFromDocumentedAhead: [],
    });

    // Nowhere broader than the policy says.
    const machine = `arn:aws:states:${s.region}:${s.accountId}:stateMachine:${NAME}`;
    expect(
      allows(
        policy,
        "lambda:UpdateFunctionCode",
        `arn:aws:lambda:${s.region}:${s.accountId}:function:someone-else`,
        vars,
      ),
    ).toBe(false);
    expect(allows(policy, "states:UpdateStateMachine", `${machine}-other`, vars)).toBe(false);
    expect(
      allows(policy, "iam:PassRole", s.roles.lambda, vars, { "iam:PassedToService": "ec2.amazonaws.com" }),
    ).toBe(false);
    expect(
      allows(policy, "ecr:TagResource", `arn:aws:ecr:${s.region}:${s.accountId}:repository/other`, vars),
    ).toBe(false);
  }, 300_000);

  it("derives the actions AWS requires from the calls' parameters, as the Service Authorization Reference says", () => {
    const account: Account = { region: "eu-west-1", accountId: "123456789012", pushRepository: "repo" };
    const actions = (iamAction: string, input: object) =>
      requirementsOf({ service: "", operation: "", iamAction }, input, account).map((r) => r.action);
    expect(
      actions("states:CreateStateMachine", {
        name: "m",
        roleArn: "arn:r",
        publish: true,
        tags: [{ key: "k" }],
      }),
    ).toEqual([
      "states:CreateStateMachine",
      "iam:PassRole",
      "states:PublishStateMachineVersion",
      "states:TagResource",
    ]);
    expect(actions("states:CreateStateMachine", { name: "m", roleArn: "arn:r", tags: [] })).toEqual([
      "states:CreateStateMachine",
      "iam:PassRole",
    ]);
    expect(
      actions("ecr:CreateRepository", { repositoryName: "r", tags: [{ Key: "k", Value: "v" }] }),
    ).toEqual(["ecr:CreateRepository", "ecr:TagResource"]);
    expect(
      actions("lambda:CreateFunction", {
        FunctionName: "f",
        Role: "arn:r",
        Tags: { k: "v" },
        Code: { ImageUri: "h/repo@sha256:1" },
      }),
    ).toEqual([
      "lambda:CreateFunction",
      "iam:PassRole",
      "lambda:TagResource",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
    ]);
    // Calls on a version are authorised on the state machine; a deleted Lambda version on itself.
    const version = "arn:aws:states:eu-west-1:123456789012:stateMachine:m:7";
    expect(
      requirementsOf(
        { service: "", operation: "", iamAction: "states:StartExecution" },
        { stateMachineArn: version },
        account,
      ),
    ).toMatchObject([{ resource: "arn:aws:states:eu-west-1:123456789012:stateMachine:m" }]);
    expect(
      requirementsOf(
        { service: "", operation: "", iamAction: "lambda:DeleteFunction" },
        { FunctionName: "f", Qualifier: "3" },
        account,
      ),
    ).toMatchObject([{ resource: "arn:aws:lambda:eu-west-1:123456789012:function:f:3" }]);
    expect(() => requirementsOf({ service: "x", operation: "Y", iamAction: "x:Y" }, {}, account)).toThrow(
      "No IAM requirement known for x:Y",
    );
  });

  it("the deploy role allows the version cleanup's calls", () => {
    const s = {
      region: "eu-west-1",
      accountId: "123456789012",
      roles: { lambda: "a/kedro-node", stateMachine: "a/kedro-sfn" },
    };
    const account: Account = { ...s, pushRepository: REPOSITORY };
    const fn = `${NAME}-data_science-train_model_node`;
    const machine = `arn:aws:states:${s.region}:${s.accountId}:stateMachine:${NAME}`;
    const calls: [string, object][] = [
      ["lambda:ListVersionsByFunction", { FunctionName: fn }],
      ["lambda:DeleteFunction", { FunctionName: fn, Qualifier: "3" }],
      ["states:ListStateMachineVersions", { stateMachineArn: machine }],
      ["states:DeleteStateMachineVersion", { stateMachineVersionArn: `${machine}:12` }],
    ];
    const required = calls.flatMap(([iamAction, input]) =>
      requirementsOf({ service: "", operation: "", iamAction }, input, account),
    );
    expect(required.map((r) => r.action).sort()).toEqual(
      [
        "lambda:DeleteFunction",
        "lambda:ListVersionsByFunction",
        "states:DeleteStateMachineVersion",
        "states:ListStateMachineVersions",
      ].sort(),
    );
    expect(refused(loadPolicy(DEPLOY_POLICY), required, variables(s))).toEqual([]);
  });

  it("plans behind the read-only guard: no write is sent, and the plan role allows what planning reads", async () => {
    const s = stack();
    await s.reset();
    const log = new CallLog();
    const required = new RequirementLog(() => accountOf(s));
    await planScenario.run(s, await s.clients(), [log, required]);
    expect(log.count()).toBeGreaterThan(0);
    expect(log.writes()).toEqual([]);
    expect({ callsWithoutRule: required.unknown }).toEqual({ callsWithoutRule: [] });

    // A new read in plan mode fails here: add it to docs/iam/plan-role.json (reads only), then run
    // `node scripts/iam-template.mjs`; the deploy role needs it too (deploy mode plans first).
    const plan = loadPolicy(PLAN_POLICY);
    const vars = variables(s);
    expect({ refusedByPlanPolicy: refused(plan, required.distinct(), vars) }).toEqual({
      refusedByPlanPolicy: [],
    });
    const documented = documentedActions(plan);
    expect({ documentedButNeverNeeded: documented.filter((a) => !required.actions().includes(a)) }).toEqual({
      documentedButNeverNeeded: [],
    });
    // Reads only: no Create/Update/Delete/Put/Tag/Publish/Start, no PassRole, no wildcard actions.
    const writes = documented.filter(
      (a) =>
        a.includes("*") ||
        a === "iam:PassRole" ||
        !isReadOperation(a.split(":")[1] ?? "") ||
        /Create|Update|Delete|Put|Tag|Publish|Start|Stop|Upload/.test(a.replace(/ListTags.*$/, "")),
    );
    expect({ writeActionsInPlanPolicy: writes }).toEqual({ writeActionsInPlanPolicy: [] });

    // A write attempted through plan mode's clients is refused before it is sent, naming the call.
    const { ctx } = await planThroughJobContext(s, [log]);
    const clients = await ctx.aws.clients();
    const fn = `${NAME}-data_science-train_model_node`;
    log.clear();
    const attempt = clients.lambda.send(new DeleteFunctionCommand({ FunctionName: fn }));
    await expect(attempt).rejects.toThrow(WriteRefusedError);
    await expect(attempt).rejects.toThrow("Refusing lambda:DeleteFunction (DeleteFunction) in plan mode");
    expect(log.count()).toBe(0);
    const direct = await s.clients();
    expect(
      (await direct.lambda.send(new GetFunctionCommand({ FunctionName: fn }))).Configuration?.FunctionName,
    ).toBe(fn);
    ctx.aws.destroy();
  }, 180_000);

  it("the job context guards plan mode's clients, and only plan mode's", async () => {
    const given: unknown[] = [];
    const options = parseOptions(() => "");
    for (const mode of ["plan", "deploy"] as const) {
      const ctx = createJobContext(options, {} as never, mode, {}, (o) => {
        given.push(o);
        return Promise.resolve({ destroy: () => undefined } as never);
      });
      await ctx.aws.clients();
    }
    expect(given).toEqual([{ recorders: [readOnlyGuard] }, {}]);
    expect(awsOptionsFor("plan").recorders).toContain(readOnlyGuard);
  });

  it("a split pipeline's state machine role can start and watch its children, and no other machine", async () => {
    const s = stack();
    await s.reset();
    const clients = await s.clients();
    const compiled = compilePipeline(spaceflightsGraph(), {
      stateMachineName: NAME,
      groupBy: [],
      structure: "dag",
      functionDefaults: FUNCTION_DEFAULTS,
      split: { definitionBytes: 4_000, historyEvents: 30 },
    });
    const desired = desiredFor(s, await s.putImage(REPOSITORY, "split"), { compiled });
    const { result } = await deploy(clients, desired);
    const parent = JSON.parse(
      (await clients.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: result.stateMachineArn })))
        .definition ?? "{}",
    ) as AslDefinition;
    const children = childMachineReferences(parent);
    expect(children.length).toBe(compiled.children?.length);
    const policy = loadPolicy("state-machine-role.json");
    const vars = variables(s);
    for (const versionArn of children) {
      expect({ versionArn, allowed: allows(policy, "states:StartExecution", versionArn, vars) }).toEqual({
        versionArn,
        allowed: true,
      });
      const name = versionArn.split(":")[6] as string;
      const execution = `arn:aws:states:${s.region}:${s.accountId}:execution:${name}:run-1`;
      for (const action of ["states:DescribeExecution", "states:StopExecution"])
        expect({ action, allowed: allows(policy, action, execution, vars) }).toEqual({
          action,
          allowed: true,
        });
    }
    const rule = `arn:aws:events:${s.region}:${s.accountId}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule`;
    for (const action of ["events:PutTargets", "events:PutRule", "events:DescribeRule"])
      expect({ action, allowed: allows(policy, action, rule, vars) }).toEqual({ action, allowed: true });
    const other = `arn:aws:states:${s.region}:${s.accountId}:stateMachine:other-machine:1`;
    expect(allows(policy, "states:StartExecution", other, vars)).toBe(false);
  }, 180_000);

  it("the state machine role can invoke every function version a deploy binds, and nothing else", async () => {
    const s = stack();
    await s.reset();
    const clients = await s.clients();
    const { result } = await deploy(clients, desiredFor(s, await s.putImage(REPOSITORY, "v1")));
    const definition =
      (await clients.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: result.stateMachineArn })))
        .definition ?? "{}";
    const policy = loadPolicy("state-machine-role.json");
    const vars = variables(s);
    const tasks = Object.values(boundTasks(JSON.parse(definition) as AslDefinition));
    expect(tasks).toHaveLength(6);
    for (const task of tasks)
      expect({
        arn: task.versionArn,
        allowed: allows(policy, "lambda:InvokeFunction", task.versionArn, vars),
      }).toEqual({ arn: task.versionArn, allowed: true });
    expect(
      allows(
        policy,
        "lambda:InvokeFunction",
        `arn:aws:lambda:${s.region}:${s.accountId}:function:other-function:1`,
        vars,
      ),
    ).toBe(false);

    const lambdaRole = loadPolicy("lambda-execution-role.json");
    for (const task of tasks) {
      const group = `arn:aws:logs:${s.region}:${s.accountId}:log-group:/aws/lambda/${task.functionName}`;
      expect(allows(lambdaRole, "logs:CreateLogGroup", group, vars)).toBe(true);
      expect(allows(lambdaRole, "logs:PutLogEvents", `${group}:log-stream:2024/01/01/[1]abc`, vars)).toBe(
        true,
      );
    }
    // Run data under data-location: the handler gets KEDRO_SFN_DATA_LOCATION=<location>/<state machine>.
    const runData = `arn:aws:s3:::${vars["DataLocationBucket"]}/${vars["DataLocationPrefix"]}/${NAME}/run-1/data_science.train_model_node.json`;
    for (const action of ["s3:GetObject", "s3:PutObject"]) {
      expect({ action, allowed: allows(lambdaRole, action, runData, vars) }).toEqual({
        action,
        allowed: true,
      });
      expect(allows(lambdaRole, action, `arn:aws:s3:::${vars["DataLocationBucket"]}/elsewhere/x`, vars)).toBe(
        false,
      );
    }
    // A dataset never saved answers 404 (not 403) only with ListBucket on the run's folder.
    const bucket = `arn:aws:s3:::${vars["DataLocationBucket"]}`;
    const runPrefix = `${vars["DataLocationPrefix"]}/${NAME}/run-1/`;
    expect(allows(lambdaRole, "s3:ListBucket", bucket, vars, { "s3:prefix": runPrefix })).toBe(true);
    expect(allows(lambdaRole, "s3:ListBucket", bucket, vars, { "s3:prefix": "elsewhere/" })).toBe(false);
    // A retried task replaces the versioned save its failed attempt made (python/kedro_sfn/runhooks.py).
    const versioned = `arn:aws:s3:::${vars["DataBucket"]}/06_models/regressor.pickle/2026-01-01T00.00.00.000Z/regressor.pickle`;
    expect(allows(lambdaRole, "s3:DeleteObject", versioned, vars)).toBe(true);
  }, 120_000);

  it("trusts pull requests for the plan role, and only the main branch (or one environment) for the deploy role", () => {
    const vars = variables({ region: "r", accountId: "1", roles: { lambda: "a/b", stateMachine: "a/c" } });
    const trusted = (file: string, sub: string, subject = "ref:refs/heads/main"): boolean =>
      loadPolicy(file).Statement.some((s) =>
        conditionHolds(
          s.Condition,
          {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": sub,
          },
          { ...vars, DeploySubject: subject },
        ),
      );
    const repo = "repo:org/repo";
    expect({
      planOnPullRequest: trusted("plan-role-trust.json", `${repo}:pull_request`),
      planOnMain: trusted("plan-role-trust.json", `${repo}:ref:refs/heads/main`),
      deployOnMain: trusted("deploy-role-trust.json", `${repo}:ref:refs/heads/main`),
      deployOnBranch: trusted("deploy-role-trust.json", `${repo}:ref:refs/heads/feature`),
      deployOnPullRequest: trusted("deploy-role-trust.json", `${repo}:pull_request`),
      deployOnTag: trusted("deploy-role-trust.json", `${repo}:ref:refs/tags/v1`),
      deployInEnvironment: trusted("deploy-role-trust.json", `${repo}:environment:prod`, "environment:prod"),
      deployInOtherEnvironment: trusted(
        "deploy-role-trust.json",
        `${repo}:environment:dev`,
        "environment:prod",
      ),
      deployFromFork: trusted("deploy-role-trust.json", "repo:someone/repo:ref:refs/heads/main"),
    }).toEqual({
      planOnPullRequest: true,
      planOnMain: false,
      deployOnMain: true,
      deployOnBranch: false,
      deployOnPullRequest: false,
      deployOnTag: false,
      deployInEnvironment: true,
      deployInOtherEnvironment: false,
      deployFromFork: false,
    });
    // No trust policy matches subjects with wildcards.
    for (const file of readdirSync(IAM_DIR).filter((name) => name.endsWith("-trust.json")))
      expect({ file, wildcard: JSON.stringify(loadPolicy(file)).includes("StringLike") }).toEqual({
        file,
        wildcard: false,
      });
  });

  it("ships the roles as a CloudFormation template generated from these documents, valid for cfn-lint", () => {
    // The template is what the documents generate (one source of truth), and CloudFormation-valid.
    execFileSync(process.execPath, ["scripts/iam-template.mjs", "--check"], { cwd: REPO_ROOT });
    const template = join(REPO_ROOT, "docs", "iam", "roles.cfn.yml");
    execFileSync(join(dirname(testPython()), "cfn-lint"), [template], { cwd: REPO_ROOT });
    const parsed = parse(readFileSync(template, "utf8")) as {
      Resources: Record<string, { Type: string; Properties: { AssumeRolePolicyDocument?: unknown } }>;
    };
    const roles = Object.entries(parsed.Resources).filter(([, r]) => r.Type === "AWS::IAM::Role");
    expect(roles.map(([name]) => name).sort()).toEqual([
      "DeployRole",
      "EcsExecutionRole",
      "LambdaExecutionRole",
      "PlanRole",
      "SchedulerRole",
      "StateMachineRole",
    ]);
    const planTrust = JSON.stringify(parsed.Resources["PlanRole"]?.Properties.AssumeRolePolicyDocument);
    expect(planTrust).toContain('"repo:${GitHubOwner}/${GitHubRepository}:pull_request"');
    const deployTrust = JSON.stringify(parsed.Resources["DeployRole"]?.Properties.AssumeRolePolicyDocument);
    expect(deployTrust).toContain("ref:refs/heads/main");
    expect(deployTrust).toContain("environment:${DeployEnvironment}");
  }, 60_000);

  it("the template, deployed to moto's CloudFormation, makes roles whose policies are these documents", async () => {
    const s = stack();
    await s.reset();
    const base = variables(s);
    for (const [environment, subject] of [
      ["", "ref:refs/heads/main"],
      ["prod", "environment:prod"],
    ] as const) {
      const parameters: Record<string, string> = {
        GitHubOwner: base["GitHubOwner"] ?? "",
        GitHubRepository: base["GitHubRepository"] ?? "",
        StateMachineName: NAME,
        EcrRepository: REPOSITORY,
        // moto's CloudFormation has no AWS::IAM::OIDCProvider: the existing provider's ARN is used.
        CreateOidcProvider: "false",
        DeployEnvironment: environment,
        DataBucket: base["DataBucket"] ?? "",
        ConfBucket: CONF_BUCKET,
        ConfPrefix: CONF_PREFIX,
      };
      const { stdout } = await run(testPython(), [
        join(REPO_ROOT, "__tests__", "harness", "cfn_stack.py"),
        s.endpoint,
        s.region,
        join(IAM_DIR, "roles.cfn.yml"),
        `roles-${environment || "main"}`,
        JSON.stringify(parameters),
      ]);
      const made = JSON.parse(stdout) as {
        status: string;
        roles: Record<
          string,
          { name: string; trust: PolicyDocument; policies: Record<string, PolicyDocument> }
        >;
      };
      expect(made.status).toBe("CREATE_COMPLETE");
      const vars = {
        ...base,
        LambdaRoleName: made.roles["LambdaExecutionRole"]?.name ?? "",
        StateMachineRoleName: made.roles["StateMachineRole"]?.name ?? "",
        EcsExecutionRoleName: made.roles["EcsExecutionRole"]?.name ?? "",
        SchedulerRoleName: made.roles["SchedulerRole"]?.name ?? "",
        DeploySubject: subject,
      };
      // A statement naming an optional parameter left empty is not in the template's role.
      const expected = (file: string): PolicyDocument => {
        const document = loadPolicy(file);
        const dropped = ["DataBucket", "DataLocationBucket", "ConfBucket"].filter(
          (name) => !parameters[name],
        );
        const kept = document.Statement.filter(
          (st) => !dropped.some((name) => JSON.stringify(st).includes(`{{${name}}}`)),
        );
        return JSON.parse(fill(JSON.stringify({ ...document, Statement: kept }), vars)) as PolicyDocument;
      };
      // moto leaves AWS::NoValue in a list as null where CloudFormation drops the item.
      const resolved = (document: PolicyDocument | undefined): PolicyDocument | undefined =>
        document && { ...document, Statement: document.Statement.filter((st) => st !== null) };
      for (const [logical, policy, trust] of [
        ["PlanRole", "plan-role.json", "plan-role-trust.json"],
        ["DeployRole", "deploy-role.json", "deploy-role-trust.json"],
        ["LambdaExecutionRole", "lambda-execution-role.json", "lambda-execution-role-trust.json"],
        ["StateMachineRole", "state-machine-role.json", "state-machine-role-trust.json"],
        ["EcsExecutionRole", "ecs-execution-role.json", "ecs-execution-role-trust.json"],
        ["SchedulerRole", "scheduler-role.json", "scheduler-role-trust.json"],
      ] as const) {
        const role = made.roles[logical];
        expect({ logical, trust: resolved(role?.trust) }).toEqual({ logical, trust: expected(trust) });
        expect({ logical, policies: Object.values(role?.policies ?? {}).map(resolved) }).toEqual({
          logical,
          policies: [expected(policy)],
        });
      }
    }
  }, 120_000);

  it("the state machine role runs, watches and stops the pipeline's ECS tasks through the managed .sync rule, and nothing else", () => {
    const vars = variables({
      region: "eu-west-1",
      accountId: "123456789012",
      roles: { lambda: "a/kedro-node", stateMachine: "a/kedro-sfn" },
    });
    const policy = loadPolicy("state-machine-role.json");
    const family = (name: string) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/${name}:3`;
    expect(allows(policy, "ecs:RunTask", family(`${NAME}-ecs`), vars)).toBe(true);
    expect(allows(policy, "ecs:RunTask", family("other-ecs"), vars)).toBe(false);
    expect(allows(policy, "ecs:DescribeTasks", "*", vars)).toBe(true);
    expect(allows(policy, "ecs:StopTask", "*", vars)).toBe(true);
    const rule = "arn:aws:events:eu-west-1:123456789012:rule/StepFunctionsGetEventsForECSTaskRule";
    for (const action of ["events:PutTargets", "events:PutRule", "events:DescribeRule"])
      expect(allows(policy, action, rule, vars)).toBe(true);
    expect(allows(policy, "events:PutRule", "arn:aws:events:eu-west-1:123456789012:rule/other", vars)).toBe(
      false,
    );
    const ecsTasks = { "iam:PassedToService": "ecs-tasks.amazonaws.com" };
    for (const role of [ECS_EXECUTION_ROLE_NAME, "kedro-node"])
      expect(allows(policy, "iam:PassRole", `arn:aws:iam::123456789012:role/${role}`, vars, ecsTasks)).toBe(
        true,
      );
    expect(
      allows(policy, "iam:PassRole", "arn:aws:iam::123456789012:role/kedro-node", vars, {
        "iam:PassedToService": "ec2.amazonaws.com",
      }),
    ).toBe(false);
    const execution = loadPolicy("ecs-execution-role.json");
    const group = `arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/${NAME}-ecs`;
    expect(allows(execution, "logs:PutLogEvents", `${group}:log-stream:kedro-sfn/kedro/abc`, vars)).toBe(
      true,
    );
    expect(
      allows(
        execution,
        "ecr:BatchGetImage",
        `arn:aws:ecr:eu-west-1:123456789012:repository/${REPOSITORY}`,
        vars,
      ),
    ).toBe(true);
  });

  it("every policy document is well formed and uses only known placeholders", () => {
    const vars = variables({ region: "r", accountId: "1", roles: { lambda: "a/b", stateMachine: "a/c" } });
    for (const file of readdirSync(IAM_DIR).filter((name) => name.endsWith(".json"))) {
      const policy = loadPolicy(file);
      expect({ file, version: policy.Version }).toEqual({ file, version: "2012-10-17" });
      for (const placeholder of JSON.stringify(policy).match(/\{\{(\w+)\}\}/g) ?? []) {
        expect({ file, placeholder, known: placeholder.slice(2, -2) in vars }).toEqual({
          file,
          placeholder,
          known: true,
        });
      }
      for (const statement of policy.Statement) expect(["Allow", "Deny"]).toContain(statement.Effect);
    }
  });
});
