/**
 * The local AWS stack for jest: moto server (and optionally the fault proxy) started by
 * scripts/local_stack.py, the only place that starts and stops it.
 *
 *   const stack = useLocalStack({ faultProxy: true });   // at the top of a test file
 *   it("...", async () => { const clients = await stack().clients(); ... });
 *
 * One stack per test file (started in beforeAll, stopped in afterAll); every test starts from
 * an empty account (POST /moto-api/reset, then the IAM roles again). Clients made here record
 * each AWS action they call; afterAll writes them to .local-stack/aws-actions/<test file>.json
 * for the IAM test.
 */
import { CreateRepositoryCommand, PutImageCommand } from "@aws-sdk/client-ecr";
import { afterAll, beforeAll, beforeEach, expect } from "@jest/globals";
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { CallLog, createAwsClients, type AwsClients, type CallRecorder } from "../../src/aws/clients.js";
import type { RateLimiter } from "../../src/aws/limiter.js";

const run = promisify(execFile);

export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const SCRIPT = join(REPO_ROOT, "scripts", "local_stack.py");
export const ACTIONS_DIR = join(REPO_ROOT, ".local-stack", "aws-actions");
export const TEST_CREDENTIALS = { accessKeyId: "testing", secretAccessKey: "testing" };

/** The interpreter with moto[server]: KEDRO_SFN_TEST_PYTHON, else the project's .venv. */
export function testPython(): string {
  return process.env.KEDRO_SFN_TEST_PYTHON ?? join(REPO_ROOT, ".venv", "bin", "python");
}

export interface LocalStackState {
  stateDir: string;
  /** What AWS_ENDPOINT_URL should be. */
  endpoint: string;
  motoEndpoint: string;
  faultProxyEndpoint: string | null;
  motoPort: number;
  region: string;
  accountId: string;
  roles: { lambda: string; stateMachine: string };
}

export interface FaultSettings {
  seed?: number;
  throttle_rate?: number;
  error_rate?: number;
  lose_rate?: number;
  latency_ms?: number;
  page_size?: number;
  services?: string[];
  /** Operations (PublishVersion, UpdateStateMachine, ...) whose next call each is lost: done, then answered 500. */
  lose_next?: string[];
}

export interface FaultState extends Required<Omit<FaultSettings, "seed">> {
  stats: Record<string, number>;
}

export interface ClientOptions {
  /** Through the fault proxy (needs `faultProxy: true`). */
  viaProxy?: boolean;
  recorders?: CallRecorder[];
  /** Default: the product's limiter. */
  lambdaLimiter?: RateLimiter | null;
  maxAttempts?: number;
}

export interface LocalStack extends LocalStackState {
  /** Clients that record into `actions` (and any extra recorders). */
  clients(options?: ClientOptions): Promise<AwsClients>;
  /** Every attempt of every client made by `clients()` since the stack started. */
  readonly actions: CallLog;
  reset(): Promise<void>;
  faults(settings: FaultSettings): Promise<FaultState>;
  faultState(): Promise<FaultState>;
  /** Puts a (tiny, fake) image into moto's ECR; returns `repo-uri@sha256:...`. Not recorded. */
  putImage(repository: string, seed: string): Promise<string>;
  stop(): Promise<void>;
}

export interface StackOptions {
  faultProxy?: boolean;
  /** MOTO_PORT for a Lambda front; default moto's own port. */
  invokePort?: number;
  /**
   * scripts/lambda_front.py in host mode: every invoke runs `python -m kedro_sfn.handler` from
   * `python` on `project` (real Kedro, no image); its per-invoke log is `<stateDir>/lambda-front.log`.
   */
  hostLambda?: { project: string; python: string };
}

export async function startLocalStack(options: StackOptions = {}): Promise<LocalStack> {
  const stateDir = mkdtempSync(join(tmpdir(), "kedro-sfn-stack-"));
  const args = [SCRIPT, "start", "--state-dir", stateDir];
  if (options.faultProxy) args.push("--fault-proxy");
  if (options.invokePort) args.push("--invoke-port", String(options.invokePort));
  if (options.hostLambda) {
    const { project, python } = options.hostLambda;
    args.push("--lambda-front", "--lambda-mode", "host", "--project", project, "--python", python);
  }
  try {
    await run(testPython(), args, { timeout: 120_000 });
  } catch (error) {
    const details = error as { stderr?: string; message: string };
    throw new Error(
      `local stack did not start (${testPython()} ${args.join(" ")}):\n${details.stderr ?? details.message}`,
    );
  }
  const state = JSON.parse(readFileSync(join(stateDir, "local-stack.json"), "utf8")) as LocalStackState;
  const actions = new CallLog();
  const made: AwsClients[] = [];
  let stopped = false;
  // Last resort if jest dies before afterAll: stop synchronously on exit.
  const onExit = (): void => {
    if (!stopped) spawnSync(testPython(), [SCRIPT, "stop", "--state-dir", stateDir], { timeout: 20_000 });
  };
  process.once("exit", onExit);

  const control = async (path: string, body?: unknown): Promise<FaultState> => {
    if (!state.faultProxyEndpoint)
      throw new Error("This stack has no fault proxy: start it with { faultProxy: true }.");
    const response = await fetch(
      `${state.faultProxyEndpoint}/__fault_proxy/${path}`,
      body === undefined ? {} : { method: "POST", body: JSON.stringify(body) },
    );
    return (await response.json()) as FaultState;
  };

  const stack: LocalStack = {
    ...state,
    actions,
    async clients(clientOptions: ClientOptions = {}) {
      const endpoint = clientOptions.viaProxy ? state.faultProxyEndpoint : state.endpoint;
      if (!endpoint) throw new Error("This stack has no fault proxy: start it with { faultProxy: true }.");
      const clients = await createAwsClients({
        region: state.region,
        endpoint,
        credentials: TEST_CREDENTIALS,
        recorders: [actions, ...(clientOptions.recorders ?? [])],
        ...(clientOptions.lambdaLimiter !== undefined ? { lambdaLimiter: clientOptions.lambdaLimiter } : {}),
        ...(clientOptions.maxAttempts !== undefined ? { maxAttempts: clientOptions.maxAttempts } : {}),
      });
      made.push(clients);
      return clients;
    },
    async reset() {
      await run(testPython(), [SCRIPT, "reset", "--state-dir", stateDir], { timeout: 60_000 });
      if (state.faultProxyEndpoint)
        await control("config", {
          throttle_rate: 0,
          error_rate: 0,
          lose_rate: 0,
          latency_ms: 0,
          page_size: 50,
          seed: 0,
          lose_next: [],
        });
    },
    faults: (settings) => control("config", settings),
    faultState: () => control("stats"),
    async putImage(repository, seed) {
      const setup = await createAwsClients({
        region: state.region,
        endpoint: state.endpoint,
        credentials: TEST_CREDENTIALS,
        lambdaLimiter: null,
      });
      try {
        const repo = await setup.ecr
          .send(new CreateRepositoryCommand({ repositoryName: repository }))
          .catch((error: unknown) => {
            if ((error as { name?: string }).name !== "RepositoryAlreadyExistsException") throw error;
            return null;
          });
        const uri =
          repo?.repository?.repositoryUri ??
          `${state.accountId}.dkr.ecr.${state.region}.amazonaws.com/${repository}`;
        const configDigest = `sha256:${createHash("sha256").update(`config:${seed}`).digest("hex")}`;
        const layerDigest = `sha256:${createHash("sha256").update(`layer:${seed}`).digest("hex")}`;
        const manifest = JSON.stringify({
          schemaVersion: 2,
          mediaType: "application/vnd.docker.distribution.manifest.v2+json",
          config: {
            mediaType: "application/vnd.docker.container.image.v1+json",
            size: 1024,
            digest: configDigest,
          },
          layers: [
            {
              mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
              size: 2048,
              digest: layerDigest,
            },
          ],
        });
        // As a registry does: the digest is the manifest's sha256 (moto would otherwise hash the layer list).
        const digest = `sha256:${createHash("sha256").update(manifest).digest("hex")}`;
        await setup.ecr
          .send(
            new PutImageCommand({
              repositoryName: repository,
              imageManifest: manifest,
              imageDigest: digest,
              imageTag: seed.replace(/[^\w.-]/g, "-").slice(0, 128),
            }),
          )
          .catch((error: unknown) => {
            if ((error as { name?: string }).name !== "ImageAlreadyExistsException") throw error;
          });
        return `${uri}@${digest}`;
      } finally {
        setup.destroy();
      }
    },
    async stop() {
      if (stopped) return;
      for (const clients of made) clients.destroy();
      try {
        await run(testPython(), [SCRIPT, "stop", "--state-dir", stateDir], { timeout: 60_000 });
      } finally {
        stopped = true;
        process.removeListener("exit", onExit);
        rmSync(stateDir, { recursive: true, force: true });
      }
    },
  };
  return stack;
}

/**
 * Shares one stack across a test file: started before the first test, reset before each,
 * stopped after the last, with the file's recorded AWS actions written for the IAM test.
 */
export function useLocalStack(options: StackOptions = {}): () => LocalStack {
  let stack: LocalStack | undefined;
  let testFile = "unknown";
  beforeAll(async () => {
    testFile = basename(expect.getState().testPath ?? "unknown").replace(/\.test\.ts$/, "");
    stack = await startLocalStack(options);
  }, 120_000);
  beforeEach(async () => {
    await stack?.reset();
  }, 60_000);
  afterAll(async () => {
    if (!stack) return;
    writeRecordedActions(testFile, stack.actions.actions());
    await stack.stop();
  }, 60_000);
  return () => {
    if (!stack)
      throw new Error(
        "The local stack is not running (useLocalStack must be called at the top of a test file).",
      );
    return stack;
  };
}

export function writeRecordedActions(name: string, actions: string[]): void {
  mkdirSync(ACTIONS_DIR, { recursive: true });
  writeFileSync(join(ACTIONS_DIR, `${name}.json`), `${JSON.stringify(actions, null, 2)}\n`);
}
