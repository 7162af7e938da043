/**
 * The documented least-privilege policies (docs/iam/) against what the product really calls:
 * every AWS action the scenarios of a CI run call (image, deploy, run; recorded by the client
 * factory's middleware against moto) must be in the CI role's policy, and every action there
 * must be called, or be authorised by AWS on behalf of a recorded call (iam:PassRole, ECR pulls
 * Lambda makes, pushes a registry login is for). Actions other test files record through the
 * harness (.local-stack/aws-actions/) must be in the policy too.
 */
import { DescribeStateMachineCommand } from "@aws-sdk/client-sfn";
import { describe, expect, it } from "@jest/globals";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CallLog } from "../src/aws/clients.js";
import { boundTasks } from "../src/plan/index.js";
import type { AslDefinition } from "../src/compile/types.js";
import { deploy } from "./harness/deploy.js";
import { CONF_BUCKET, CONF_PREFIX, desiredFor, iamScenarios, NAME } from "./harness/iamScenarios.js";
import { ACTIONS_DIR, REPO_ROOT, useLocalStack, type LocalStack } from "./harness/localStack.js";

const stack = useLocalStack();
const IAM_DIR = join(REPO_ROOT, "docs", "iam");

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

/** Actions AWS authorises on the caller's behalf during a call: they never show up as calls. */
const IMPLIED: Record<string, string[]> = {
  "lambda:CreateFunction": ["iam:PassRole", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
  "lambda:UpdateFunctionCode": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
  "lambda:UpdateFunctionConfiguration": ["iam:PassRole"],
  "states:CreateStateMachine": ["iam:PassRole"],
  "states:UpdateStateMachine": ["iam:PassRole"],
  // A registry login is for a push over the registry API, which IAM authorises action by action.
  "ecr:GetAuthorizationToken": [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
  ],
};

function loadPolicy(file: string): PolicyDocument {
  return JSON.parse(readFileSync(join(IAM_DIR, file), "utf8")) as PolicyDocument;
}

const list = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);

function documentedActions(policy: PolicyDocument): string[] {
  return [
    ...new Set(policy.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => list(s.Action))),
  ].sort();
}

function variables(s: LocalStack): Record<string, string> {
  return {
    Region: s.region,
    AccountId: s.accountId,
    StateMachineName: NAME,
    FunctionPrefix: NAME,
    EcrRepository: "spaceflights",
    LambdaRoleName: s.roles.lambda.split("/").pop() ?? "",
    StateMachineRoleName: s.roles.stateMachine.split("/").pop() ?? "",
    DataBucket: "spaceflights-data",
    ConfBucket: CONF_BUCKET,
    ConfPrefix: CONF_PREFIX,
    GitHubOwner: "org",
    GitHubRepository: "repo",
  };
}

/** IAM's wildcard match (* and ?), after filling the {{placeholders}}. */
function matches(pattern: string, value: string, vars: Record<string, string>): boolean {
  const filled = pattern.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const replacement = vars[name];
    if (replacement === undefined) throw new Error(`Unknown placeholder {{${name}}} in a policy`);
    return replacement;
  });
  const regex = new RegExp(
    `^${filled
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    "i",
  );
  return regex.test(value);
}

function allows(
  policy: PolicyDocument,
  action: string,
  resource: string,
  vars: Record<string, string>,
): boolean {
  return policy.Statement.some(
    (s) =>
      s.Effect === "Allow" &&
      list(s.Action).some((a) => matches(a, action, vars)) &&
      list(s.Resource).some((r) => matches(r, resource, vars)),
  );
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

describe("IAM policies", () => {
  it("the CI role's policy lists exactly the actions a CI run calls, on the resources it calls them on", async () => {
    const s = stack();
    const log = new CallLog();
    for (const scenario of iamScenarios) {
      await s.reset();
      await scenario.run(s, await s.clients({ recorders: [log] }));
    }
    const called = log.actions();
    const implied = called.flatMap((action) => IMPLIED[action] ?? []);
    const used = new Set([...called, ...implied]);
    const policy = loadPolicy("ci-role.json");
    const documented = documentedActions(policy);

    const missing = [...new Set([...used, ...actionsFromOtherSuites()])]
      .filter((action) => !documented.includes(action))
      .sort();
    expect({ missingFromPolicy: missing }).toEqual({ missingFromPolicy: [] });
    const neverUsed = documented.filter((action) => !used.has(action));
    expect({ documentedButNeverUsed: neverUsed }).toEqual({ documentedButNeverUsed: [] });

    // Each action is allowed on the resources the run touched, and nowhere broader than the policy says.
    const vars = variables(s);
    const fn = `arn:aws:lambda:${s.region}:${s.accountId}:function:${NAME}-data_science-train_model_node`;
    const machine = `arn:aws:states:${s.region}:${s.accountId}:stateMachine:${NAME}`;
    const resourcesOf = (action: string): string[] => {
      const [service, operation = ""] = action.split(":");
      if (["lambda:ListFunctions", "states:ListStateMachines", "ecr:GetAuthorizationToken"].includes(action))
        return ["*"];
      if (service === "lambda") return [fn, `${fn}:3`];
      if (service === "states" && /^(DescribeExecution|GetExecutionHistory)$/.test(operation))
        return [`arn:aws:states:${s.region}:${s.accountId}:execution:${NAME}:iam-run`];
      if (service === "states")
        return operation === "CreateStateMachine" ? [machine] : [machine, `${machine}:2`];
      if (service === "ecr") return [`arn:aws:ecr:${s.region}:${s.accountId}:repository/spaceflights`];
      if (action === "iam:PassRole") return [s.roles.lambda, s.roles.stateMachine];
      if (action === "s3:PutObject") return [`arn:aws:s3:::${CONF_BUCKET}/${CONF_PREFIX}/base/catalog.yml`];
      throw new Error(`No resource known for ${action}`);
    };
    for (const action of used) {
      for (const resource of resourcesOf(action))
        expect({ action, resource, allowed: allows(policy, action, resource, vars) }).toEqual({
          action,
          resource,
          allowed: true,
        });
    }
    expect(
      allows(
        policy,
        "lambda:UpdateFunctionCode",
        `arn:aws:lambda:${s.region}:${s.accountId}:function:someone-else`,
        vars,
      ),
    ).toBe(false);
    expect(allows(policy, "states:UpdateStateMachine", `${machine}-other`, vars)).toBe(false);
  }, 300_000);

  it("the state machine role can invoke every function version a deploy binds, and nothing else", async () => {
    const s = stack();
    const clients = await s.clients();
    const { result } = await deploy(clients, desiredFor(s, await s.putImage("spaceflights", "v1")));
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
  }, 120_000);

  it("every policy document is well formed and uses only known placeholders", () => {
    const vars = variables({
      region: "r",
      accountId: "1",
      roles: { lambda: "a/b", stateMachine: "a/c" },
    } as LocalStack);
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
