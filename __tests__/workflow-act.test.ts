/**
 * The sample workflow run by a real workflow engine: act, in host mode, runs
 * __tests__/fixtures/act/kedro-sfn.yml (examples/workflows/kedro-sfn.yml with local stand-ins for
 * checkout, setup-python and AWS credentials) against the local stack. `uses: ./` runs action.yml's
 * node24 entry (dist/index.js) on Node 24; a later step reads the step's outputs.
 * A push deploys and runs the example; a pull request plans and posts the sticky comment to the fake
 * GitHub API. Needs dist/ built, `make act node24`, and root for buildah (make test does all three).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import { gitRepository, requireTools, runWorkflow, type WorkflowRun } from "./harness/act.js";
import { FakeGithub } from "./harness/fakeGithub.js";
import { REPO_ROOT } from "./harness/localStack.js";
import { copyExample, PYTHON } from "./harness/python.js";
import {
  BASE_IMAGE,
  ensureBaseImage,
  readObject,
  startRunnerStack,
  uploadRawData,
  type RunnerStack,
} from "./harness/runnerStack.js";

const WORKFLOW = ".github/workflows/kedro-sfn.yml";
const BUCKET = "kedro-sfn-spaceflights";
const REPOSITORY = { id: 1, full_name: "org/repo", name: "repo", owner: { login: "org" } };

let stack: RunnerStack | undefined;
let fake: FakeGithub | undefined;
let repo = "";
let project = "";
let dockerHost = "";

/** The stack and the fake GitHub API beforeAll started. */
function world(): { stack: RunnerStack; fake: FakeGithub } {
  if (!stack || !fake)
    throw new Error("beforeAll did not finish: the stack or the fake GitHub API is missing.");
  return { stack, fake };
}

function run(event: "push" | "pull_request", payload: Record<string, unknown>): Promise<WorkflowRun> {
  const { stack, fake } = world();
  return runWorkflow({
    repo,
    workflow: WORKFLOW,
    event,
    payload,
    env: {
      KEDRO_SFN_REPO: REPO_ROOT,
      KEDRO_SFN_PYTHON: PYTHON,
      KEDRO_SFN_REGISTRY: stack.registry,
      KEDRO_SFN_BASE_IMAGE: BASE_IMAGE,
      KEDRO_SFN_LAMBDA_ROLE: stack.roles.lambda,
      KEDRO_SFN_STATE_MACHINE_ROLE: stack.roles.stateMachine,
      DOCKER_HOST: dockerHost,
      GITHUB_API_URL: fake.url,
      ...stack.awsEnv,
    },
    secrets: { GITHUB_TOKEN: "ghs_fake_token" },
    timeoutMs: 500_000,
  });
}

/** A failed run shows the end of act's log (every step's output), not only its exit status. */
function expectSucceeded(result: WorkflowRun): void {
  if (result.status !== 0) throw new Error(`act exited with ${result.status}:\n${result.log.slice(-6000)}`);
}

beforeAll(async () => {
  requireTools();
  dockerHost = ensureBaseImage();
  project = copyExample();
  stack = await startRunnerStack();
  await uploadRawData(stack, project, PYTHON, BUCKET);
  fake = await new FakeGithub().start();
  fake.addPullRequest("org", "repo", 7);
  const workflow = readFileSync(join(REPO_ROOT, "__tests__", "fixtures", "act", "kedro-sfn.yml"), "utf8");
  repo = gitRepository("org/repo", { [WORKFLOW]: workflow });
}, 600_000);

afterAll(async () => {
  await fake?.close();
  await stack?.stop();
  for (const dir of [repo, project && dirname(project)])
    if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

interface Workflow {
  on: unknown;
  concurrency: unknown;
  jobs: {
    ship: { permissions: unknown; steps: { id?: string; uses?: string; with?: Record<string, string> }[] };
  };
}

const readWorkflow = (...path: string[]): Workflow =>
  parse(readFileSync(join(REPO_ROOT, ...path), "utf8")) as Workflow;

describe("the sample workflow under act", () => {
  it("is the sample workflow: same triggers, concurrency, permissions and action inputs", () => {
    const sample = readWorkflow("examples", "workflows", "kedro-sfn.yml");
    const local = readWorkflow("__tests__", "fixtures", "act", "kedro-sfn.yml");
    expect(local.on).toEqual(sample.on);
    expect(local.concurrency).toEqual(sample.concurrency);
    expect(local.jobs.ship.permissions).toEqual(sample.jobs.ship.permissions);
    const action = sample.jobs.ship.steps.find((s) => s.uses?.startsWith("org/kedro-sfn-action@"));
    const ship = local.jobs.ship.steps.find((s) => s.id === "ship");
    // The role ARNs are the local stack's; every other input the sample sets is kept as it is.
    const kept = Object.fromEntries(
      Object.entries(action?.with ?? {}).filter(([name]) => !name.endsWith("-role-arn")),
    );
    expect(ship?.with).toMatchObject(kept);
    expect(Object.keys(kept).length).toBeGreaterThan(3);
  });

  it("on a push, deploys and runs the example, and the next step reads the outputs", async () => {
    const result = await run("push", {
      ref: "refs/heads/main",
      before: "0".repeat(40),
      repository: REPOSITORY,
    });
    expectSucceeded(result);
    const out = result.echoed;
    expect(out["node"]).toMatch(/^v24\./);
    expect(out["execution-status"]).toBe("SUCCEEDED");
    const nodes = JSON.parse(out["node-statuses"] ?? "[]") as { node: string; status: string }[];
    expect(nodes.map((n) => n.status)).toEqual(Array(6).fill("succeeded"));
    expect(out["image-uri"]).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(out["state-machine-arn"]).toMatch(/^arn:aws:states:.*:stateMachine:spaceflights$/);
    expect(out["failure-reason"]).toBe("");
    // The last node's output went through the emulated S3.
    const metrics = await readObject(world().stack, BUCKET, "spaceflights/08_reporting/metrics.json");
    expect(Object.keys(JSON.parse(metrics ?? "{}") as object).length).toBeGreaterThan(0);
  }, 540_000);

  it("on a pull request, plans and posts the sticky comment to the GitHub API", async () => {
    const pullRequest = {
      number: 7,
      head: { sha: "a".repeat(40), ref: "feature", repo: REPOSITORY },
      base: { ref: "main", repo: REPOSITORY },
    };
    const result = await run("pull_request", {
      action: "opened",
      number: 7,
      pull_request: pullRequest,
      repository: REPOSITORY,
    });
    expectSucceeded(result);
    const out = result.echoed;
    expect(out["node"]).toMatch(/^v24\./);
    expect(out["plan-hash"]).toMatch(/^[0-9a-f]{64}$/);
    expect(out["execution-status"]).toBe(""); // plan mode starts nothing
    const comments = world().fake.commentsOn("org", "repo", 7);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain("<!-- kedro-sfn-action");
    expect(comments[0]?.body).toContain(out["plan-hash"]);
  }, 540_000);
});
