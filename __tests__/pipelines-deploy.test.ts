/**
 * `pipeline: data_processing,data_science` deployed by the whole job in one step: the example
 * inspected once, one image built with the docker builder and pushed once to the local registry
 * (its manifest registered in moto's ECR), then one state machine per pipeline with its own
 * functions on moto; a second run of the same step is a no-op for both. Then a change to both
 * whose second apply fails (scripts/fault_proxy.py answers every Step Functions call 500 from the
 * moment the second pipeline's deploy starts): the first is deployed, the second left on its last
 * version, and a rerun deploys only the second. Needs the Docker engine, the cached base image
 * and docker-registry (about 3 minutes, most of it the one build).
 */
import { DescribeImagesCommand } from "@aws-sdk/client-ecr";
import { ListFunctionsCommand } from "@aws-sdk/client-lambda";
import {
  DescribeStateMachineAliasCommand,
  DescribeStateMachineCommand,
  ListStateMachinesCommand,
  ListStateMachineVersionsCommand,
  SFNClient,
} from "@aws-sdk/client-sfn";
import { ECRClient } from "@aws-sdk/client-ecr";
import { GetFunctionConfigurationCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Input } from "../src/constants.js";
import { runJob, type JobIO } from "../src/job.js";
import { parseOptions } from "../src/options.js";
import { TEST_CREDENTIALS } from "./harness/localStack.js";
import { copyExample, PYTHON } from "./harness/python.js";
import { BASE_IMAGE, ensureBaseImage, startRunnerStack, type RunnerStack } from "./harness/runnerStack.js";

let stack: RunnerStack;
const saved = { ...process.env };
const project = copyExample();

beforeAll(async () => {
  const dockerHost = ensureBaseImage();
  stack = await startRunnerStack({ faultProxy: true });
  for (const key of Object.keys(process.env)) if (key.startsWith("AWS_")) delete process.env[key];
  Object.assign(process.env, stack.awsEnv, { DOCKER_HOST: dockerHost });
}, 900_000);

afterAll(async () => {
  process.env = saved;
  await stack?.stop();
});

function io(): JobIO & { outputs: Map<string, string>; infos: string[] } {
  const outputs = new Map<string, string>();
  const infos: string[] = [];
  return {
    outputs,
    infos,
    info: (line) => infos.push(line),
    debug: () => undefined,
    warning: () => undefined,
    error: (line) => infos.push(`error: ${line}`),
    group: (_name, work) => work(),
    setOutput: (name, value) => outputs.set(name, value),
    setSecret: () => undefined,
  };
}

async function deployBoth(
  extra: Partial<Record<Input, string>> = {},
  recorded = io(),
  allowFailure = false,
): Promise<{
  result: Awaited<ReturnType<typeof runJob>>;
  recorded: ReturnType<typeof io>;
}> {
  const values: Partial<Record<Input, string>> = {
    [Input.ProjectPath]: project,
    [Input.Python]: PYTHON,
    [Input.Mode]: "deploy",
    [Input.Pipeline]: "data_processing,data_science",
    [Input.StateMachineName]: "spaceflights",
    [Input.EcrRepository]: "spaceflights",
    [Input.Registry]: stack.registry,
    [Input.BaseImage]: BASE_IMAGE,
    [Input.LambdaRoleArn]: stack.roles.lambda,
    [Input.StateMachineRoleArn]: stack.roles.stateMachine,
    ...extra,
  };
  const result = await runJob(
    parseOptions((name) => values[name] ?? ""),
    recorded,
    {
      GITHUB_EVENT_NAME: "push",
      GITHUB_REPOSITORY: "org/repo",
      GITHUB_SHA: "c".repeat(40),
    },
  );
  if (result.failure && !allowFailure)
    throw new Error(`the job failed: ${result.failure.message}\n${recorded.infos.slice(-40).join("\n")}`);
  return { result, recorded };
}

function clients() {
  const config = { endpoint: stack.endpoint, region: stack.region, credentials: TEST_CREDENTIALS };
  return { sfn: new SFNClient(config), lambda: new LambdaClient(config), ecr: new ECRClient(config) };
}

describe("several pipelines deployed in one step", () => {
  it("deploys two state machines from one image, then a redeploy changes nothing", async () => {
    const { result, recorded } = await deployBoth();
    expect(result.pipelines?.map((p) => [p.pipeline, p.stateMachineName, p.state])).toEqual([
      ["data_processing", "spaceflights-data_processing", "deployed"],
      ["data_science", "spaceflights-data_science", "deployed"],
    ]);
    // One image, built and pushed once, that every function of both state machines runs.
    expect(recorded.infos.filter((l) => l.startsWith("Image pushed: "))).toHaveLength(1);
    const imageUri = recorded.outputs.get("image-uri") ?? "";
    expect(imageUri).toMatch(/@sha256:[0-9a-f]{64}$/);
    const aws = clients();
    const images = await aws.ecr.send(new DescribeImagesCommand({ repositoryName: "spaceflights" }));
    expect(new Set((images.imageDetails ?? []).map((i) => i.imageDigest))).toEqual(
      new Set([imageUri.split("@")[1]]),
    );

    const arns = JSON.parse(recorded.outputs.get("state-machine-arns") ?? "{}") as Record<string, string>;
    expect(Object.keys(arns)).toEqual(["data_processing", "data_science"]);
    expect(arns["data_processing"]).toMatch(
      /^arn:aws:states:[\w-]+:\d{12}:stateMachine:spaceflights-data_processing$/,
    );
    expect(arns["data_science"]).toMatch(
      /^arn:aws:states:[\w-]+:\d{12}:stateMachine:spaceflights-data_science$/,
    );
    const machines = await aws.sfn.send(new ListStateMachinesCommand({}));
    expect((machines.stateMachines ?? []).map((m) => m.name).sort()).toEqual([
      "spaceflights-data_processing",
      "spaceflights-data_science",
    ]);
    const functions = (await aws.lambda.send(new ListFunctionsCommand({}))).Functions ?? [];
    const names = functions.map((f) => f.FunctionName ?? "").sort();
    expect(names).toHaveLength(6);
    expect(names.filter((n) => n.startsWith("spaceflights-data_processing-"))).toHaveLength(3);
    expect(names.filter((n) => n.startsWith("spaceflights-data_science-"))).toHaveLength(3);
    const digest = imageUri.split("@sha256:")[1];
    for (const fn of functions) expect(fn.CodeSha256).toBe(digest);
    // The single-pipeline outputs stay per pipeline; the step's own add up.
    expect(recorded.outputs.get("to-create")).toBe("8");
    expect(recorded.outputs.has("state-machine-arn")).toBe(false);
    expect(result.summary).toContain(
      "### Pipeline `data_science` → `spaceflights-data_science` · ✅ deployed",
    );

    const again = await deployBoth();
    expect(again.recorded.infos.filter((l) => l.startsWith("Image unchanged: "))).toHaveLength(1);
    expect(again.recorded.outputs.get("has-changes")).toBe("false");
    const perPipeline = JSON.parse(again.recorded.outputs.get("pipelines") ?? "{}") as Record<
      string,
      Record<string, string>
    >;
    for (const pipeline of ["data_processing", "data_science"]) {
      expect(perPipeline[pipeline]?.["has-changes"]).toBe("false");
      expect(perPipeline[pipeline]?.["state-machine-version-arn"]).toBe(`${arns[pipeline] ?? ""}:1`);
      const versions = await aws.sfn.send(
        new ListStateMachineVersionsCommand({ stateMachineArn: arns[pipeline] }),
      );
      expect(versions.stateMachineVersions).toHaveLength(1);
    }
    for (const c of Object.values(aws)) c.destroy();
  }, 1_200_000);

  // After the test above: both state machines are on version 1, every function at 1024 MB.
  it("stops at the first failed apply: the one before deployed, the failed one left on its last version", async () => {
    const aws = clients();
    const arn = (pipeline: string) =>
      `arn:aws:states:${stack.region}:${stack.roles.lambda.split(":")[4] ?? ""}:stateMachine:spaceflights-${pipeline}`;
    const proxy = stack.faultProxyEndpoint ?? "";
    const faults = async (settings: Record<string, unknown>) =>
      (await fetch(`${proxy}/__fault_proxy/config`, { method: "POST", body: JSON.stringify(settings) })).ok;
    // Every Step Functions call fails (500, after the SDK's retries) once the second pipeline's deploy starts.
    const recorded = io();
    recorded.group = async (name, work) => {
      if (name === "deploy (data_science)")
        expect(await faults({ error_rate: 1, services: ["states"] })).toBe(true);
      return work();
    };
    process.env["AWS_ENDPOINT_URL"] = proxy;
    let failed;
    try {
      failed = await deployBoth({ [Input.MemorySize]: "2048" }, recorded, true);
    } finally {
      process.env["AWS_ENDPOINT_URL"] = stack.endpoint;
      await faults({ error_rate: 0, services: ["lambda", "states"] });
    }
    const { result } = failed;
    expect(result.pipelines?.map((p) => [p.pipeline, p.state])).toEqual([
      ["data_processing", "deployed"],
      ["data_science", "failed"],
    ]);
    expect(result.failure?.message).toMatch(
      /^Pipeline 'data_science' \(spaceflights-data_science\) failed to deploy and was left as it was: .+ Deployed before it: 'data_processing'\.$/s,
    );
    const perPipeline = JSON.parse(recorded.outputs.get("pipelines") ?? "{}") as Record<
      string,
      Record<string, string>
    >;
    expect(perPipeline["data_processing"]?.["state"]).toBe("deployed");
    expect(perPipeline["data_science"]?.["state"]).toBe("failed");
    expect(result.summary).toContain(
      "### Pipeline `data_processing` → `spaceflights-data_processing` · ✅ deployed",
    );
    expect(result.summary).toContain(
      "### Pipeline `data_science` → `spaceflights-data_science` · ❌ deploy failed",
    );

    // What AWS holds: the first on its new version at 2048 MB, the second still on version 1 at 1024 MB.
    expect(await liveVersion(aws.sfn, arn("data_processing"))).toBe(`${arn("data_processing")}:2`);
    expect(await memoriesOf(aws, `${arn("data_processing")}:2`)).toEqual([2048]);
    expect(await liveVersion(aws.sfn, arn("data_science"))).toBe(`${arn("data_science")}:1`);
    expect(await memoriesOf(aws, `${arn("data_science")}:1`)).toEqual([1024]);
    const versions = await aws.sfn.send(
      new ListStateMachineVersionsCommand({ stateMachineArn: arn("data_science") }),
    );
    expect(versions.stateMachineVersions).toHaveLength(1);

    // The same step again, without the fault: the first has nothing to do, the second deploys.
    const rerun = await deployBoth({ [Input.MemorySize]: "2048" });
    const after = JSON.parse(rerun.recorded.outputs.get("pipelines") ?? "{}") as Record<
      string,
      Record<string, string>
    >;
    expect(after["data_processing"]?.["has-changes"]).toBe("false");
    expect(after["data_science"]?.["has-changes"]).toBe("true");
    expect(await liveVersion(aws.sfn, arn("data_science"))).toBe(`${arn("data_science")}:2`);
    expect(await memoriesOf(aws, `${arn("data_science")}:2`)).toEqual([2048]);
    for (const c of Object.values(aws)) c.destroy();
  }, 900_000);
});

/** The version the state machine's `live` alias routes to. */
async function liveVersion(sfn: SFNClient, stateMachineArn: string): Promise<string | undefined> {
  const alias = await sfn.send(
    new DescribeStateMachineAliasCommand({ stateMachineAliasArn: `${stateMachineArn}:live` }),
  );
  return alias.routingConfiguration?.[0]?.stateMachineVersionArn;
}

/** The memory sizes of the function versions a state machine version's Tasks invoke. */
async function memoriesOf(aws: ReturnType<typeof clients>, versionArn: string): Promise<number[]> {
  const described = await aws.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: versionArn }));
  const text = described.definition ?? "";
  const functions = [
    ...new Set([...text.matchAll(/arn:aws:lambda:[^"]+:function:[^"]+:\d+/g)].map((m) => m[0])),
  ];
  expect(functions).toHaveLength(3);
  const sizes = new Set<number>();
  for (const fn of functions) {
    const config = await aws.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn }));
    sizes.add(config.MemorySize ?? 0);
  }
  return [...sizes];
}
