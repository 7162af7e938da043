/**
 * The `live` alias, rollback and destroy against moto server (started by the harness): deploys
 * move the alias, a rollback points it back in one call (and refuses when what the old version
 * invokes is gone), version cleanup keeps the alias's and the rollback target's versions, and
 * destroy removes this state machine's resources and nothing of a neighbour's.
 */
import { DeleteFunctionCommand, GetFunctionCommand } from "@aws-sdk/client-lambda";
import { BatchDeleteImageCommand } from "@aws-sdk/client-ecr";
import {
  DescribeExecutionCommand,
  DescribeStateMachineAliasCommand,
  DescribeStateMachineCommand,
  ListStateMachineVersionsCommand,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { afterAll, describe, expect, it } from "@jest/globals";
import { Writable } from "node:stream";
import { runCli } from "../src/cli/main.js";
import { Input, Output } from "../src/constants.js";
import { runJob, type JobIO } from "../src/job.js";
import { parseOptions } from "../src/options.js";
import { CallLog, type AwsClients } from "../src/aws/clients.js";
import { UserError } from "../src/errors.js";
import { applyDestroy, checkConfirmation, describeDestroy, planDestroy } from "../src/ops/destroy.js";
import { applyRollback, describeRollback, parseRollbackTo, planRollback } from "../src/ops/rollback.js";
import type { DesiredDeployment } from "../src/plan/types.js";
import { toPlanView } from "../src/report/planView.js";
import { renderDefinitionDiff } from "../src/report/planSections.js";
import { allFunctions, deploy } from "./harness/deploy.js";
import { TEST_CREDENTIALS, useLocalStack, type LocalStack } from "./harness/localStack.js";
import { desiredDeployment } from "./harness/pipelines.js";
import { parseFunctionDescription } from "../src/plan/index.js";

const stack = useLocalStack();
const NAME = "aliased";
// Its function names start with this one's prefix: destroy must still tell them apart.
const NEIGHBOUR = `${NAME}-next`;

const machineArn = (s: LocalStack, name = NAME): string =>
  `arn:aws:states:${s.region}:${s.accountId}:stateMachine:${name}`;

async function desired(s: LocalStack, name = NAME, memoryMb?: number): Promise<DesiredDeployment> {
  return desiredDeployment({
    stateMachineName: name,
    imageUri: await s.putImage(name, "v1"),
    lambdaRoleArn: s.roles.lambda,
    stateMachineRoleArn: s.roles.stateMachine,
    ...(memoryMb !== undefined ? { memoryMb } : {}),
  });
}

async function aliasVersion(clients: AwsClients, s: LocalStack, name = NAME): Promise<string | undefined> {
  const alias = await clients.sfn.send(
    new DescribeStateMachineAliasCommand({ stateMachineAliasArn: `${machineArn(s, name)}:live` }),
  );
  return alias.routingConfiguration?.[0]?.stateMachineVersionArn;
}

async function versionNumbers(clients: AwsClients, s: LocalStack, name = NAME): Promise<number[]> {
  const listed = await clients.sfn.send(
    new ListStateMachineVersionsCommand({ stateMachineArn: machineArn(s, name) }),
  );
  return (listed.stateMachineVersions ?? [])
    .map((v) => Number(v.stateMachineVersionArn?.split(":").pop()))
    .sort((a, b) => a - b);
}

const writes = (log: CallLog): string[] => log.writes().map((call) => call.operation);

describe("alias live", () => {
  it("deploy -> v1, changed -> v2, rollback -> v1, deploy again -> v2 re-pointed, no-op -> zero writes", async () => {
    const s = stack();
    await s.reset();
    const clients = await s.clients();
    const first = await desired(s);
    const one = await deploy(clients, first);
    expect(one.plan.stateMachine.alias).toMatchObject({ action: "create", currentVersionArn: null });
    expect(one.result.stateMachineAliasArn).toBe(`${machineArn(s)}:live`);
    expect(await aliasVersion(clients, s)).toBe(`${machineArn(s)}:1`);

    // The plan comment names the alias move.
    const changed = await desired(s, NAME, 2048);
    const log = new CallLog();
    const two = await deploy(await s.clients({ recorders: [log] }), changed);
    expect(two.plan.stateMachine.alias).toMatchObject({
      action: "update",
      currentVersionArn: `${machineArn(s)}:1`,
    });
    const view = toPlanView(two.plan, {
      target: NAME,
      findings: [],
      graph: { schema: "kedro-sfn/graph@1", nodes: [] },
      compiled: changed.compiled,
      image: { state: "unchanged", uri: changed.imageUri },
    });
    expect(renderDefinitionDiff(view, "comment", 10_000)).toContain(
      "Alias `live`: version 1 → the new version.",
    );
    expect(writes(log).filter((op) => op.includes("Alias"))).toEqual(["UpdateStateMachineAlias"]);
    expect(await aliasVersion(clients, s)).toBe(`${machineArn(s)}:2`);

    const rollback = await planRollback(clients, NAME, "previous");
    expect(rollback).toMatchObject({ from: { version: 2 }, to: { version: 1 }, missing: [] });
    expect(describeRollback(rollback)).toContain("from version 2 to version 1");
    log.clear();
    const rollbackClients = await s.clients({ recorders: [log] });
    expect(await applyRollback(rollbackClients, await planRollback(rollbackClients, NAME, "previous"))).toBe(
      true,
    );
    expect(writes(log)).toEqual(["UpdateStateMachineAlias"]);
    expect(await aliasVersion(clients, s)).toBe(`${machineArn(s)}:1`);
    // The state machine itself still has v2's definition: only the alias moved.
    const machine = await clients.sfn.send(
      new DescribeStateMachineCommand({ stateMachineArn: machineArn(s) }),
    );
    const v2 = await clients.sfn.send(
      new DescribeStateMachineCommand({ stateMachineArn: `${machineArn(s)}:2` }),
    );
    expect(machine.definition).toBe(v2.definition);

    // Executions through the alias run the version it routes to (moto_server.py resolves it).
    const started = await clients.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: `${machineArn(s)}:live`,
        name: "through-alias",
        input: "{}",
      }),
    );
    const execution = await clients.sfn.send(
      new DescribeExecutionCommand({ executionArn: started.executionArn }),
    );
    expect(execution.stateMachineArn).toBe(machineArn(s));

    // Deploying v2's inputs again re-points the alias at v2: one alias update, no new version.
    log.clear();
    const again = await deploy(await s.clients({ recorders: [log] }), changed);
    expect(again.plan.stateMachine.action).toBe("noop");
    expect(again.plan.stateMachine.alias).toMatchObject({
      action: "update",
      currentVersionArn: `${machineArn(s)}:1`,
      targetVersionArn: `${machineArn(s)}:2`,
    });
    expect(again.plan.summary).toMatchObject({ hasChanges: true, toUpdate: 1 });
    expect(writes(log)).toEqual(["UpdateStateMachineAlias"]);
    expect(await aliasVersion(clients, s)).toBe(`${machineArn(s)}:2`);
    expect(await versionNumbers(clients, s)).toEqual([1, 2]);

    log.clear();
    const noop = await deploy(await s.clients({ recorders: [log] }), changed);
    expect(noop.plan.summary.hasChanges).toBe(false);
    expect(noop.result.stateMachineAliasArn).toBe(`${machineArn(s)}:live`);
    expect(writes(log)).toEqual([]);

    // Rolling back to a version number, and to the one already live.
    const toTwo = await planRollback(clients, NAME, 2);
    expect(describeRollback(toTwo)).toContain("already routes to version 2");
    expect(await applyRollback(clients, toTwo)).toBe(false);
  }, 120_000);

  it("refuses a rollback whose version's functions are gone, saying which, and changes nothing", async () => {
    const s = stack();
    await s.reset();
    const clients = await s.clients({ lambdaLimiter: null });
    const first = await desired(s);
    await deploy(clients, first);
    await deploy(clients, await desired(s, NAME, 2048));
    const gone = first.compiled.functions[0]?.functionName ?? "";
    await clients.lambda.send(new DeleteFunctionCommand({ FunctionName: gone, Qualifier: "1" }));

    const plan = await planRollback(clients, NAME, "previous");
    expect(plan.missing).toEqual([`function version ${gone}:1`]);
    expect(describeRollback(plan)).toContain(`gone are function version ${gone}:1`);
    await expect(applyRollback(clients, plan)).rejects.toThrow(
      new RegExp(`Cannot roll back "${NAME}" to version 1: function version ${gone}:1 is gone`),
    );
    expect(await aliasVersion(clients, s)).toBe(`${machineArn(s)}:2`);

    // The image the old version's functions run, gone from ECR: named too.
    const digest = first.imageUri.slice(first.imageUri.indexOf("@") + 1);
    await clients.ecr.send(
      new BatchDeleteImageCommand({ repositoryName: NAME, imageIds: [{ imageDigest: digest }] }),
    );
    expect((await planRollback(clients, NAME, "previous")).missing).toEqual([
      `function version ${gone}:1`,
      `image ${NAME}@${digest}`,
    ]);

    await expect(planRollback(clients, NAME, 7)).rejects.toThrow(/to version 7: it does not exist/);
    await expect(planRollback(clients, "never-deployed", "previous")).rejects.toThrow(
      /no state machine named "never-deployed"/,
    );
  }, 120_000);

  it("version cleanup keeps the version the alias routes to and the rollback target, whatever keep-versions says", async () => {
    const s = stack();
    await s.reset();
    const clients = await s.clients({ lambdaLimiter: null });
    const keep = { keepVersions: 1 };
    await deploy(clients, await desired(s, NAME, 1024), keep);
    await deploy(clients, await desired(s, NAME, 2048), keep);
    // keep-versions 1 would leave v2 alone; the rollback target v1 stays, with its functions.
    expect(await versionNumbers(clients, s)).toEqual([1, 2]);
    const plan = await planRollback(clients, NAME, "previous");
    expect(plan.missing).toEqual([]);
    await applyRollback(clients, plan);
    // Live on v1: a deploy publishing v3 keeps v1 (live until the switch) and v2 (v3's rollback target).
    await deploy(clients, await desired(s, NAME, 3008), keep);
    expect(await aliasVersion(clients, s)).toBe(`${machineArn(s)}:3`);
    expect(await versionNumbers(clients, s)).toEqual([1, 2, 3]);
    await deploy(clients, await desired(s, NAME, 1536), keep);
    expect(await versionNumbers(clients, s)).toEqual([3, 4]);
    expect((await planRollback(clients, NAME, "previous")).missing).toEqual([]);
  }, 180_000);

  it("parses rollback-to, naming the input", () => {
    expect(parseRollbackTo("")).toBeNull();
    expect(parseRollbackTo("previous")).toBe("previous");
    expect(parseRollbackTo(" 3 ")).toBe(3);
    expect(() => parseRollbackTo("last")).toThrow(UserError);
    expect(() => parseRollbackTo("0")).toThrow(/Input 'rollback-to': "0" is neither/);
  });
});

describe("destroy", () => {
  it("without confirmation changes nothing; confirmed, removes this state machine's resources and none of a neighbour's", async () => {
    const s = stack();
    await s.reset();
    const clients = await s.clients({ lambdaLimiter: null });
    await deploy(clients, await desired(s));
    await deploy(clients, await desired(s, NAME, 2048));
    const neighbour = await desired(s, NEIGHBOUR);
    await deploy(clients, neighbour);
    const before = await allFunctions(clients);

    const log = new CallLog();
    const reading = await s.clients({ recorders: [log], lambdaLimiter: null });
    const plan = await planDestroy(reading, NAME);
    expect(plan).toMatchObject({
      stateMachineArn: machineArn(s),
      aliases: [`${machineArn(s)}:live`],
      versions: [`${machineArn(s)}:2`, `${machineArn(s)}:1`],
      skipped: [],
      running: false,
    });
    expect(plan.functions).toHaveLength(6);
    expect(plan.functions.every((fn) => fn.startsWith(`${NAME}-`))).toBe(true);
    const text = describeDestroy(plan);
    expect(text).toContain(`state machine ${machineArn(s)}`);
    expect(text).toContain(`alias ${NAME}:live`);
    expect(() => checkConfirmation(plan, { yes: false, confirm: "" })).toThrow(
      /needs an explicit confirmation: nothing was deleted/,
    );
    expect(() => checkConfirmation(plan, { yes: false, confirm: NEIGHBOUR })).toThrow(/does not name/);
    expect(writes(log)).toEqual([]);
    expect((await allFunctions(clients)).length).toBe(before.length);

    checkConfirmation(plan, { yes: false, confirm: NAME });
    const lines: string[] = [];
    await applyDestroy(clients, plan, (line) => lines.push(line));
    expect(lines).toContain(`deleted state machine ${NAME} and its 2 version(s)`);

    await expect(
      clients.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: machineArn(s) })),
    ).rejects.toMatchObject({ name: "StateMachineDoesNotExist" });
    const after = await allFunctions(clients);
    expect(after.filter((fn) => parseFunctionDescription(fn.Description)?.stateMachine === NAME)).toEqual([]);
    // The neighbour: its state machine, alias and every function untouched.
    expect(await aliasVersion(clients, s, NEIGHBOUR)).toBe(`${machineArn(s, NEIGHBOUR)}:1`);
    const neighbours = after.filter(
      (fn) => parseFunctionDescription(fn.Description)?.stateMachine === NEIGHBOUR,
    );
    expect(neighbours.map((fn) => fn.FunctionName).sort()).toEqual(
      neighbour.compiled.functions.map((fn) => fn.functionName).sort(),
    );
    for (const fn of neighbour.compiled.functions)
      await clients.lambda.send(new GetFunctionCommand({ FunctionName: fn.functionName, Qualifier: "1" }));

    // A second run finds nothing and says so.
    const empty = await planDestroy(clients, NAME);
    expect(describeDestroy(empty)).toBe(`Nothing of state machine ${NAME} exists: nothing to destroy.`);
  }, 180_000);

  it("refuses a state machine kedro-sfn does not manage", async () => {
    const s = stack();
    await s.reset();
    const clients = await s.clients({ lambdaLimiter: null });
    const { CreateStateMachineCommand } = await import("@aws-sdk/client-sfn");
    await clients.sfn.send(
      new CreateStateMachineCommand({
        name: "hand-made",
        roleArn: s.roles.stateMachine,
        definition: JSON.stringify({ StartAt: "A", States: { A: { Type: "Pass", End: true } } }),
      }),
    );
    await expect(planDestroy(clients, "hand-made")).rejects.toThrow(/not managed by kedro-sfn/);
  }, 60_000);
});

describe("rollback and destroy from the command line and the action", () => {
  const saved = { ...process.env };
  afterAll(() => {
    process.env = saved;
  });

  function capture(): Writable & { text: () => string } {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString("utf8"));
        done();
      },
    });
    return Object.assign(stream, { text: () => chunks.join("") });
  }

  async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out = capture();
    const err = capture();
    const code = await runCli(
      args,
      out as unknown as typeof process.stdout,
      err as unknown as typeof process.stderr,
    );
    return { code, out: out.text(), err: err.text() };
  }

  function quietIO(): JobIO & { outputs: Map<string, string> } {
    const outputs = new Map<string, string>();
    return {
      outputs,
      info: () => undefined,
      debug: () => undefined,
      warning: () => undefined,
      error: () => undefined,
      group: (_name, work) => work(),
      setOutput: (name, value) => void outputs.set(name, value),
      setSecret: () => undefined,
    };
  }

  it("rollback-to in plan mode shows it, in deploy mode moves the alias; destroy needs --confirm", async () => {
    const s = stack();
    await s.reset();
    const clients = await s.clients({ lambdaLimiter: null });
    await deploy(clients, await desired(s));
    await deploy(clients, await desired(s, NAME, 2048));
    for (const key of Object.keys(process.env)) if (key.startsWith("AWS_")) delete process.env[key];
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: s.endpoint,
      AWS_REGION: s.region,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_CONFIG_FILE: "/nonexistent",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
    });
    const inputs = (mode: string, to: string) =>
      parseOptions(
        (name) =>
          ({ [Input.StateMachineName]: NAME, [Input.RollbackTo]: to, [Input.Mode]: mode })[name as string] ??
          "",
      );

    const planned = await runJob(inputs("plan", "previous"), quietIO(), {});
    expect(planned.failure).toBeUndefined();
    expect(planned.summary).toContain("from version 2 to version 1");
    expect(planned.summary).toContain("Plan mode: nothing was changed.");
    expect(await aliasVersion(clients, s)).toBe(`${machineArn(s)}:2`);

    const io = quietIO();
    const rolled = await runJob(inputs("deploy", "previous"), io, {});
    expect(rolled.failure).toBeUndefined();
    expect(rolled.summary).toContain("Alias now routes to version 1.");
    expect(io.outputs.get(Output.StateMachineAliasArn)).toBe(`${machineArn(s)}:live`);
    expect(await aliasVersion(clients, s)).toBe(`${machineArn(s)}:1`);

    const missing = await runJob(inputs("deploy", "9"), quietIO(), {});
    expect(missing.failure).toMatchObject({ reason: "plan-failed" });
    expect(missing.failure?.message).toContain(`Cannot roll back "${NAME}" to version 9: it does not exist.`);
    expect((await runJob(inputs("deploy", "latest"), quietIO(), {})).failure).toMatchObject({
      reason: "bad-input",
      message: expect.stringContaining("Input 'rollback-to'") as unknown as string,
    });

    const cliRollback = await cli("rollback", "--state-machine", NAME, "--to", "2");
    expect(cliRollback).toMatchObject({ code: 0 });
    expect(cliRollback.out).toContain("from version 1 to version 2");
    expect(await aliasVersion(clients, s)).toBe(`${machineArn(s)}:2`);

    const refused = await cli("destroy", "--state-machine", NAME);
    expect(refused.code).toBe(2);
    expect(refused.out).toContain(`Destroy plan for ${NAME}:`);
    expect(refused.err).toContain("needs an explicit confirmation: nothing was deleted");
    expect(refused.err).toContain(`--confirm ${NAME}`);
    expect(await aliasVersion(clients, s)).toBe(`${machineArn(s)}:2`);

    const destroyed = await cli("destroy", "--state-machine", NAME, "--confirm", NAME);
    expect(destroyed).toMatchObject({ code: 0 });
    expect(destroyed.out).toContain(`Destroyed ${NAME}.`);
    expect(
      (await allFunctions(clients)).filter(
        (fn) => parseFunctionDescription(fn.Description)?.stateMachine === NAME,
      ),
    ).toEqual([]);
  }, 180_000);
});
