/**
 * Every input check runs before the first AWS write, in plan mode too (src/stages/checkInputs.ts):
 * each refused input below leaves nothing behind in the moto account: no AWS write, no ECR
 * repository, no image. The example is inspected once with real Kedro; the builder probe is the
 * real docker CLI (against a dead socket for the missing-daemon case).
 */
import { DescribeRepositoriesCommand, ECRClient } from "@aws-sdk/client-ecr";
import { beforeAll, describe, expect, it } from "@jest/globals";
import { execFileSync } from "node:child_process";
import { Input } from "../src/constants.js";
import { UserError } from "../src/errors.js";
import { parseOptions, type Options } from "../src/options.js";
import { parseImageReference } from "../src/image/reference.js";
import { parseRegistry } from "../src/image/options.js";
import { renderDockerfile } from "../src/image/context.js";
import { validateDeployInputs, partitionOfRegion } from "../src/plan/desired.js";
import { checkBuilder } from "../src/image/build.js";
import { runCommand } from "../src/process/command.js";
import { checkInputs } from "../src/stages/checkInputs.js";
import { createJobContext } from "../src/stages/context.js";
import { deployStage } from "../src/stages/deploy.js";
import { inspectAndCompile, type Inspected } from "../src/stages/inspect.js";
import { planStage } from "../src/stages/plan.js";
import { TEST_CREDENTIALS, useLocalStack, REPO_ROOT } from "./harness/localStack.js";
import { EXAMPLE, PYTHON } from "./harness/python.js";
import { recordingIO } from "./harness/jobIO.js";

const DEAD_DOCKER = "unix:///nonexistent/kedro-sfn-test/docker.sock";

/** The shared test engine (scripts/docker_engine.py returns the running one). */
function liveDockerHost(): string {
  const out = execFileSync("python3", [`${REPO_ROOT}/scripts/docker_engine.py`, "start"], {
    encoding: "utf8",
  });
  return (JSON.parse(out.trim().split("\n").pop() ?? "{}") as { host: string }).host;
}

async function withDockerHost<T>(host: string, work: () => Promise<T>): Promise<T> {
  const saved = process.env["DOCKER_HOST"];
  process.env["DOCKER_HOST"] = host;
  try {
    return await work();
  } finally {
    if (saved === undefined) delete process.env["DOCKER_HOST"];
    else process.env["DOCKER_HOST"] = saved;
  }
}

describe("refused inputs leave nothing behind (moto server)", () => {
  const stack = useLocalStack();
  let inspected: Inspected;
  let dockerHost: string;

  const options = (over: Partial<Record<Input, string>>): Options => {
    const values: Partial<Record<Input, string>> = {
      [Input.ProjectPath]: EXAMPLE,
      [Input.Python]: PYTHON,
      [Input.StateMachineName]: "spaceflights",
      [Input.EcrRepository]: "spaceflights",
      [Input.LambdaRoleArn]: stack().roles.lambda,
      [Input.StateMachineRoleArn]: stack().roles.stateMachine,
      ...over,
    };
    return parseOptions((name) => values[name] ?? "");
  };

  beforeAll(async () => {
    dockerHost = liveDockerHost();
    const io = recordingIO();
    inspected = await inspectAndCompile({ options: options({}), io, timings: [], warnings: [] });
  }, 180_000);

  async function leftBehind(): Promise<{ writes: string[]; repositories: number }> {
    // Read back through a client that records nothing: the action never calls it.
    const ecr = new ECRClient({
      endpoint: stack().endpoint,
      region: stack().region,
      credentials: TEST_CREDENTIALS,
    });
    try {
      const listed = await ecr.send(new DescribeRepositoriesCommand({}));
      return {
        writes: stack()
          .actions.writes()
          .map((call) => call.iamAction),
        repositories: listed.repositories?.length ?? 0,
      };
    } finally {
      ecr.destroy();
    }
  }

  const cases: [string, Partial<Record<Input, string>>, RegExp, string?][] = [
    [
      "a bad registry",
      { [Input.Registry]: "not a host/with space" },
      /Input 'registry' must be a registry host/,
    ],
    ["a registry with a bad port", { [Input.Registry]: "127.0.0.1:99999" }, /Input 'registry'/],
    [
      "a bad base image",
      { [Input.BaseImage]: "Public.ECR.aws/Lambda/Python:3.12" },
      /Input 'base-image' is not a valid image reference/,
    ],
    [
      "a base image with an instruction",
      { [Input.BaseImage]: "python:3.12 AS x\nRUN curl evil" },
      /Input 'base-image'/,
    ],
    [
      "a missing Docker daemon",
      {},
      /Input 'builder' is docker, but the Docker daemon at DOCKER_HOST=unix:\/\/\/nonexistent/,
      DEAD_DOCKER,
    ],
    [
      "a bad Lambda role ARN",
      { [Input.LambdaRoleArn]: "arn:aws:iam::123:role/short-account" },
      /Input 'lambda-role-arn': .* is not an IAM role ARN/,
    ],
    [
      "a role of another partition",
      { [Input.StateMachineRoleArn]: "arn:aws-cn:iam::123456789012:role/sfn" },
      /Input 'state-machine-role-arn': .* is in partition aws-cn, but region us-east-1 is in aws/,
    ],
    [
      "log-level ALL without a log group",
      { [Input.LogLevel]: "ALL" },
      /Input 'log-group-arn' is required when 'log-level' is ALL/,
    ],
    [
      "an invalid log group ARN",
      { [Input.LogLevel]: "ERROR", [Input.LogGroupArn]: "arn:aws:logs:us-east-1:123456789012:loggroup/x" },
      /Input 'log-group-arn': .* is not a CloudWatch Logs group ARN/,
    ],
    [
      "a bad ECR repository name",
      { [Input.EcrRepository]: "Space Flights" },
      /Input 'ecr-repository' is not a valid ECR repository name/,
    ],
    [
      "a malformed conf-source",
      { [Input.ConfSource]: "s3://B/conf" },
      /Input 'conf-source' must look like s3:\/\/bucket\/prefix/,
    ],
  ];

  it.each(cases)(
    "deploy refuses %s before any AWS write",
    // A rest parameter: jest would take a fourth named parameter for a done callback.
    async (...[, over, message, docker]) => {
      expect(stack().region).toBe("us-east-1");
      const ctx = createJobContext(options(over), recordingIO(), "deploy", {}, () => stack().clients());
      const attempt = withDockerHost(docker ?? dockerHost, () => deployStage(ctx, inspected));
      await expect(attempt).rejects.toThrow(UserError);
      await expect(attempt).rejects.toThrow(message);
      expect(await leftBehind()).toEqual({ writes: [], repositories: 0 });
      ctx.aws.destroy();
    },
    60_000,
  );

  it.each(cases.filter(([name]) => name !== "a missing Docker daemon"))(
    "plan refuses %s too (a green plan means the deploy's inputs are right)",
    async (_name, over, message) => {
      const ctx = createJobContext(options(over), recordingIO(), "plan", {}, () => stack().clients());
      await expect(withDockerHost(dockerHost, () => planStage(ctx, inspected))).rejects.toThrow(message);
      expect(await leftBehind()).toEqual({ writes: [], repositories: 0 });
      ctx.aws.destroy();
    },
    60_000,
  );

  it("refuses a conf-source with a newline when the inputs are parsed, before anything runs", () => {
    expect(() => options({ [Input.ConfSource]: "s3://bucket/conf\nRUN curl evil | sh" })).toThrow(
      /Input 'conf-source' must not contain whitespace or control characters/,
    );
  });

  it("passes good inputs with a live daemon; a plan without the daemon warns instead of failing", async () => {
    const good = options({
      [Input.LogLevel]: "ALL",
      [Input.LogGroupArn]: "arn:aws:logs:us-east-1:123456789012:log-group:/kedro:*",
    });
    const deploying = createJobContext(good, recordingIO(), "deploy", {}, () => stack().clients());
    await expect(withDockerHost(dockerHost, () => checkInputs(deploying, inspected))).resolves.toEqual({
      region: "us-east-1",
      warnings: [],
    });
    const planning = createJobContext(good, recordingIO(), "plan", {}, () => stack().clients());
    const planned = await withDockerHost(DEAD_DOCKER, () => checkInputs(planning, inspected));
    expect(planned.warnings).toEqual([
      expect.stringMatching(
        /^A deploy from here would fail: Input 'builder' is docker, but the Docker daemon/,
      ),
    ]);
    expect(stack().actions.writes()).toEqual([]);
    deploying.aws.destroy();
    planning.aws.destroy();
  }, 60_000);
});

describe("the builder probe (real programs)", () => {
  it("finds buildah usable here, and names a builder that is not installed", async () => {
    await expect(checkBuilder("buildah")).resolves.toBeUndefined();
    const missing = checkBuilder("docker", (command) =>
      runCommand({ ...command, argv: ["kedro-sfn-no-such-docker", ...command.argv.slice(1)] }),
    );
    await expect(missing).rejects.toThrow(UserError);
    await expect(missing).rejects.toThrow(
      /Input 'builder' is docker, but 'docker' is not installed: 'kedro-sfn-no-such-docker' could not be started/,
    );
  }, 60_000);
});

describe("input syntax", () => {
  it.each([
    ["public.ecr.aws/lambda/python:3.12", true],
    ["python:3.12-slim", true],
    ["localhost:5000/team/base@sha256:" + "a".repeat(64), true],
    ["[::1]:5000/base:latest", true],
    ["UPPER/case", false],
    ["python:3.12\nRUN evil", false],
    ["python::3.12", false],
    ["", false],
  ])("image reference %j valid: %s", (value, valid) => {
    expect(parseImageReference(value) !== null).toBe(valid);
  });

  it.each([
    ["127.0.0.1:5000", true],
    ["registry.example.internal", true],
    ["[::1]:5000", true],
    ["-bad-.example", false],
    ["host:0", false],
    ["host:65536", false],
  ])("registry %j valid: %s", (value, valid) => {
    const parse = (): unknown => parseRegistry(value);
    if (valid) expect(parse).not.toThrow();
    else expect(parse).toThrow(/Input 'registry'/);
  });

  it("knows each region's partition and refuses roles in two accounts", () => {
    expect(
      ["eu-west-1", "cn-north-1", "us-gov-west-1", "us-iso-east-1", "us-isob-east-1"].map(partitionOfRegion),
    ).toEqual(["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"]);
    expect(() =>
      validateDeployInputs({
        stateMachineName: "sm",
        lambdaRoleArn: "arn:aws-cn:iam::123456789012:role/node",
        stateMachineRoleArn: "arn:aws-cn:iam::123456789012:role/path/sfn",
        region: "cn-north-1",
      }),
    ).not.toThrow();
    expect(() =>
      validateDeployInputs({
        stateMachineName: "sm",
        lambdaRoleArn: "arn:aws:iam::123456789012:role/node",
        stateMachineRoleArn: "arn:aws:iam::210987654321:role/sfn",
      }),
    ).toThrow(/different accounts/);
  });

  it("keeps a conf-source on one line of the Dockerfile and stops ENV expansion", () => {
    const spec = { baseImage: "python:3.12", packageName: "p", wheelName: "p.whl" };
    const text = renderDockerfile({ ...spec, confSource: 's3://b/$HOME/"x"' });
    expect(text).toContain('KEDRO_SFN_CONF_SOURCE="s3://b/\\$HOME/\\"x\\""');
    expect(() => renderDockerfile({ ...spec, confSource: "s3://b/x\nRUN evil" })).toThrow(
      /control character/,
    );
  });
});
