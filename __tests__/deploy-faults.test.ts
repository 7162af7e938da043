/**
 * Deploys through scripts/fault_proxy.py in front of moto: 10% of Lambda and Step Functions
 * calls fail (throttled 429/400, 500 before acting, or 500 after acting so the retry meets a
 * call that already happened), with ListFunctions paged at 50 as AWS does.
 */
import { describe, expect, it } from "@jest/globals";
import type { CallRecorder } from "../src/aws/clients.js";
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
});
