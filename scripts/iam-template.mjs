// The CloudFormation template of the five roles (docs/iam/roles.cfn.yml), generated from the policy
// documents in docs/iam/*.json so those stay the one source of truth (the IAM test checks them
// against what AWS requires per call). `node scripts/iam-template.mjs` rewrites the template;
// `--check` fails when it differs from what the documents generate.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { format } from "prettier";
import { stringify } from "yaml";

const DIR = "docs/iam";
const OUT = join(DIR, "roles.cfn.yml");
const OIDC_HOST = "token.actions.githubusercontent.com";
const read = (file) => JSON.parse(readFileSync(join(DIR, file), "utf8"));

/** The template's own parameters (the documents' other placeholders map to pseudo parameters or roles). */
const PARAMETERS = {
  GitHubOwner: { Type: "String", Description: "GitHub owner (user or organisation) of the repository." },
  GitHubRepository: { Type: "String", Description: "GitHub repository name, without the owner." },
  DeployEnvironment: {
    Type: "String",
    Default: "",
    Description:
      "GitHub environment the deploy job runs in; empty: the deploy role trusts only the main branch (refs/heads/main).",
  },
  CreateOidcProvider: {
    Type: "String",
    Default: "true",
    AllowedValues: ["true", "false"],
    Description: `false when the account already has the ${OIDC_HOST} OIDC provider (one per account).`,
  },
  StateMachineName: {
    Type: "String",
    Description: "The action's state-machine-name; function names start with it.",
  },
  EcrRepository: { Type: "String", Description: "The action's ecr-repository." },
  DataBucket: {
    Type: "String",
    Default: "",
    Description: "Bucket the project's catalog reads and writes (Lambda role); empty: none.",
  },
  DataLocationBucket: {
    Type: "String",
    Default: "",
    Description: "Bucket of the data-location input (s3://BUCKET/PREFIX); empty: data-location unset.",
  },
  DataLocationPrefix: { Type: "String", Default: "", Description: "Prefix of the data-location input." },
  ConfBucket: {
    Type: "String",
    Default: "",
    Description: "Bucket of conf-source when it is s3://BUCKET/PREFIX; empty: conf is in the image.",
  },
  ConfPrefix: { Type: "String", Default: "", Description: "Prefix of conf-source when it is on S3." },
};

/** A statement naming one of these is left out when its parameter is empty. */
const OPTIONAL = {
  DataBucket: "HasDataBucket",
  DataLocationBucket: "HasDataLocation",
  ConfBucket: "HasConfBucket",
};

const CONDITIONS = {
  MakeOidcProvider: { "Fn::Equals": [{ Ref: "CreateOidcProvider" }, "true"] },
  HasDeployEnvironment: { "Fn::Not": [{ "Fn::Equals": [{ Ref: "DeployEnvironment" }, ""] }] },
  ...Object.fromEntries(
    Object.entries(OPTIONAL).map(([parameter, condition]) => [
      condition,
      { "Fn::Not": [{ "Fn::Equals": [{ Ref: parameter }, ""] }] },
    ]),
  ),
};

/** {{Placeholder}} -> a ${Name} Fn::Sub understands. */
const SUBSTITUTES = {
  AccountId: "AWS::AccountId",
  Region: "AWS::Region",
  FunctionPrefix: "StateMachineName",
  LambdaRoleName: "LambdaExecutionRole",
  StateMachineRoleName: "StateMachineRole",
  EcsExecutionRoleName: "EcsExecutionRole",
  SchedulerRoleName: "SchedulerRole",
  DeploySubject: "DeploySubject",
  ...Object.fromEntries(Object.keys(PARAMETERS).map((name) => [name, name])),
};

/** `ref:refs/heads/main`, or `environment:NAME` when DeployEnvironment is set (the OIDC `sub` claim). */
const DEPLOY_SUBJECT = {
  "Fn::If": [
    "HasDeployEnvironment",
    { "Fn::Sub": "environment:${DeployEnvironment}" },
    "ref:refs/heads/main",
  ],
};

function substitute(value) {
  if (Array.isArray(value)) return value.map(substitute);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, substitute(inner)]));
  if (typeof value !== "string" || !value.includes("{{")) return value;
  const text = value.replace(/\{\{(\w+)\}\}/g, (_, name) => {
    if (!SUBSTITUTES[name]) throw new Error(`${DIR}: no template parameter for {{${name}}}`);
    return `\${${SUBSTITUTES[name]}}`;
  });
  return text.includes("${DeploySubject}")
    ? { "Fn::Sub": [text, { DeploySubject: DEPLOY_SUBJECT }] }
    : { "Fn::Sub": text };
}

function policyDocument(file) {
  const document = read(file);
  return {
    Version: document.Version,
    Statement: document.Statement.map((statement) => {
      const optional = Object.keys(OPTIONAL).find((name) =>
        JSON.stringify(statement).includes(`{{${name}}}`),
      );
      const converted = substitute(statement);
      return optional ? { "Fn::If": [OPTIONAL[optional], converted, { Ref: "AWS::NoValue" }] } : converted;
    }),
  };
}

/** The GitHub OIDC provider made here, or the account's existing one (same ARN either way). */
function trustDocument(file) {
  const document = policyDocument(file);
  for (const statement of document.Statement) {
    if (statement.Principal?.Federated)
      statement.Principal.Federated = {
        "Fn::If": ["MakeOidcProvider", { Ref: "GitHubOidcProvider" }, statement.Principal.Federated],
      };
  }
  return document;
}

const role = (description, trust, policy, policyName) => ({
  Type: "AWS::IAM::Role",
  Properties: {
    Description: description,
    AssumeRolePolicyDocument: trustDocument(trust),
    Policies: [{ PolicyName: policyName, PolicyDocument: policyDocument(policy) }],
  },
});

const template = {
  AWSTemplateFormatVersion: "2010-09-09",
  Description:
    "kedro-sfn-action: a read-only plan role for pull requests, a deploy role for the main branch " +
    "(or one environment), and the roles the Lambda functions and the state machine run as.",
  Parameters: PARAMETERS,
  Conditions: CONDITIONS,
  Resources: {
    GitHubOidcProvider: {
      Type: "AWS::IAM::OIDCProvider",
      Condition: "MakeOidcProvider",
      Properties: { Url: `https://${OIDC_HOST}`, ClientIdList: ["sts.amazonaws.com"] },
    },
    PlanRole: role(
      "kedro-sfn plan mode on pull requests: reads what is deployed, writes nothing.",
      "plan-role-trust.json",
      "plan-role.json",
      "kedro-sfn-plan",
    ),
    DeployRole: role(
      "kedro-sfn deploy mode on the main branch or the deploy environment.",
      "deploy-role-trust.json",
      "deploy-role.json",
      "kedro-sfn-deploy",
    ),
    LambdaExecutionRole: role(
      "The role the pipeline's Lambda functions run as.",
      "lambda-execution-role-trust.json",
      "lambda-execution-role.json",
      "kedro-sfn-lambda",
    ),
    StateMachineRole: role(
      "The role the state machine runs as.",
      "state-machine-role-trust.json",
      "state-machine-role.json",
      "kedro-sfn-state-machine",
    ),
    EcsExecutionRole: role(
      "The role ECS pulls the image and writes the logs of nodes run on ECS Fargate (runner: ecs) with.",
      "ecs-execution-role-trust.json",
      "ecs-execution-role.json",
      "kedro-sfn-ecs-execution",
    ),
    SchedulerRole: role(
      "The role EventBridge Scheduler assumes to start the state machine through its alias live (the schedule input).",
      "scheduler-role-trust.json",
      "scheduler-role.json",
      "kedro-sfn-scheduler",
    ),
  },
  Outputs: {
    PlanRoleArn: {
      Description: "role-to-assume of the plan job (pull requests).",
      Value: { "Fn::GetAtt": ["PlanRole", "Arn"] },
    },
    DeployRoleArn: {
      Description: "role-to-assume of the deploy job.",
      Value: { "Fn::GetAtt": ["DeployRole", "Arn"] },
    },
    LambdaRoleArn: {
      Description: "The lambda-role-arn input.",
      Value: { "Fn::GetAtt": ["LambdaExecutionRole", "Arn"] },
    },
    StateMachineRoleArn: {
      Description: "The state-machine-role-arn input.",
      Value: { "Fn::GetAtt": ["StateMachineRole", "Arn"] },
    },
    EcsExecutionRoleArn: {
      Description:
        "The ecs-execution-role-arn input (ecs-task-role-arn: the LambdaRoleArn, which ECS tasks may assume too).",
      Value: { "Fn::GetAtt": ["EcsExecutionRole", "Arn"] },
    },
    SchedulerRoleArn: {
      Description: "The scheduler-role-arn input.",
      Value: { "Fn::GetAtt": ["SchedulerRole", "Arn"] },
    },
  },
};

const header =
  "# Generated by scripts/iam-template.mjs from docs/iam/*.json: edit those, then run `node scripts/iam-template.mjs`.\n";
// Dates stay strings: a YAML 1.1 reader would make `Version: 2012-10-17` a timestamp.
const yaml = stringify(template, { lineWidth: 0 }).replace(/: (\d{4}-\d{2}-\d{2})$/gm, ': "$1"');
const text = await format(header + yaml, {
  parser: "yaml",
  printWidth: 110,
});

if (process.argv.includes("--check")) {
  const current = readFileSync(OUT, "utf8");
  if (current !== text) {
    console.error(`${OUT} is stale: run 'node scripts/iam-template.mjs' and commit it.`);
    process.exit(1);
  }
} else {
  writeFileSync(OUT, text);
}
