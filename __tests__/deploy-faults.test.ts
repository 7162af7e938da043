/**
 * Deploys through scripts/fault_proxy.py in front of moto: 10% of Lambda and Step Functions
 * calls fail (throttled 429/400, 500 before acting, or 500 after acting so the retry meets a
 * call that already happened), with ListFunctions paged at 50 as AWS does. Then single faults:
 * a kill between publishing the state machine version and tagging it, and each publishing
 * call's response lost after the server did the work.
 */
import { ListVersionsByFunctionCommand } from "@aws-sdk/client-lambda";
import { ListStateMachineVersionsCommand, ListTagsForResourceCommand } from "@aws-sdk/client-sfn";
import { describe, expect, it } from "@jest/globals";
import { CallLog, type AwsClients, type CallRecorder } from "../src/aws/clients.js";
import type { DesiredDeployment } from "../src/plan/types.js";
import { deploy, missingReferencedVersions, orphanedFunctions, planOnly } from "./harness/deploy.js";
import { useLocalStack, type LocalStack } from "./harness/localStack.js";
import { compiledPipeline, desiredDeployment, nodeNames } from "./harness/pipelines.js";

const stack = useLocalStack({ faultProxy: true });
const NAME = "big";
const TEN_PERCENT = { throttle_rate: 0.05, error_rate: 0.03, lose_rate: 0.02 };

async function pipeline(s: LocalStack, nodes: string[], image: string): Promise<DesiredDeployment> {
  return desiredDeployment({
    stateMachineName: NAME,
    imageUri: await s.putImage("big", image),
    lambdaRoleArn: s.roles.lambda,
    stateMachineRoleArn: s.roles.stateMachine,
    compiled: compiledPipeline(nodes, { prefix: NAME }),
  });
}

async function expectConverged(s: LocalStack, desired: DesiredDeployment): Promise<void> {
  const direct = await s.clients({ lambdaLimiter: null });
  const arn = `arn:aws:states:${s.region}:${s.accountId}:stateMachine:${NAME}`;
  expect(await missingReferencedVersions(direct, arn)).toEqual([]);
  expect(await orphanedFunctions(direct, NAME, arn)).toEqual([]);
  const plan = await planOnly(direct, desired, true);
  expect(plan.functions.filter((fn) => fn.action !== "noop")).toEqual([]);
  expect(plan.summary.hasChanges).toBe(false);
}

describe("deploy through faults", () => {
  it("converges a 200-node pipeline with 10% of calls failing, then a change to it, with nothing orphaned", async () => {
    const s = stack();
    await s.faults({ ...TEN_PERCENT, seed: 7 });
    const clients = await s.clients({ viaProxy: true });
    const first = await pipeline(s, nodeNames(200), "v1");
    await deploy(clients, first);
    await expectConverged(s, first);

    // New image everywhere, five nodes renamed, pruned: updates, creates and deletes under fire.
    const renamed = nodeNames(200).map((node, index) => (index % 40 === 0 ? `${node}_renamed` : node));
    const second = await pipeline(s, renamed, "v2");
    const { result } = await deploy(clients, second, { prune: true });
    expect(result.deleted).toHaveLength(5);
    await expectConverged(s, second);

    const injected = (await s.faultState()).stats;
    const failed =
      (injected["lambda.throttle"] ?? 0) + (injected["lambda.error"] ?? 0) + (injected["lambda.lose"] ?? 0);
    expect(failed / (injected["lambda.requests"] ?? 1)).toBeGreaterThan(0.05);
    expect(injected["lambda.lose"]).toBeGreaterThan(0);
  }, 600_000);

  it("converges when a deploy killed midway is run again, still under faults", async () => {
    const s = stack();
    await s.faults({ ...TEN_PERCENT, seed: 11 });
    const base = await pipeline(s, nodeNames(60), "v1");
    await deploy(await s.clients({ viaProxy: true }), base);
    const target = { ...(await pipeline(s, nodeNames(60).slice(5), "v2")) };

    let writes = 0;
    const killAfter30: CallRecorder = {
      before() {
        if (writes >= 30) throw new Error("killed");
      },
      record(call) {
        if (call.ok && !/^(Get|List|Describe)/.test(call.operation)) writes += 1;
      },
    };
    await expect(
      deploy(await s.clients({ viaProxy: true, recorders: [killAfter30] }), target, { prune: true }),
    ).rejects.toThrow();
    const direct = await s.clients({ lambdaLimiter: null });
    expect(
      await missingReferencedVersions(
        direct,
        `arn:aws:states:${s.region}:${s.accountId}:stateMachine:${NAME}`,
      ),
    ).toEqual([]);

    await deploy(await s.clients({ viaProxy: true }), target, { prune: true });
    await expectConverged(s, target);
  }, 600_000);

  it("reads a deployed 200-node pipeline for a no-op plan in four calls, listing nothing", async () => {
    const s = stack();
    const desired = await pipeline(s, nodeNames(200), "v1");
    await deploy(await s.clients({ viaProxy: true }), desired);
    await deploy(await s.clients({ viaProxy: true }), await pipeline(s, nodeNames(200), "v2"));
    const log = new CallLog();
    // Through the proxy: ListFunctions paged at 50, as AWS does.
    const plan = await planOnly(
      await s.clients({ viaProxy: true, recorders: [log] }),
      await pipeline(s, nodeNames(200), "v2"),
    );
    expect(plan.summary.hasChanges).toBe(false);
    const counts: Record<string, number> = {};
    for (const call of log.calls) counts[call.operation] = (counts[call.operation] ?? 0) + 1;
    // No function read: every Task is bound to a version built from the desired spec. The state
    // machine and its newest version described (what it runs), where the alias `live` routes;
    // nothing listed.
    expect(counts).toEqual({
      DescribeStateMachine: 2,
      ListTagsForResource: 1,
      ListStateMachineVersions: 1,
      DescribeStateMachineAlias: 1,
    });
  }, 300_000);

  it("a kill between UpdateStateMachine and TagResource leaves nothing wrong: the next deploy repairs the tag and moves the alias", async () => {
    const s = stack();
    const arn = smArn(s);
    const base = await pipeline(s, nodeNames(6), "v1");
    await deploy(await s.clients(), base);
    const target = await pipeline(s, nodeNames(6), "v2");
    // The switch's TagResource (it records the version), not the mark set before the functions change.
    const killBeforeTag: CallRecorder = {
      before(call, input) {
        const tags = (input as { tags?: { key?: string }[] }).tags ?? [];
        if (
          call.operation === "TagResource" &&
          call.service === "states" &&
          tags.some((tag) => tag.key === "kedro-sfn:version")
        )
          throw new Error("killed");
      },
      record() {},
    };
    await expect(deploy(await s.clients({ recorders: [killBeforeTag] }), target)).rejects.toThrow("killed");
    const direct = await s.clients({ lambdaLimiter: null });
    expect(await versionTag(direct, arn)).toBe(`${arn}:1`);

    // The version itself says what the state machine runs: the plan mends the tag, and the alias
    // (still on version 1: the kill came before it moved) goes to version 2.
    const plan = await planOnly(direct, target);
    expect(plan.functions.filter((fn) => fn.action !== "noop")).toEqual([]);
    expect(plan.stateMachine).toMatchObject({
      steps: ["tags"],
      currentVersionArn: `${arn}:2`,
      changes: [{ field: "tags.kedro-sfn:version", before: `${arn}:1`, after: `${arn}:2` }],
    });
    const log = new CallLog();
    const { result } = await deploy(await s.clients({ recorders: [log] }), target);
    expect(plan.stateMachine.alias).toMatchObject({ action: "update", currentVersionArn: `${arn}:1` });
    expect(log.writes().map((call) => call.operation)).toEqual(["TagResource", "UpdateStateMachineAlias"]);
    expect(result.stateMachineVersionArn).toBe(`${arn}:2`);
    expect(await versionTag(direct, arn)).toBe(`${arn}:2`);
    expect((await planOnly(direct, target)).summary.hasChanges).toBe(false);
  });

  it("publishes no second version when a publishing call's response is lost and the SDK retries it", async () => {
    const s = stack();
    const arn = smArn(s);
    const nodes = nodeNames(4);
    const first = await pipeline(s, nodes, "v1");
    await deploy(await s.clients({ viaProxy: true }), first);

    // New image: every function publishes with UpdateFunctionCode; one of those, and the state
    // machine update, done by moto but answered 500.
    await s.faults({ lose_next: ["UpdateFunctionCode", "UpdateStateMachine"] });
    const second = await pipeline(s, nodes, "v2");
    await deploy(await s.clients({ viaProxy: true }), second);
    // One node's memory: UpdateFunctionConfiguration, then PublishVersion, whose answer is lost.
    await s.faults({ lose_next: ["PublishVersion", "UpdateStateMachine"] });
    const memoryNode = nodes[0] ?? "";
    const third = {
      ...second,
      compiled: compiledPipeline(nodes, { prefix: NAME, overrides: { [memoryNode]: { memoryMb: 2048 } } }),
    };
    const { result } = await deploy(await s.clients({ viaProxy: true }), third);

    const stats = (await s.faultState()).stats;
    expect([
      stats["lost.UpdateFunctionCode"],
      stats["lost.PublishVersion"],
      stats["lost.UpdateStateMachine"],
    ]).toEqual([1, 1, 2]);
    const direct = await s.clients({ lambdaLimiter: null });
    expect(await stateMachineVersionNumbers(direct, arn)).toEqual([3, 2, 1]);
    expect(result.stateMachineVersionArn).toBe(`${arn}:3`);
    for (const spec of third.compiled.functions) {
      const expected = spec.nodes[0] === memoryNode ? [1, 2, 3] : [1, 2];
      expect({
        fn: spec.functionName,
        versions: await functionVersionNumbers(direct, spec.functionName),
      }).toEqual({
        fn: spec.functionName,
        versions: expected,
      });
    }
    await expectConverged(s, third);
  });
});

function smArn(s: LocalStack): string {
  return `arn:aws:states:${s.region}:${s.accountId}:stateMachine:${NAME}`;
}

async function versionTag(clients: AwsClients, arn: string): Promise<string | undefined> {
  const tags = await clients.sfn.send(new ListTagsForResourceCommand({ resourceArn: arn }));
  return tags.tags?.find((tag) => tag.key === "kedro-sfn:version")?.value;
}

async function stateMachineVersionNumbers(clients: AwsClients, arn: string): Promise<number[]> {
  const listed = await clients.sfn.send(new ListStateMachineVersionsCommand({ stateMachineArn: arn }));
  return (listed.stateMachineVersions ?? []).map((v) => Number(v.stateMachineVersionArn?.split(":").pop()));
}

async function functionVersionNumbers(clients: AwsClients, name: string): Promise<number[]> {
  const listed = await clients.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name }));
  return (listed.Versions ?? [])
    .map((v) => Number(v.Version))
    .filter((v) => Number.isInteger(v))
    .sort((a, b) => a - b);
}
