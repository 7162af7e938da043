/**
 * What a CI run of the action does against AWS, stage by stage, for the IAM test to record.
 * Each scenario drives the product's own functions with recording clients; a stage that calls
 * AWS in a new way adds it here, and docs/iam/deploy-role.json follows (plan-role.json for planScenario).
 */
import { readDeployed, deploymentRef } from "../../src/aws/deployed.js";
import type { AwsClients } from "../../src/aws/clients.js";
import { applyPlan } from "../../src/aws/apply.js";
import { ensureRepository, getRegistryCredentials } from "../../src/aws/ecr.js";
import { planDeployment } from "../../src/plan/index.js";
import type { DesiredDeployment } from "../../src/plan/types.js";
import { findStateMachine } from "../../src/stages/runDeployed.js";
import { applyRollback, planRollback } from "../../src/ops/rollback.js";
import { applyDestroy, planDestroy } from "../../src/ops/destroy.js";
import { deploy, runToEnd } from "./deploy.js";
import { recordingIO } from "./jobIO.js";
import { lastLogLines } from "../../src/aws/ecs.js";
import { compilePipeline, parseFunctionOverrides } from "../../src/compile/index.js";
import { CreateFunctionCommand } from "@aws-sdk/client-lambda";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { parseOptions } from "../../src/options.js";
import { UserError } from "../../src/errors.js";
import { Input } from "../../src/constants.js";
import { createJobContext } from "../../src/stages/context.js";
import { planStage, type Planned } from "../../src/stages/plan.js";
import type { CallRecorder } from "../../src/aws/clients.js";
import {
  FUNCTION_DEFAULTS,
  compiledSpaceflights,
  desiredDeployment,
  spaceflightsGraph,
} from "./pipelines.js";
import { uploadConf } from "../../src/aws/confUpload.js";
import { TEST_CREDENTIALS, type LocalStack } from "./localStack.js";
import { EXAMPLE } from "./python.js";

export interface IamScenario {
  stage: string;
  /** `clients` record into `recorders`; a scenario that makes its own clients passes them on. */
  run(stack: LocalStack, clients: AwsClients, recorders: CallRecorder[]): Promise<void>;
}

export const NAME = "spaceflights";
export const REPOSITORY = "spaceflights";
export const CONF_BUCKET = "spaceflights-conf";
export const CONF_PREFIX = "conf";
/** The ecs-execution-role-arn of the ECS scenario (moto checks no role; the policies name it). */
export const ECS_EXECUTION_ROLE_NAME = "kedro-ecs-execution";

/** The example with its training node routed to ECS Fargate (runner: ecs), as sfn.yml would. */
function compiledWithEcsNode(): DesiredDeployment["compiled"] {
  return compilePipeline(spaceflightsGraph(), {
    stateMachineName: NAME,
    groupBy: [],
    structure: "dag",
    functionDefaults: FUNCTION_DEFAULTS,
    overrides: parseFunctionOverrides(
      "functions:\n  overrides:\n    - node: data_science.train_model_node\n      runner: ecs\n      timeout: 7200\n",
      "conf/aws/sfn.yml",
    ),
    ecs: {
      cluster: "kedro",
      subnets: ["subnet-0123456789abcdef0"],
      securityGroups: [],
      assignPublicIp: false,
    },
  });
}

/** The scheduler-role-arn a scheduled deploy passes (moto's Scheduler does not check it exists). */
export const schedulerRoleArn = (stack: Pick<LocalStack, "accountId">): string =>
  `arn:aws:iam::${stack.accountId}:role/kedro-sfn-scheduler`;

export function desiredFor(
  stack: LocalStack,
  imageUri: string,
  overrides: Partial<DesiredDeployment> = {},
): DesiredDeployment {
  return {
    ...desiredDeployment({
      stateMachineName: NAME,
      imageUri,
      lambdaRoleArn: stack.roles.lambda,
      stateMachineRoleArn: stack.roles.stateMachine,
      compiled: compiledSpaceflights(NAME),
    }),
    // Logging and tracing on, so the policies cover them.
    logging: {
      level: "ERROR",
      logGroupArn: `arn:aws:logs:${stack.region}:${stack.accountId}:log-group:/aws/vendedlogs/states/${NAME}`,
    },
    tracing: true,
    ...overrides,
  };
}

export const iamScenarios: IamScenario[] = [
  {
    stage: "image",
    async run(stack, clients) {
      await ensureRepository(clients.ecr, REPOSITORY, 10);
      await ensureRepository(clients.ecr, REPOSITORY, 10);
      await getRegistryCredentials(clients.ecr, () => undefined);
      // conf-source: s3://... uploads conf/ (the bucket is the user's, made outside the action).
      const setup = new S3Client({
        endpoint: stack.endpoint,
        region: stack.region,
        credentials: TEST_CREDENTIALS,
      });
      await setup.send(new CreateBucketCommand({ Bucket: CONF_BUCKET }));
      setup.destroy();
      await uploadConf(clients.s3, EXAMPLE, `s3://${CONF_BUCKET}/${CONF_PREFIX}`);
    },
  },
  {
    stage: "deploy",
    async run(stack, clients) {
      const v1 = desiredFor(stack, await stack.putImage(REPOSITORY, "v1"));
      // Plan only (a pull request), first deploy, no-op deploy.
      planDeployment(v1, await readDeployed(clients, deploymentRef(v1)));
      await deploy(clients, v1);
      await deploy(clients, v1);
      // New image and memory, retagged (a tag removed), node renamed with prune.
      const v2 = desiredFor(stack, await stack.putImage(REPOSITORY, "v2"), {
        compiled: compiledSpaceflights(NAME, { memoryByNode: { "data_science.train_model_node": 2048 } }),
        tags: { owner: "ml" },
      });
      // Keeping one version: the old state machine and function versions, and the old image's kept tag, go.
      await deploy(clients, v2, { keepVersions: 1 });
      const memoryByNode = { "data_science.train_model_node": 2048 };
      const evaluate = { "data_science.evaluate_model_node": "data_science.evaluate_node" };
      await deploy(
        clients,
        { ...v2, compiled: compiledSpaceflights(NAME, { memoryByNode, renameNodes: evaluate }) },
        { prune: true, keepVersions: 1 },
      );
      // A deploy retried with a stale plan: its creates meet functions that now exist.
      const split = { ...evaluate, "data_science.split_data_node": "data_science.split_node" };
      const v3 = { ...v2, compiled: compiledSpaceflights(NAME, { memoryByNode, renameNodes: split }) };
      const stale = planDeployment(v3, await readDeployed(clients, deploymentRef(v3)), { prune: true });
      await applyPlan(clients, stale, v3, { pollIntervalMs: 10 });
      await applyPlan(clients, stale, v3, { pollIntervalMs: 10 });
    },
  },
  {
    stage: "deploy with a node on ECS",
    async run(stack, clients) {
      const ecs = {
        executionRoleArn: `arn:aws:iam::${stack.accountId}:role/${ECS_EXECUTION_ROLE_NAME}`,
        taskRoleArn: stack.roles.lambda,
      };
      const v1 = desiredFor(stack, await stack.putImage(REPOSITORY, "ecs1"), {
        compiled: compiledWithEcsNode(),
        ecs,
      });
      await deploy(clients, v1);
      await deploy(clients, v1);
      await deploy(clients, { ...v1, imageUri: await stack.putImage(REPOSITORY, "ecs2") });
      // A failed ECS task's summary reads the end of its log (the stream exists once the task ran).
      await lastLogLines(clients.logs, `/ecs/${NAME}-ecs`, `kedro-sfn/kedro/0123456789abcdef`);
      // Destroy deregisters the family's revisions with the rest.
      await applyDestroy(clients, await planDestroy(clients, NAME), () => undefined);
    },
  },
  {
    stage: "run",
    async run(stack, clients) {
      // moto cannot run an execution with CloudWatch logging on (it has no such log group): run without.
      const desired = desiredFor(stack, await stack.putImage(REPOSITORY, "run"), {
        logging: { level: "OFF" },
      });
      const { result } = await deploy(clients, desired);
      // `kedro-sfn run --state-machine NAME` finds the machine by name.
      await findStateMachine(clients.sfn, NAME);
      await runToEnd(clients.sfn, {
        // Through the alias, as the action does (scripts/moto_server.py runs the version it routes to).
        stateMachineArn: result.stateMachineAliasArn ?? result.stateMachineArn,
        versionArn: result.stateMachineVersionArn,
        name: "iam-run",
        tasks: desired.compiled.functions,
      });
    },
  },
  {
    stage: "rollback",
    async run(stack, clients) {
      await deploy(clients, desiredFor(stack, await stack.putImage(REPOSITORY, "v1")));
      const memoryByNode = { "data_science.train_model_node": 2048 };
      await deploy(
        clients,
        desiredFor(stack, await stack.putImage(REPOSITORY, "v1"), {
          compiled: compiledSpaceflights(NAME, { memoryByNode }),
        }),
      );
      await applyRollback(clients, await planRollback(clients, NAME, "previous"));
    },
  },
  {
    stage: "schedule",
    async run(stack, clients) {
      const image = await stack.putImage(REPOSITORY, "v1");
      const schedule = {
        expression: "cron(0 6 * * ? *)",
        timezone: "Europe/Paris",
        input: '{"params":{}}',
        roleArn: schedulerRoleArn(stack),
      };
      // Created, updated, removed (the plan reads it each time), created again and destroyed with the rest.
      await deploy(clients, desiredFor(stack, image, { schedule }));
      await deploy(
        clients,
        desiredFor(stack, image, { schedule: { ...schedule, expression: "rate(1 day)" } }),
      );
      await deploy(clients, desiredFor(stack, image));
      await deploy(clients, desiredFor(stack, image, { schedule }));
      await applyDestroy(clients, await planDestroy(clients, NAME), () => undefined);
    },
  },
  {
    stage: "destroy",
    async run(stack, clients) {
      await deploy(clients, desiredFor(stack, await stack.putImage(REPOSITORY, "v1")));
      const plan = await planDestroy(clients, NAME, { ecrRepository: REPOSITORY });
      await applyDestroy(clients, plan, () => undefined);
    },
  },
  {
    // A pipeline too big for one state machine (a tiny split budget here): children are created,
    // the run reads their executions, and an unsplit redeploy with prune deletes them.
    stage: "split",
    async run(stack, clients) {
      const compiled = compilePipeline(spaceflightsGraph(), {
        stateMachineName: NAME,
        groupBy: [],
        structure: "dag",
        functionDefaults: FUNCTION_DEFAULTS,
        split: { definitionBytes: 4_000, historyEvents: 30 },
      });
      const desired = desiredFor(stack, await stack.putImage(REPOSITORY, "split"), {
        compiled,
        logging: { level: "OFF" },
      });
      const { result } = await deploy(clients, desired);
      await runToEnd(clients.sfn, {
        stateMachineArn: result.stateMachineArn,
        name: "iam-split-run",
        tasks: desired.compiled.functions,
      });
      await deploy(clients, { ...desired, compiled: compiledSpaceflights(NAME) }, { prune: true });
    },
  },
];

/**
 * `mode: plan` as the job runs it: the job context makes the clients (so plan mode's read-only
 * guard is on), and the plan stage reads what is deployed. `recorders` see every attempt.
 */
export async function planThroughJobContext(
  stack: LocalStack,
  recorders: CallRecorder[],
  compiled = compiledSpaceflights(NAME),
  overrides: Partial<Record<Input, string>> = {},
): Promise<Planned & { ctx: ReturnType<typeof createJobContext> }> {
  const inputs: Partial<Record<Input, string>> = {
    [Input.StateMachineName]: NAME,
    [Input.EcrRepository]: REPOSITORY,
    [Input.LambdaRoleArn]: stack.roles.lambda,
    [Input.StateMachineRoleArn]: stack.roles.stateMachine,
    ...overrides,
  };
  const options = parseOptions((name) => inputs[name] ?? "");
  const ctx = createJobContext(options, recordingIO(), "plan", {}, (given) =>
    stack.clients({ recorders: [...recorders, ...(given.recorders ?? [])] }),
  );
  const planned = await planStage(ctx, { graph: spaceflightsGraph(), compiled, findings: [] });
  return { ...planned, ctx };
}

/**
 * A pull request's plan against a deployed pipeline (a memory change, a renamed node whose new
 * function name someone else's function holds): what the plan role must allow.
 */
export const planScenario: IamScenario = {
  stage: "plan",
  async run(stack, _clients, recorders) {
    // What is deployed before the plan is not part of it: these clients record nothing.
    const setup = await stack.clients();
    const image = await stack.putImage(REPOSITORY, "v1");
    // Nothing deployed yet: one listing says which desired names exist.
    (await planThroughJobContext(stack, recorders, compiledSpaceflights(NAME))).ctx.aws.destroy();
    // Logging off: moto cannot run an execution with it on. The execution is what the plan's
    // learned durations read (learn-durations is on by default): ListExecutions, GetExecutionHistory.
    const deployed = desiredFor(stack, image, { logging: { level: "OFF" } });
    const { result } = await deploy(setup, deployed);
    const past = await runToEnd(setup.sfn, {
      stateMachineArn: result.stateMachineArn,
      name: "plan-learns-from",
      tasks: deployed.compiled.functions,
    });
    if (past.status !== "SUCCEEDED") throw new Error(`The plan scenario's execution ended ${past.status}`);
    const memoryByNode = { "data_science.train_model_node": 2048 };
    const compiled = compiledSpaceflights(NAME, {
      memoryByNode,
      renameNodes: { "data_science.evaluate_model_node": "data_science.evaluate_node" },
    });
    const renamed = compiled.functions.find((fn) => fn.nodes.includes("data_science.evaluate_node"));
    if (!renamed) throw new Error("The renamed node has no function");
    await setup.lambda.send(
      new CreateFunctionCommand({
        FunctionName: renamed.functionName,
        PackageType: "Image",
        Code: { ImageUri: image },
        Role: stack.roles.lambda,
        Tags: { team: "someone-else" },
      }),
    );
    const changed = await planThroughJobContext(
      stack,
      recorders,
      compiledSpaceflights(NAME, { memoryByNode }),
    );
    changed.ctx.aws.destroy();
    if (!changed.plan.summary.hasChanges) throw new Error("The plan scenario's plan shows no change");
    // With a schedule: one GetSchedule.
    const scheduled = { [Input.Schedule]: "rate(1 day)", [Input.SchedulerRoleArn]: schedulerRoleArn(stack) };
    const withSchedule = await planThroughJobContext(stack, recorders, compiledSpaceflights(NAME), scheduled);
    withSchedule.ctx.aws.destroy();
    if (withSchedule.plan.schedule?.action !== "create")
      throw new Error("The plan scenario's schedule input plans no schedule to create");
    // Without the role inputs (a plan may run without them) the account is unknown: found by name.
    const noRoles = { [Input.LambdaRoleArn]: "", [Input.StateMachineRoleArn]: "" };
    (await planThroughJobContext(stack, recorders, compiledSpaceflights(NAME), noRoles)).ctx.aws.destroy();
    // The plan reads the foreign function's tags to say whose it is, then refuses to take it over.
    const refused = await planThroughJobContext(stack, recorders, compiled).then(
      () => null,
      (error: unknown) => error,
    );
    if (!(refused instanceof UserError) || !refused.message.includes("not managed by kedro-sfn"))
      throw refused;
  },
};
