/**
 * What a CI run of the action does against AWS, stage by stage, for the IAM test to record.
 * Each scenario drives the product's own functions with recording clients; a stage that calls
 * AWS in a new way adds it here, and docs/iam/ci-role.json follows.
 */
import { readDeployed, deploymentRef } from "../../src/aws/deployed.js";
import type { AwsClients } from "../../src/aws/clients.js";
import { applyPlan } from "../../src/aws/apply.js";
import { ensureRepository, getRegistryCredentials } from "../../src/aws/ecr.js";
import { planDeployment } from "../../src/plan/index.js";
import type { DesiredDeployment } from "../../src/plan/types.js";
import { findStateMachine } from "../../src/stages/runDeployed.js";
import { executePipeline } from "../../src/run/execute.js";
import { deploy } from "./deploy.js";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { uploadConf } from "../../src/aws/confUpload.js";
import { TEST_CREDENTIALS, type LocalStack } from "./localStack.js";
import { EXAMPLE } from "./python.js";
import { compiledSpaceflights, desiredDeployment } from "./pipelines.js";

export interface IamScenario {
  stage: string;
  run(stack: LocalStack, clients: AwsClients): Promise<void>;
}

export const NAME = "spaceflights";
export const CONF_BUCKET = "spaceflights-conf";
export const CONF_PREFIX = "conf";
const REPOSITORY = "spaceflights";

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
      await deploy(clients, v2);
      const memoryByNode = { "data_science.train_model_node": 2048 };
      const evaluate = { "data_science.evaluate_model_node": "data_science.evaluate_node" };
      await deploy(
        clients,
        { ...v2, compiled: compiledSpaceflights(NAME, { memoryByNode, renameNodes: evaluate }) },
        { prune: true },
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
    stage: "run",
    async run(stack, clients) {
      // moto cannot run an execution with CloudWatch logging on (it has no such log group): run without.
      const desired = desiredFor(stack, await stack.putImage(REPOSITORY, "run"), {
        logging: { level: "OFF" },
      });
      const { result } = await deploy(clients, desired);
      // `kedro-sfn run --state-machine NAME` finds the machine by name.
      await findStateMachine(clients.sfn, NAME);
      await executePipeline(
        clients.sfn,
        {
          // The action starts the version ARN; moto 5.2.5 fails StartExecution on a version (500), so start the machine.
          stateMachineArn: result.stateMachineArn,
          name: "iam-run",
          input: "{}",
          wait: true,
          timeoutMs: 60_000,
          tasks: desired.compiled.functions,
          failOnExecutionFailure: false,
        },
        {
          log: () => undefined,
          warn: () => undefined,
          sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
          now: Date.now,
          pollMs: 100,
          maxPollMs: 500,
        },
      );
    },
  },
];
