/**
 * AWS failures end in clear errors naming the call, the resource and what to do, never a bare
 * stack: a missing conf bucket (moto), throttling that outlasts the SDK's retries (the fault
 * proxy in front of moto answers every Lambda call as AWS does over a quota), and the GetFunction
 * of a re-plan after a conflict (aws-sdk-client-mock: moto has no RevisionId, so it never
 * answers PreconditionFailedException, and it cannot throttle one chosen call).
 */
import {
  GetFunctionCommand,
  PreconditionFailedException,
  TooManyRequestsException,
  UpdateFunctionConfigurationCommand,
} from "@aws-sdk/client-lambda";
import { describe, expect, it } from "@jest/globals";
import { mockClient } from "aws-sdk-client-mock";
import { TagResourceCommand } from "@aws-sdk/client-sfn";
import { applyPlan } from "../src/aws/apply.js";
import { createAwsClients } from "../src/aws/clients.js";
import { uploadConf } from "../src/aws/confUpload.js";
import { deploymentRef, readDeployed } from "../src/aws/deployed.js";
import { describeError, UserError } from "../src/errors.js";
import { planDeployment } from "../src/plan/index.js";
import { deployedStateFor, desiredDeployment } from "./harness/pipelines.js";
import { useLocalStack } from "./harness/localStack.js";
import { EXAMPLE } from "./harness/python.js";

describe("AWS failures against the local stack", () => {
  const stack = useLocalStack({ faultProxy: true });

  it("names the input and the bucket when the conf-source bucket does not exist", async () => {
    const clients = await stack().clients();
    const upload = uploadConf(clients.s3, EXAMPLE, "s3://no-such-kedro-bucket/conf");
    await expect(upload).rejects.toThrow(UserError);
    await expect(upload).rejects.toThrow(
      /^Input 'conf-source': the S3 bucket "no-such-kedro-bucket" does not exist: could not upload the configuration to s3:\/\/no-such-kedro-bucket\/conf\//,
    );
  }, 60_000);

  it("says AWS kept throttling, after how many attempts, and what to do", async () => {
    await stack().faults({ throttle_rate: 1, services: ["lambda"] });
    const clients = await stack().clients({ viaProxy: true, maxAttempts: 2, lambdaLimiter: null });
    const desired = desiredDeployment({
      stateMachineName: "spaceflights",
      imageUri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/x@sha256:" + "a".repeat(64),
      lambdaRoleArn: stack().roles.lambda,
      stateMachineRoleArn: stack().roles.stateMachine,
    });
    const error = await readDeployed(clients, deploymentRef(desired)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(describeError(error)).toMatch(
      /^AWS kept throttling the request to read the deployed state of state machine "spaceflights" after 2 attempts \(/,
    );
    expect(describeError(error)).toMatch(/re-run the job later/);
    expect((await stack().faultState()).stats["lambda.throttle"]).toBeGreaterThanOrEqual(2);
  }, 60_000);
});

describe("a re-plan whose GetFunction fails (aws-sdk-client-mock)", () => {
  it("names GetFunction and the function instead of a bare SDK error", async () => {
    const clients = await createAwsClients({
      region: "eu-west-1",
      credentials: { accessKeyId: "x", secretAccessKey: "y" },
      lambdaLimiter: null,
      maxAttempts: 1,
    });
    const lambda = mockClient(clients.lambda);
    // The apply first marks the state machine as being deployed (Tag.deploying).
    const sfn = mockClient(clients.sfn);
    sfn.on(TagResourceCommand).resolves({});
    try {
      const roles = {
        lambdaRoleArn: "arn:aws:iam::123456789012:role/kedro-node",
        stateMachineRoleArn: "arn:aws:iam::123456789012:role/kedro-sfn",
      };
      const image = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/spaceflights@sha256:${"a".repeat(64)}`;
      const before = desiredDeployment({ stateMachineName: "spaceflights", imageUri: image, ...roles });
      const after = desiredDeployment({
        stateMachineName: "spaceflights",
        imageUri: image,
        ...roles,
        overrides: { "data_science.train_model_node": { memoryMb: 4096 } },
      });
      lambda
        .on(UpdateFunctionConfigurationCommand)
        .rejects(new PreconditionFailedException({ message: "Revision mismatch", $metadata: {} }));
      lambda.on(GetFunctionCommand).rejects(
        new TooManyRequestsException({
          message: "Rate exceeded",
          $metadata: { httpStatusCode: 429, attempts: 8 },
        }),
      );
      const plan = planDeployment(after, deployedStateFor(before));
      const error = await applyPlan(clients, plan, after, { pollIntervalMs: 10 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toMatch(
        /^AWS kept throttling the request to read Lambda function spaceflights-data_science_train_model_node again after it changed while deploying \(GetFunction\) after 8 attempts/,
      );
    } finally {
      lambda.restore();
      sfn.restore();
      clients.destroy();
    }
  });
});
