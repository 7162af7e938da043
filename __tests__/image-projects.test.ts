/**
 * Projects as users bring them, shipped the way users ship them: the action
 * (`node dist/index.js` with INPUT_*) builds with the default builder (docker
 * buildx on a real Docker engine), smoke-tests the image, pushes it to a local
 * registry, deploys to moto and runs the pipeline on a local Lambda that runs
 * the pushed image through the runtime interface emulator. Needs root, the
 * Docker engine, buildah (the base image), docker-registry and dist/ built.
 */
import { ECRClient, DescribeRepositoriesCommand } from "@aws-sdk/client-ecr";
import { LambdaClient, ListFunctionsCommand } from "@aws-sdk/client-lambda";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TEST_CREDENTIALS } from "./harness/localStack.js";
import { PYTHON, PYTHON_019 } from "./harness/python.js";
import {
  BASE_IMAGE,
  ensureBaseImage,
  runBundledAction,
  startRunnerStack,
  type ActionRun,
  type RunnerStack,
} from "./harness/runnerStack.js";
import { writeKedro019Project, writeStarterProject, type UserProject } from "./harness/userProjects.js";

const scratch = mkdtempSync(join(tmpdir(), "kedro-sfn-image-projects-"));

let stack: RunnerStack;
let dockerHost: string;
const client = <T>(make: new (config: object) => T): T =>
  new make({ endpoint: stack.endpoint, region: stack.region, credentials: TEST_CREDENTIALS });

function kedroVersionOf(python: string): string {
  return execFileSync(python, ["-c", "import kedro; print(kedro.__version__)"], { encoding: "utf8" }).trim();
}

beforeAll(async () => {
  dockerHost = ensureBaseImage();
  stack = await startRunnerStack();
}, 900_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function putRawData(project: UserProject): Promise<void> {
  await stack.s3.send(new CreateBucketCommand({ Bucket: project.bucket }));
  for (const [key, body] of Object.entries(project.rawData)) {
    await stack.s3.send(new PutObjectCommand({ Bucket: project.bucket, Key: key, Body: body }));
  }
}

/** The action as a runner calls it: deploy mode, start the execution, wait. */
function runAction(project: UserProject, python: string, name: string): ActionRun {
  const inputs: Record<string, string> = {
    "project-path": project.dir,
    python,
    mode: "deploy",
    "state-machine-name": name,
    "ecr-repository": name,
    registry: stack.registry,
    "base-image": BASE_IMAGE,
    "lambda-role-arn": stack.roles.lambda,
    "state-machine-role-arn": stack.roles.stateMachine,
    "start-execution": "true",
    "execution-timeout-minutes": "15",
    "summary-file": join(scratch, `${name}-summary.md`),
  };
  return runBundledAction(stack, inputs, {
    dockerHost,
    outputFile: join(scratch, `${name}-outputs.txt`),
    sha: "a".repeat(40),
  });
}

async function readSummary(project: UserProject): Promise<Record<string, unknown>> {
  const object = await stack.s3.send(
    new GetObjectCommand({ Bucket: project.bucket, Key: `${project.package}/08_reporting/summary.json` }),
  );
  const text = (await object.Body?.transformToString()) ?? "{}";
  return JSON.parse(text) as Record<string, unknown>;
}

function imageConfigEnv(imageUri: string): string {
  return execFileSync(
    "docker",
    ["image", "inspect", "--format", "{{json .Config.Entrypoint}} {{json .Config.Cmd}}", imageUri],
    { encoding: "utf8", env: { ...process.env, DOCKER_HOST: dockerHost } },
  );
}

function frontLog(): string {
  return readFileSync(join(stack.stateDir, "lambda-front.log"), "utf8");
}

describe("user projects through their own images (docker builder, local Lambda on the image)", () => {
  test("the spaceflights-pandas starter layout: requirements.txt only, dev tools dropped, s3fs and extras added", async () => {
    const project = writeStarterProject(join(scratch, "starter"), kedroVersionOf(PYTHON));
    await putRawData(project);
    const run = runAction(project, PYTHON, "starter");
    expect({ status: run.status, tail: run.log.slice(-4000) }).toMatchObject({ status: 0 });
    expect(run.outputs["execution-status"]).toBe("SUCCEEDED");
    expect(run.log).toContain("Image dependencies: requirements.txt and the wheel's own dependencies.");
    expect(run.log).toMatch(/Not installed \(development tools\): ipython>=8.10, jupyterlab>=3.0, kedro-viz/);
    expect(run.log).toContain("Added s3fs: datasets on s3:// (cleaned, companies, summary).");
    expect(run.log).toContain(
      "Added kedro-datasets[pandas-parquetdataset]: dataset type pandas.ParquetDataset",
    );
    expect(run.log).toMatch(
      /Smoke test passed in the image \([\d.]+ s\): Kedro 1\.\d+\.\d+, 2 nodes imported, 3 datasets built/,
    );
    expect(await readSummary(project)).toEqual({
      companies: 3,
      approved: 2,
      mean_rating: 0.7833,
      label: "starter",
    });
    // The plain Python base has no Lambda entrypoint: awslambdaric runs the handler.
    expect(imageConfigEnv(run.outputs["image-uri"] ?? "")).toContain(
      '["/bin/sh","/var/task/kedro_sfn/entrypoint.sh"]',
    );
    const digest = (run.outputs["image-uri"] ?? "").split("@")[1]?.slice(0, 19) ?? "?";
    expect(frontLog()).toMatch(new RegExp(`starter-clean_companies:1 cold ${digest} [\\d.]+s ok`));
  }, 1_500_000);

  test("a Kedro 0.19 project with `kedro>=0.19` in src/requirements.txt runs on the Kedro it was inspected with", async () => {
    const kedro = kedroVersionOf(PYTHON_019);
    const project = writeKedro019Project(join(scratch, "legacy"), kedro);
    await putRawData(project);
    const run = runAction(project, PYTHON_019, "legacy");
    expect({ status: run.status, tail: run.log.slice(-4000) }).toMatchObject({ status: 0 });
    expect(run.log).toContain("Image dependencies: src/requirements.txt and the wheel's own dependencies.");
    expect(run.log).toContain(`Kedro pinned to ${kedro}, the version that inspected the project.`);
    expect(run.log).toContain(`Smoke test passed in the image`);
    expect(run.log).toContain(`Kedro ${kedro}, 2 nodes imported`);
    expect(run.outputs["execution-status"]).toBe("SUCCEEDED");
    expect(await readSummary(project)).toMatchObject({ companies: 3, label: "legacy" });
  }, 1_500_000);

  test("a node that outlives its function's timeout fails as Lambda's Sandbox.Timedout and shows as timed out", async () => {
    const project = writeStarterProject(join(scratch, "slow"), kedroVersionOf(PYTHON));
    project.bucket = "kedro-sfn-slow";
    writeFileSync(
      join(project.dir, "conf", "aws", "catalog.yml"),
      readFileSync(join(project.dir, "conf", "aws", "catalog.yml"), "utf8").replaceAll(
        "kedro-sfn-starter",
        project.bucket,
      ),
    );
    writeFileSync(
      join(project.dir, "conf", "aws", "sfn.yml"),
      "overrides:\n  - node: summarize_companies\n    timeout: 3\n",
    );
    const nodes = join(project.dir, "src", "starter", "pipelines", "companies", "nodes.py");
    writeFileSync(
      nodes,
      readFileSync(nodes, "utf8").replace(
        "def summarize(cleaned: pd.DataFrame, parameters: dict) -> dict:\n",
        "def summarize(cleaned: pd.DataFrame, parameters: dict) -> dict:\n    import time\n    time.sleep(30)\n",
      ),
    );
    await putRawData(project);
    const run = runAction(project, PYTHON, "slow");
    expect(run.status).toBe(1);
    const statuses = JSON.parse(run.outputs["node-statuses"] ?? "[]") as {
      node: string;
      status: string;
      error: { type: string; message: string } | null;
    }[];
    expect(statuses.find((n) => n.node === "clean_companies")?.status).toBe("succeeded");
    const slow = statuses.find((n) => n.node === "summarize_companies");
    expect({ slow, tail: run.log.slice(-3000) }).toMatchObject({ slow: { status: "timed-out" } });
    expect(slow?.error?.type).toBe("Sandbox.Timedout");
    expect(slow?.error?.message).toContain("Task timed out after 3.00 seconds");
    expect(frontLog()).toMatch(/slow-summarize_companies:1 cold sha256:\w{12} [\d.]+s FAILED/);
  }, 1_500_000);

  test("a package the nodes import but no file names: the build stops at the smoke test, nothing pushed or created", async () => {
    const project = writeStarterProject(join(scratch, "missing"), kedroVersionOf(PYTHON));
    // boto3 is in this interpreter (the tests use it), not in the project's requirements.txt.
    const nodes = join(project.dir, "src", "starter", "pipelines", "companies", "nodes.py");
    writeFileSync(nodes, `import boto3  # noqa: F401\n${readFileSync(nodes, "utf8")}`);
    const run = runAction(project, PYTHON, "missing");
    expect(run.status).toBe(1);
    expect(run.log).toContain("The built image failed its smoke test; nothing was pushed or deployed:");
    expect(run.log).toMatch(
      /The image lacks 'boto3' \(module 'boto3', imported by src\/starter\/pipelines\/companies\/nodes\.py; [\d.]+ where the project was inspected\)\./,
    );
    expect(run.log).toMatch(/Add `boto3==[\d.]+` \(or a range that includes it\) to requirements\.txt\./);
    // No AWS write happened: no repository, no function; the registry holds nothing for it.
    const ecr = client(ECRClient);
    await expect(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ["missing"] }))).rejects.toThrow(
      /RepositoryNotFound|does not exist/,
    );
    ecr.destroy();
    const lambda = client(LambdaClient);
    const functions = (await lambda.send(new ListFunctionsCommand({}))).Functions ?? [];
    expect(functions.filter((f) => f.FunctionName?.startsWith("missing-"))).toEqual([]);
    lambda.destroy();
    const tags = await fetch(`http://${stack.registry}/v2/missing/tags/list`);
    expect(tags.status).toBe(404);
  }, 1_500_000);
});
