/**
 * The stack `make demo` deploys to, for tests that run the action as a runner does: moto, a
 * local Lambda that runs the pushed image, and a Docker registry, started by
 * scripts/local_stack.py with the flags scripts/demo.py uses (one place to change with them),
 * plus the base image scripts/make_base_image.py makes once and caches.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
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

export async function startRunnerStack(): Promise<RunnerStack> {
  const stateDir = mkdtempSync(join(tmpdir(), "kedro-sfn-runner-stack-"));
  const args = [SCRIPT, "start", "--state-dir", stateDir, "--lambda-front", "--registry"];
  const { stdout } = await run(testPython(), args, { timeout: 120_000 }).catch((error: unknown) => {
    const details = error as { stderr?: string; message: string };
    throw new Error(`local stack did not start (${args.join(" ")}):\n${details.stderr ?? details.message}`);
  });
  const state = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as {
    endpoint: string;
    region: string;
    registry: string;
    roles: { lambda: string; stateMachine: string };
  };
  const s3 = new S3Client({
    endpoint: state.endpoint,
    region: state.region,
    credentials: TEST_CREDENTIALS,
    forcePathStyle: true,
  });
  return {
    ...state,
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
