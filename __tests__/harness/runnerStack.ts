/**
 * The stack `make demo` deploys to, for tests that run the action as a runner does: moto, a
 * local Lambda that runs the pushed image, and a Docker registry, started by
 * scripts/local_stack.py with the flags scripts/demo.py uses (one place to change with them),
 * plus the base image scripts/make_base_image.py makes once and caches.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT, TEST_CREDENTIALS, testPython } from "./localStack.js";

const run = promisify(execFile);
const SCRIPT = join(REPO_ROOT, "scripts", "local_stack.py");
/** make_base_image.py's default tag: the demo and e2e share it, so one of them makes it. */
export const BASE_IMAGE = "localhost/kedro-sfn-test-base:bookworm";

export interface RunnerStack {
  endpoint: string;
  region: string;
  registry: string;
  roles: { lambda: string; stateMachine: string };
  /** The stack's own folder: `lambda-front.log` there holds the local Lambda's per-invoke lines. */
  stateDir: string;
  /** scripts/fault_proxy.py in front of moto, when asked for ({ faultProxy: true }); else null. */
  faultProxyEndpoint: string | null;
  /** AWS_* for the action, as configure-aws-credentials would set them. */
  awsEnv: Record<string, string>;
  s3: S3Client;
  stop(): Promise<void>;
}

/**
 * Makes the base image when buildah's storage lacks it (about 100 s once, then instant), loads it
 * into the test's Docker engine (started when needed) for the docker builder, and returns that
 * engine's DOCKER_HOST.
 */
export function ensureBaseImage(): string {
  execFileSync("python3", [join(REPO_ROOT, "scripts", "make_base_image.py"), "--tag", BASE_IMAGE], {
    stdio: "pipe",
    timeout: 600_000,
  });
  const engine = join(REPO_ROOT, "scripts", "docker_engine.py");
  execFileSync("python3", [engine, "load-base", "--tag", BASE_IMAGE], { stdio: "pipe", timeout: 600_000 });
  const started = JSON.parse(execFileSync("python3", [engine, "start"], { encoding: "utf8" })) as {
    host: string;
  };
  return started.host;
}

export async function startRunnerStack(options: { faultProxy?: boolean } = {}): Promise<RunnerStack> {
  const stateDir = mkdtempSync(join(tmpdir(), "kedro-sfn-runner-stack-"));
  const args = [SCRIPT, "start", "--state-dir", stateDir, "--lambda-front", "--registry"];
  if (options.faultProxy) args.push("--fault-proxy");
  const { stdout } = await run(testPython(), args, { timeout: 120_000 }).catch((error: unknown) => {
    const details = error as { stderr?: string; message: string };
    throw new Error(`local stack did not start (${args.join(" ")}):\n${details.stderr ?? details.message}`);
  });
  const state = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as {
    endpoint: string;
    region: string;
    registry: string;
    roles: { lambda: string; stateMachine: string };
    faultProxyEndpoint?: string | null;
  };
  const s3 = new S3Client({
    endpoint: state.endpoint,
    region: state.region,
    credentials: TEST_CREDENTIALS,
    forcePathStyle: true,
  });
  return {
    ...state,
    faultProxyEndpoint: state.faultProxyEndpoint ?? null,
    stateDir,
    s3,
    awsEnv: {
      AWS_ENDPOINT_URL: state.endpoint,
      AWS_REGION: state.region,
      AWS_DEFAULT_REGION: state.region,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    },
    async stop() {
      s3.destroy();
      try {
        await run(testPython(), [SCRIPT, "stop", "--state-dir", stateDir], { timeout: 60_000 });
      } finally {
        rmSync(stateDir, { recursive: true, force: true });
      }
    },
  };
}

/** The example's raw inputs, made by its own script in `project`, into `bucket` (as demo.py does). */
export async function uploadRawData(stack: RunnerStack, project: string, python: string, bucket: string) {
  execFileSync(python, [join(project, "scripts", "make_data.py")], { cwd: project, stdio: "pipe" });
  await stack.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const name of ["companies.csv", "reviews.csv", "shuttles.xlsx"])
    await stack.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `spaceflights/01_raw/${name}`,
        Body: readFileSync(join(project, "data", "01_raw", name)),
      }),
    );
}

/** An object's text, or null when it is not there. */
export async function readObject(stack: RunnerStack, bucket: string, key: string): Promise<string | null> {
  try {
    const object = await stack.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await object.Body?.transformToString()) ?? null;
  } catch (error) {
    if ((error as { name?: string }).name === "NoSuchKey") return null;
    throw error;
  }
}

export interface ActionRun {
  status: number | null;
  /** What the action wrote to GITHUB_OUTPUT, by output name. */
  outputs: Record<string, string>;
  log: string;
}

/**
 * The bundled action as a runner calls it: `node dist/index.js` with INPUT_* from `inputs`, the
 * stack's AWS endpoint and credentials, the test's Docker engine, and no INPUT_/GITHUB_ variable
 * of the surrounding shell leaking in.
 */
export function runBundledAction(
  stack: RunnerStack,
  inputs: Record<string, string>,
  env: { dockerHost: string; outputFile: string; sha: string },
): ActionRun {
  writeFileSync(env.outputFile, "");
  const vars: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith("INPUT_") && !key.startsWith("GITHUB_")) vars[key] = value;
  }
  Object.assign(vars, stack.awsEnv, {
    DOCKER_HOST: env.dockerHost,
    GITHUB_OUTPUT: env.outputFile,
    GITHUB_SHA: env.sha,
  });
  for (const [key, value] of Object.entries(inputs)) vars[`INPUT_${key.toUpperCase()}`] = value;
  const proc = spawnSync("node", [join(REPO_ROOT, "dist", "index.js")], {
    env: vars,
    encoding: "utf8",
    timeout: 1_500_000,
  });
  return { status: proc.status, outputs: readOutputs(env.outputFile), log: `${proc.stdout}\n${proc.stderr}` };
}

/** GITHUB_OUTPUT's `name<<DELIMITER ... DELIMITER` blocks, as the runner reads them. */
function readOutputs(file: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = readFileSync(file, "utf8").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([\w-]+)<<(.+)$/.exec(lines[i] ?? "");
    if (heredoc?.[1] === undefined) continue;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) body.push(lines[i] ?? "");
    outputs[heredoc[1]] = body.join("\n");
  }
  return outputs;
}
