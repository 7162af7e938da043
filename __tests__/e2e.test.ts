/**
 * The demo's flow end to end (scripts/demo.py: local stack, the docker builder, a local Lambda
 * that runs the pushed image through the runtime interface emulator,
 * `node dist/index.js` with INPUT_* variables, real Kedro nodes through the
 * emulated S3). Needs dist/ built (make test builds it first).
 */
import { describe, expect, it } from "@jest/globals";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { copyExample, PYTHON } from "./harness/python.js";

interface NodeStatus {
  node: string;
  status: string;
  error: { type: string; message: string } | null;
}

interface DemoRecord {
  stack: { components: { name: string; pid: number; port: number }[] };
  first?: Record<string, string>;
  second?: Record<string, string>;
  third?: Record<string, string>;
  failed?: Record<string, string>;
  metrics?: Record<string, number> | null;
  /** The local Lambda's log lines per run: `[lambda] fn:version cold|warm sha256:... 1.23s ok`. */
  invokes?: Record<string, string[]>;
  /** The local ECS's per task: `[ecs] <task id> family:revision cpu C memory M 1.23s ok|exit N`. */
  ecsTasks?: Record<string, string[]>;
}

/** Every invoke of a run ran `digest`'s image, `temperature` (cold or warm), and succeeded. */
function expectInvokes(lines: string[] | undefined, digest: string | undefined, temperature: string): void {
  const invokes = (lines ?? []).filter((line) => !line.startsWith("[lambda] pulled "));
  expect(invokes).toHaveLength(6);
  for (const line of invokes) {
    expect(line).toMatch(
      new RegExp(
        `^\\[lambda\\] spaceflights-\\S+:\\d+ ${temperature} ${(digest ?? "").slice(0, 19)} [\\d.]+s ok$`,
      ),
    );
  }
}

function demo(args: string[]): { status: number | null; record: DemoRecord; log: string; out: string } {
  const out = mkdtempSync(join(tmpdir(), "kedro-sfn-demo-"));
  const proc = spawnSync(PYTHON, [resolve("scripts/demo.py"), "--out", out, ...args], {
    encoding: "utf8",
    timeout: 1_500_000,
    env: { ...process.env, STORAGE_DRIVER: "vfs" },
  });
  const record = JSON.parse(readFileSync(join(out, "outputs.json"), "utf8")) as DemoRecord;
  return { status: proc.status, record, log: `${proc.stdout}\n${proc.stderr}`, out };
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => done(false));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function expectStackGone(record: DemoRecord): Promise<void> {
  expect(record.stack.components.map((c) => c.name).sort()).toEqual(["lambda-front", "moto", "registry"]);
  for (const c of record.stack.components) {
    expect(alive(c.pid)).toBe(false);
    expect(await portOpen(c.port)).toBe(false);
  }
}

describe("make demo's flow", () => {
  it("deploys and runs spaceflights, deploys again with no changes, then ships a code edit", async () => {
    const { status, record, log } = demo([]);
    expect({ status, tail: log.slice(-3000) }).toMatchObject({ status: 0 });
    const nodes = JSON.parse(record.first?.["node-statuses"] ?? "[]") as NodeStatus[];
    expect(nodes.map((n) => n.status)).toEqual(Array(6).fill("succeeded"));
    expect(record.first?.["execution-status"]).toBe("SUCCEEDED");
    expect(Object.keys(record.metrics ?? {}).length).toBeGreaterThan(0);
    expect(record.second).toMatchObject({
      "has-changes": "false",
      "to-create": "0",
      "to-update": "0",
      "to-delete": "0",
    });
    expect(record.second?.["state-machine-version-arn"]).toBe(record.first?.["state-machine-version-arn"]);
    // The Lambdas ran the pushed image itself: cold the first time, warm containers the second.
    const digestOf = (uri: string | undefined): string | undefined => uri?.split("@")[1];
    expectInvokes(record.invokes?.["1"], digestOf(record.first?.["image-uri"]), "cold");
    expect(record.second?.["execution-status"]).toBe("SUCCEEDED");
    expectInvokes(record.invokes?.["2"], digestOf(record.first?.["image-uri"]), "warm");
    // Run 3, after a code edit: one new image, every function updated, one new version, the run succeeds.
    const third = record.third ?? {};
    expect(third["image-uri"]).not.toBe(record.first?.["image-uri"]);
    // Six functions and the state machine.
    expect(third).toMatchObject({ "to-create": "0", "to-update": "7", "to-delete": "0" });
    const version = (arn: string | undefined): number => Number(arn?.split(":").pop());
    expect(version(third["state-machine-version-arn"])).toBe(
      version(record.first?.["state-machine-version-arn"]) + 1,
    );
    expect(third["execution-status"]).toBe("SUCCEEDED");
    expectInvokes(record.invokes?.["3"], digestOf(third["image-uri"]), "cold");
    await expectStackGone(record);
  }, 1_500_000);

  it("shows a failing node with its Python error and fails the step", async () => {
    const project = copyExample();
    const nodes = join(project, "src/spaceflights/pipelines/data_science/nodes.py");
    writeFileSync(
      nodes,
      readFileSync(nodes, "utf8").replace(
        /def train_model\(([^)]*)\)([^:]*):\n/,
        'def train_model($1)$2:\n    raise RuntimeError("the regressor refuses to train")\n',
      ),
    );
    const { status, record, log } = demo(["--project", project, "--runs", "1"]);
    expect({ status, tail: log.slice(-3000) }).toMatchObject({ status: 1 });
    const statuses = JSON.parse(record.failed?.["node-statuses"] ?? "[]") as NodeStatus[];
    const train = statuses.find((n) => n.node === "data_science.train_model_node");
    expect({ train, tail: log.slice(-3000) }).toMatchObject({ train: { status: "failed" } });
    expect(train?.error?.type).toBe("RuntimeError");
    expect(train?.error?.message).toContain("the regressor refuses to train");
    expect(statuses.find((n) => n.node === "data_science.evaluate_model_node")?.status).toBe("not-started");
    expect(record.failed?.["failure-reason"]).toBe("execution-failed");
    expect(log).toContain("the regressor refuses to train");
    await expectStackGone(record);
  }, 1_500_000);
});

describe("a node on ECS Fargate, the rest on Lambda (demo --ecs-node)", () => {
  const TRAIN = "data_science.train_model_node";

  it("runs the node as an ECS task of the same image, the others on Lambda, and the summary shows both", async () => {
    const { status, record, log, out } = demo(["--runs", "1", "--ecs-node", TRAIN]);
    expect({ status, tail: log.slice(-3000) }).toMatchObject({ status: 0 });
    const nodes = JSON.parse(record.first?.["node-statuses"] ?? "[]") as NodeStatus[];
    expect(nodes.map((n) => n.status)).toEqual(Array(6).fill("succeeded"));
    expect(record.first?.["execution-status"]).toBe("SUCCEEDED");
    // Five functions, the task definition and the state machine.
    expect(record.first).toMatchObject({ "to-create": "7" });
    const functions = JSON.parse(record.first?.["function-arns"] ?? "{}") as Record<string, string>;
    expect(Object.keys(functions)).toHaveLength(5);
    const lambdas = (record.invokes?.["1"] ?? []).filter((line) => !line.startsWith("[lambda] pulled "));
    expect(lambdas).toHaveLength(5);
    expect(lambdas.some((line) => line.includes("train_model"))).toBe(false);
    const tasks = record.ecsTasks?.["1"] ?? [];
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatch(/^\[ecs\] [0-9a-f]{12} spaceflights-ecs:1 cpu 1024 memory 4096 [\d.]+s ok$/);
    console.log(`ECS node wall time locally: ${tasks[0]}`);
    const summary = readFileSync(join(out, "summary-1.md"), "utf8");
    // Log links: the ECS task's awslogs stream, the Lambdas' groups.
    expect(summary).toContain("log-group/$252Fecs$252Fspaceflights-ecs/log-events/kedro-sfn$252Fkedro$252F");
    expect(summary).toContain("log-group/$252Faws$252Flambda$252Fspaceflights-");
    await expectStackGone(record);
  }, 1_500_000);

  it("fails the execution with the ECS node's own Python error, read from its task's log", async () => {
    const project = copyExample();
    const nodes = join(project, "src/spaceflights/pipelines/data_science/nodes.py");
    writeFileSync(
      nodes,
      readFileSync(nodes, "utf8").replace(
        /def train_model\(([^)]*)\)([^:]*):\n/,
        'def train_model($1)$2:\n    raise RuntimeError("the regressor refuses to train on Fargate")\n',
      ),
    );
    const { status, record, log } = demo(["--project", project, "--runs", "1", "--ecs-node", TRAIN]);
    expect({ status, tail: log.slice(-3000) }).toMatchObject({ status: 1 });
    const statuses = JSON.parse(record.failed?.["node-statuses"] ?? "[]") as NodeStatus[];
    const train = statuses.find((n) => n.node === TRAIN);
    expect({ train, tail: log.slice(-3000) }).toMatchObject({ train: { status: "failed" } });
    expect(train?.error?.type).toBe("RuntimeError");
    expect(train?.error?.message).toBe(
      `Kedro node '${TRAIN}' failed: the regressor refuses to train on Fargate`,
    );
    expect(statuses.find((n) => n.node === "data_science.evaluate_model_node")?.status).toBe("not-started");
    expect(record.failed?.["failure-reason"]).toBe("execution-failed");
    expect(record.ecsTasks?.["1"]?.[0]).toMatch(/ exit 1$/);
    await expectStackGone(record);
  }, 1_500_000);
});
