/**
 * What moto cannot show, with aws-sdk-client-mock: functions that are Pending or InProgress,
 * updates that fail, ResourceConflictException, RevisionId conflicts (PreconditionFailedException),
 * StateMachineAlreadyExists, and AWS's own error shapes (InvalidDefinition naming the state,
 * expired credentials, a state machine role Step Functions cannot assume). moto always answers
 * Active/Successful, has no RevisionId and returns the old ARN on a duplicate create.
 */
import {
  CreateFunctionCommand,
  GetFunctionCommand,
  ListFunctionsCommand,
  ListTagsCommand,
  ListVersionsByFunctionCommand,
  PreconditionFailedException,
  PublishVersionCommand,
  ResourceConflictException,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type FunctionConfiguration,
  type LambdaClient,
} from "@aws-sdk/client-lambda";
import {
  CreateStateMachineCommand,
  DescribeStateMachineCommand,
  InvalidDefinition,
  CreateStateMachineAliasCommand,
  DescribeStateMachineAliasCommand,
  UpdateStateMachineAliasCommand,
  ListExecutionsCommand,
  ListStateMachineVersionsCommand,
  ListTagsForResourceCommand,
  StateMachineAlreadyExists,
  TagResourceCommand,
  UpdateStateMachineCommand,
  type SFNClient,
} from "@aws-sdk/client-sfn";
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  PutImageCommand,
  type ECRClient,
} from "@aws-sdk/client-ecr";
import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { applyPlan } from "../src/aws/apply.js";
import { pointAlias } from "../src/aws/alias.js";
import { createAwsClients, MissingRegionError, type AwsClients } from "../src/aws/clients.js";
import { deploymentRef, readDeployed, readForPlan } from "../src/aws/deployed.js";
import { UserError } from "../src/errors.js";
import { functionDescription, functionHashes, planDeployment } from "../src/plan/index.js";
import { Tag } from "../src/plan/desired.js";
import type { DeployedState, DesiredDeployment } from "../src/plan/types.js";
import { deployedStateFor, desiredDeployment } from "./harness/pipelines.js";

const REPO = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/spaceflights";
const DIGEST_A = "a".repeat(64);
const DIGEST_B = "b".repeat(64);
const ROLES = {
  lambdaRoleArn: "arn:aws:iam::123456789012:role/kedro-node",
  stateMachineRoleArn: "arn:aws:iam::123456789012:role/kedro-sfn",
};
const SM_ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:spaceflights";
const TRAIN = "spaceflights-data_science_train_model_node";
const fnArn = (name: string, version?: string): string =>
  `arn:aws:lambda:eu-west-1:123456789012:function:${name}${version ? `:${version}` : ""}`;

let clients: AwsClients;
let lambda: AwsClientStub<LambdaClient>;
let sfn: AwsClientStub<SFNClient>;
let ecr: AwsClientStub<ECRClient>;

beforeEach(async () => {
  clients = await createAwsClients({
    region: "eu-west-1",
    credentials: { accessKeyId: "x", secretAccessKey: "y" },
    lambdaLimiter: null,
    maxAttempts: 1,
  });
  lambda = mockClient(clients.lambda);
  sfn = mockClient(clients.sfn);
  sfn.on(TagResourceCommand).resolves({});
  sfn.on(UpdateStateMachineCommand).resolves({ stateMachineVersionArn: `${SM_ARN}:4` });
  // Reads these cases do not look at: nothing published yet, no versions, nothing running.
  lambda.on(ListVersionsByFunctionCommand).resolves({ Versions: [] });
  sfn.on(ListStateMachineVersionsCommand).resolves({ stateMachineVersions: [] });
  sfn.on(ListExecutionsCommand).resolves({ executions: [] });
  // The alias `live` already routes to version 3 (alias-ops.test.ts shows it against moto).
  sfn
    .on(DescribeStateMachineAliasCommand)
    .resolves({ routingConfiguration: [{ stateMachineVersionArn: `${SM_ARN}:3`, weight: 100 }] });
  sfn.on(UpdateStateMachineAliasCommand).resolves({});
  sfn.on(CreateStateMachineAliasCommand).resolves({});
  // The kept tag on the image (moto shows it for real in deploy.test.ts).
  ecr = mockClient(clients.ecr);
  ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageTags: [] }] });
  ecr.on(BatchGetImageCommand).resolves({ images: [{ imageManifest: "{}" }] });
  ecr.on(PutImageCommand).resolves({});
});

afterEach(() => {
  lambda.restore();
  sfn.restore();
  ecr.restore();
  clients.destroy();
});

function desired(overrides: Partial<Parameters<typeof desiredDeployment>[0]> = {}): DesiredDeployment {
  return desiredDeployment({
    stateMachineName: "spaceflights",
    imageUri: `${REPO}@sha256:${DIGEST_A}`,
    ...ROLES,
    ...overrides,
  });
}

/** Deployed like `before`, planned towards `after`, applied with the mocks. */
async function apply(after: DesiredDeployment, deployed: DeployedState | null, log: string[] = []) {
  const plan = planDeployment(after, deployed);
  return {
    plan,
    result: await applyPlan(clients, plan, after, { pollIntervalMs: 10, log: (line) => log.push(line) }),
  };
}

function configuration(name: string, extra: Partial<FunctionConfiguration>): FunctionConfiguration {
  return { FunctionName: name, FunctionArn: fnArn(name), ...extra };
}

/** The order of calls across both clients, as "Command" names. */
function callOrder(): string[] {
  const calls = [...lambda.calls(), ...sfn.calls()].map((call) => ({
    name: (call.args[0] as object).constructor.name.replace(/Command$/, ""),
    at: (call as unknown as { callId: number }).callId,
  }));
  return calls.sort((a, b) => a.at - b.at).map((call) => call.name);
}

describe("functions that are not ready at once (moto is always Active/Successful)", () => {
  it("waits for Pending functions to become Active before switching the state machine", async () => {
    const target = desired();
    lambda
      .on(CreateFunctionCommand)
      .callsFake((input: { FunctionName: string }) =>
        configuration(input.FunctionName, { State: "Pending", Version: "1", RevisionId: "r1" }),
      );
    const polls = new Map<string, number>();
    lambda.on(GetFunctionCommand).callsFake((input: { FunctionName: string; Qualifier?: string }) => {
      const seen = (polls.get(input.FunctionName) ?? 0) + 1;
      polls.set(input.FunctionName, seen);
      expect(input.Qualifier).toBe("1");
      return {
        Configuration: configuration(input.FunctionName, {
          State: seen < 3 ? "Pending" : "Active",
          Version: "1",
          RevisionId: "r2",
        }),
      };
    });
    sfn
      .on(CreateStateMachineCommand)
      .resolves({ stateMachineArn: SM_ARN, stateMachineVersionArn: `${SM_ARN}:1` });

    const { result } = await apply(target, null);
    expect([...polls.values()]).toEqual(Array(6).fill(3));
    const order = callOrder();
    expect(order.lastIndexOf("GetFunction")).toBeLessThan(order.indexOf("CreateStateMachine"));
    expect(result.functionArns[TRAIN]).toBe(fnArn(TRAIN, "1"));
  });

  it("waits for an InProgress update and locks the next call with the settled RevisionId", async () => {
    const before = desired();
    const after = desired({ overrides: { "data_science.train_model_node": { memoryMb: 4096 } } });
    lambda
      .on(UpdateFunctionConfigurationCommand)
      .resolves(configuration(TRAIN, { LastUpdateStatus: "InProgress", RevisionId: "r-during" }));
    lambda
      .on(GetFunctionCommand)
      .resolvesOnce({
        Configuration: configuration(TRAIN, { LastUpdateStatus: "InProgress", RevisionId: "r-during" }),
      })
      .resolves({
        Configuration: configuration(TRAIN, {
          State: "Active",
          LastUpdateStatus: "Successful",
          RevisionId: "r-settled",
        }),
      });
    lambda
      .on(PublishVersionCommand)
      .resolves(configuration(TRAIN, { Version: "2", FunctionArn: fnArn(TRAIN, "2"), RevisionId: "r-v2" }));

    const { result } = await apply(after, deployedStateFor(before));
    expect(lambda.commandCalls(UpdateFunctionConfigurationCommand)[0]?.args[0].input).toMatchObject({
      FunctionName: TRAIN,
      MemorySize: 4096,
      RevisionId: `rev-${TRAIN}`,
    });
    expect(lambda.commandCalls(GetFunctionCommand)).toHaveLength(2);
    expect(lambda.commandCalls(PublishVersionCommand)[0]?.args[0].input).toMatchObject({
      FunctionName: TRAIN,
      RevisionId: "r-settled",
    });
    expect(result.functionArns[TRAIN]).toBe(fnArn(TRAIN, "2"));
    // The switch, then the alias moves to the version it published.
    expect(callOrder().slice(-4)).toEqual([
      "UpdateStateMachine",
      "TagResource",
      "DescribeStateMachineAlias",
      "UpdateStateMachineAlias",
    ]);
  });

  it("stops before the state machine when an update fails, and says why", async () => {
    const before = desired();
    const after = desired({ imageUri: `${REPO}@sha256:${DIGEST_B}` });
    lambda
      .on(UpdateFunctionCodeCommand)
      .callsFake((input: { FunctionName: string }) =>
        configuration(input.FunctionName, { LastUpdateStatus: "InProgress", Version: "2" }),
      );
    lambda.on(GetFunctionCommand).callsFake((input: { FunctionName: string }) => ({
      Configuration: configuration(input.FunctionName, {
        LastUpdateStatus: "Failed",
        LastUpdateStatusReasonCode: "ImageAccessDenied",
        LastUpdateStatusReason: "Lambda does not have permission to access the ECR image.",
      }),
    }));
    await expect(apply(after, deployedStateFor(before))).rejects.toThrow(
      /ImageAccessDenied: Lambda does not have permission to access the ECR image/,
    );
    expect(sfn.commandCalls(UpdateStateMachineCommand)).toHaveLength(0);
  });

  it("waits out a ResourceConflictException (update in progress) and retries", async () => {
    const before = desired();
    const after = desired({ imageUri: `${REPO}@sha256:${DIGEST_B}` });
    const conflict = new ResourceConflictException({
      message: "An update is in progress for resource",
      $metadata: {},
    });
    lambda
      .on(UpdateFunctionCodeCommand)
      .callsFake((input: { FunctionName: string }) =>
        configuration(input.FunctionName, { Version: "2", FunctionArn: fnArn(input.FunctionName, "2") }),
      );
    lambda
      .on(UpdateFunctionCodeCommand, { FunctionName: TRAIN })
      .rejectsOnce(conflict)
      .callsFake(() => configuration(TRAIN, { Version: "2", FunctionArn: fnArn(TRAIN, "2") }));
    lambda
      .on(GetFunctionCommand)
      .resolves({ Configuration: configuration(TRAIN, { State: "Active", LastUpdateStatus: "Successful" }) });
    const { result } = await apply(after, deployedStateFor(before));
    expect(lambda.commandCalls(UpdateFunctionCodeCommand, { FunctionName: TRAIN })).toHaveLength(2);
    expect(result.functionArns[TRAIN]).toBe(fnArn(TRAIN, "2"));
  });
});

describe("optimistic locking with RevisionId (moto has none)", () => {
  it("re-reads after a RevisionId conflict and redoes only what is still missing", async () => {
    const before = desired();
    const after = desired({ overrides: { "data_science.train_model_node": { memoryMb: 4096 } } });
    const spec = after.compiled.functions.find((fn) => fn.functionName === TRAIN);
    if (!spec) throw new Error("no train function");
    // Our first attempt went through but its response was lost: the retry meets a new RevisionId.
    lambda.on(UpdateFunctionConfigurationCommand).rejects(
      new PreconditionFailedException({
        message: "The Revision Id provided does not match the latest Revision Id.",
        $metadata: {},
      }),
    );
    lambda.on(GetFunctionCommand).resolves({
      Configuration: configuration(TRAIN, {
        RevisionId: "r-after-lost-response",
        Description: functionDescription("spaceflights", functionHashes(spec, after), spec.nodes),
        CodeSha256: DIGEST_A,
        Architectures: ["x86_64"],
        MemorySize: 4096,
      }),
    });
    lambda
      .on(PublishVersionCommand)
      .resolves(configuration(TRAIN, { Version: "2", FunctionArn: fnArn(TRAIN, "2") }));

    const { result } = await apply(after, deployedStateFor(before));
    expect(lambda.commandCalls(UpdateFunctionConfigurationCommand)).toHaveLength(1);
    expect(lambda.commandCalls(PublishVersionCommand)[0]?.args[0].input).toMatchObject({
      RevisionId: "r-after-lost-response",
    });
    expect(result.functionArns[TRAIN]).toBe(fnArn(TRAIN, "2"));
  });

  it("gives up when the function keeps changing under it", async () => {
    const before = desired();
    const after = desired({ overrides: { "data_science.train_model_node": { memoryMb: 4096 } } });
    const spec = after.compiled.functions.find((fn) => fn.functionName === TRAIN);
    if (!spec) throw new Error("no train function");
    const someoneElses = { ...functionHashes(spec, after), config: "0".repeat(16) };
    lambda
      .on(UpdateFunctionConfigurationCommand)
      .rejects(new PreconditionFailedException({ message: "Revision mismatch", $metadata: {} }));
    lambda.on(GetFunctionCommand).resolves({
      Configuration: configuration(TRAIN, {
        RevisionId: "someone-else",
        Description: functionDescription("spaceflights", someoneElses, []),
        CodeSha256: DIGEST_A,
        Architectures: ["x86_64"],
      }),
    });
    await expect(apply(after, deployedStateFor(before))).rejects.toThrow(
      /kept changing while deploying: is another deploy running/,
    );
    expect(sfn.commandCalls(UpdateStateMachineCommand)).toHaveLength(0);
  });

  it("treats a create that already happened (lost response) as done", async () => {
    const target = desired({ nodes: ["data_science.train_model_node"] });
    const spec = target.compiled.functions[0];
    if (!spec) throw new Error("no function");
    lambda.on(CreateFunctionCommand).rejects(
      new ResourceConflictException({
        message: "Function already exist: " + spec.functionName,
        $metadata: {},
      }),
    );
    lambda.on(GetFunctionCommand).resolves({
      Configuration: configuration(spec.functionName, {
        Description: functionDescription("spaceflights", functionHashes(spec, target), spec.nodes),
        CodeSha256: DIGEST_A,
        Architectures: ["x86_64"],
        RevisionId: "r1",
      }),
    });
    lambda
      .on(PublishVersionCommand)
      .resolves(
        configuration(spec.functionName, { Version: "1", FunctionArn: fnArn(spec.functionName, "1") }),
      );
    sfn
      .on(CreateStateMachineCommand)
      .resolves({ stateMachineArn: SM_ARN, stateMachineVersionArn: `${SM_ARN}:1` });
    const { result } = await apply(target, null);
    expect(lambda.commandCalls(PublishVersionCommand)).toHaveLength(1);
    expect(result.functionArns[spec.functionName]).toBe(fnArn(spec.functionName, "1"));
  });
});

describe("state machine calls (moto returns the old ARN on a duplicate create)", () => {
  it("updates instead when the state machine appeared since the plan (StateMachineAlreadyExists)", async () => {
    const target = desired();
    const deployed = { ...deployedStateFor(target), stateMachine: null };
    // With the state machine unread, every function publishes (PublishVersion returns the latest version when nothing changed).
    lambda
      .on(PublishVersionCommand)
      .callsFake((input: { FunctionName: string }) =>
        configuration(input.FunctionName, { Version: "1", FunctionArn: fnArn(input.FunctionName, "1") }),
      );
    sfn
      .on(CreateStateMachineCommand)
      .rejects(
        new StateMachineAlreadyExists({ message: "State Machine Already Exists: 'arn...'", $metadata: {} }),
      );
    const { result } = await apply(target, deployed);
    expect(sfn.commandCalls(UpdateStateMachineCommand)[0]?.args[0].input).toMatchObject({
      stateMachineArn: SM_ARN,
      publish: true,
    });
    expect(result.stateMachineVersionArn).toBe(`${SM_ARN}:4`);
  });

  it("shows AWS's message and the offending state when it rejects the definition", async () => {
    const before = desired();
    const after = desired({ overrides: { "data_science.train_model_node": { memoryMb: 4096 } } });
    lambda.on(UpdateFunctionConfigurationCommand).resolves(configuration(TRAIN, {}));
    lambda
      .on(PublishVersionCommand)
      .resolves(configuration(TRAIN, { Version: "2", FunctionArn: fnArn(TRAIN, "2") }));
    const message =
      "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The value for the field 'Next' must be a valid state name at /States/data_science.train_model_node/Next'";
    sfn.on(UpdateStateMachineCommand).rejects(new InvalidDefinition({ message, $metadata: {} }));
    const failure = await apply(after, deployedStateFor(before)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UserError);
    expect((failure as Error).message).toBe(
      `AWS rejected the state machine definition (state "data_science.train_model_node"): ${message}`,
    );
    // Only the mark that a deploy is under way (before the function changed) was tagged: the
    // switch's tags, which record what the state machine runs, were not.
    expect(sfn.commandCalls(TagResourceCommand).map((call) => call.args[0].input.tags)).toEqual([
      [{ key: Tag.deploying, value: expect.stringMatching(/^[0-9a-f]{12}$/) }],
    ]);
  });

  it("names the state machine role Step Functions cannot assume", async () => {
    const target = desired();
    lambda
      .on(CreateFunctionCommand)
      .callsFake((input: { FunctionName: string }) =>
        configuration(input.FunctionName, { Version: "1", State: "Active" }),
      );
    sfn.on(CreateStateMachineCommand).rejects(
      Object.assign(
        new Error(
          "Neither the global service principal states.amazonaws.com, nor the regional one is authorized to assume the provided role.",
        ),
        {
          name: "AccessDeniedException",
          $metadata: { httpStatusCode: 400 },
        },
      ),
    );
    await expect(apply(target, null)).rejects.toThrow(
      `Input 'state-machine-role-arn': Step Functions cannot use role ${ROLES.stateMachineRoleArn}`,
    );
  });
});

describe("reading what is deployed", () => {
  it("plans against nothing, and says so, without a region or credentials", async () => {
    const basis = await readForPlan(
      () => Promise.reject(new MissingRegionError("")),
      deploymentRef(desired()),
    );
    expect(basis).toEqual({
      deployed: null,
      note: "No AWS region or credentials configured: planned as if nothing were deployed.",
    });
  });

  it("turns expired credentials into a clear error", async () => {
    const expired = Object.assign(new Error("The security token included in the request is expired"), {
      name: "ExpiredTokenException",
      $metadata: { httpStatusCode: 403 },
    });
    lambda.on(ListFunctionsCommand).rejects(expired);
    // The first call of a read is the state machine's.
    sfn.on(DescribeStateMachineCommand).rejects(expired);
    const failure = await readDeployed(clients, deploymentRef(desired())).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UserError);
    expect((failure as UserError).message).toMatch(/AWS rejected the credentials .*ExpiredTokenException/);
    expect((failure as UserError).hint).toMatch(/expired/);
  });

  it("reads only the desired functions the definition does not vouch for, and lists nothing", async () => {
    const target = desired();
    const deployed = deployedStateFor(target, 1, "eu-west-1");
    // The train Task records another spec hash: its version was built from something else.
    const definition = JSON.parse(JSON.stringify(deployed.stateMachine?.definition)) as {
      States: Record<string, { Parameters?: { FunctionName?: string }; Comment?: string }>;
    };
    const train = Object.values(definition.States).find((state) =>
      state.Parameters?.FunctionName?.includes(TRAIN),
    );
    if (train) train.Comment = "kedro-sfn spec 0123456789abcdef";
    sfn.on(DescribeStateMachineCommand).resolves({
      stateMachineArn: SM_ARN,
      name: "spaceflights",
      definition: JSON.stringify(definition),
      roleArn: ROLES.stateMachineRoleArn,
    });
    sfn.on(ListStateMachineVersionsCommand).resolves({
      stateMachineVersions: [{ stateMachineVersionArn: `${SM_ARN}:1`, creationDate: new Date() }],
    });
    sfn.on(ListTagsForResourceCommand).resolves({
      tags: Object.entries(deployed.stateMachine?.tags ?? {}).map(([key, value]) => ({ key, value })),
    });
    // Its marker was edited by hand, but its tag says it is ours.
    lambda.on(GetFunctionCommand).resolves({
      Configuration: {
        FunctionName: TRAIN,
        FunctionArn: fnArn(TRAIN),
        Description: "edited by hand",
        CodeSha256: DIGEST_A,
      },
      Tags: { "kedro-sfn:state-machine": "spaceflights" },
    });

    const state = await readDeployed(clients, deploymentRef(target));
    expect(lambda.commandCalls(GetFunctionCommand).map((call) => call.args[0].input.FunctionName)).toEqual([
      TRAIN,
    ]);
    expect(lambda.commandCalls(ListFunctionsCommand)).toHaveLength(0);
    expect(lambda.commandCalls(ListTagsCommand)).toHaveLength(0);
    expect(state.functions).toHaveLength(6);
    expect(state.functions.filter((fn) => fn.source === "bound")).toHaveLength(5);
    expect(state.foreign).toEqual([]);
    expect(state.stateMachine?.tasks[TRAIN]?.versionArn).toBe(fnArn(TRAIN, "1"));
    expect(planDeployment(target, state).functions.filter((fn) => fn.action !== "noop")).toMatchObject([
      { functionName: TRAIN },
    ]);
  });
});

describe("the alias on AWS (moto overwrites a duplicate CreateStateMachineAlias instead of refusing it)", () => {
  it("updates the alias when its create meets one made meanwhile (ConflictException), and writes nothing when it routes there already", async () => {
    const version = `${SM_ARN}:4`;
    sfn
      .on(CreateStateMachineAliasCommand)
      .rejects(Object.assign(new Error("Alias live already exists"), { name: "ConflictException" }));
    const moved = await pointAlias(clients.sfn, SM_ARN, version, null, "kedro-sfn commit c plan p");
    expect(moved).toEqual({ arn: `${SM_ARN}:live`, wrote: true });
    expect(sfn.commandCalls(UpdateStateMachineAliasCommand).map((call) => call.args[0].input)).toEqual([
      {
        stateMachineAliasArn: `${SM_ARN}:live`,
        routingConfiguration: [{ stateMachineVersionArn: version, weight: 100 }],
        description: "kedro-sfn commit c plan p",
      },
    ]);
    sfn.resetHistory();
    const current = { arn: `${SM_ARN}:live`, name: "live", versionArn: version };
    expect(await pointAlias(clients.sfn, SM_ARN, version, current, "again")).toEqual({
      arn: `${SM_ARN}:live`,
      wrote: false,
    });
    expect(sfn.calls()).toHaveLength(0);
  });
});
