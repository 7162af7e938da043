/** The pure plan: desired vs deployed -> actions, hash, readable diff. No AWS, no mocks. */
import { describe, expect, it } from "@jest/globals";
import { UserError } from "../src/errors.js";
import {
  boundTasks,
  deployOutputs,
  planDeployment,
  planJson,
  planOutputs,
  renderPlanText,
  stableStringify,
  validateDeployInputs,
  type DeployedState,
  type DesiredDeployment,
} from "../src/plan/index.js";
import {
  deployedStateFor as deployedFor,
  desiredDeployment,
  nodeNames,
  SPACEFLIGHTS_NODES,
} from "./harness/pipelines.js";

const DIGEST_A = "a".repeat(64);
const DIGEST_B = "b".repeat(64);
const REPO = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/spaceflights";
const ROLES = {
  lambdaRoleArn: "arn:aws:iam::123456789012:role/kedro-node",
  stateMachineRoleArn: "arn:aws:iam::123456789012:role/kedro-sfn",
};

function desired(overrides: Partial<Parameters<typeof desiredDeployment>[0]> = {}): DesiredDeployment {
  return desiredDeployment({
    stateMachineName: "spaceflights",
    imageUri: `${REPO}@sha256:${DIGEST_A}`,
    ...ROLES,
    ...overrides,
  });
}

describe("planDeployment", () => {
  it("creates everything when nothing is deployed, and says why AWS was not read", () => {
    const plan = planDeployment(desired(), null, {
      note: "No AWS credentials: planned as if nothing were deployed.",
    });
    expect(plan.basis).toBe("nothing-deployed");
    expect(plan.functions.map((fn) => fn.action)).toEqual(Array(6).fill("create"));
    expect(plan.stateMachine.action).toBe("create");
    expect(plan.summary).toEqual({ toCreate: 7, toUpdate: 0, toDelete: 0, unchanged: 0, hasChanges: true });
    expect(renderPlanText(plan)).toContain("Note: No AWS credentials");
  });

  it("plans nothing when AWS matches, whatever the commit", () => {
    const target = desired();
    const plan = planDeployment({ ...target, commitSha: "f".repeat(40) }, deployedFor(target));
    expect(plan.functions.every((fn) => fn.action === "noop" && fn.steps.length === 0)).toBe(true);
    expect(plan.stateMachine).toMatchObject({
      action: "noop",
      steps: [],
      currentVersionArn: "arn:aws:states:eu-west-1:123456789012:stateMachine:spaceflights:3",
    });
    expect(plan.summary.hasChanges).toBe(false);
    expect(planOutputs(plan)).toMatchObject({
      "has-changes": "false",
      "to-create": "0",
      "to-update": "0",
      "to-delete": "0",
    });
  });

  it("gives the same hash for the same inputs, and ignores commit and revision ids", () => {
    const target = desired();
    const deployed = deployedFor(target);
    const first = planDeployment(target, deployed);
    const again = planDeployment(structuredClone(target), structuredClone(deployed));
    expect(again.hash).toBe(first.hash);
    expect(planJson(again)).toBe(planJson(first));
    const otherLocks = structuredClone(deployed);
    for (const fn of otherLocks.functions) fn.revisionId = "other";
    expect(planDeployment({ ...target, commitSha: "abc" }, otherLocks).hash).toBe(first.hash);
    const noisyCompile = { ...target, compiled: { ...target.compiled, warnings: ["estimate changed"] } };
    expect(planDeployment(noisyCompile, deployed).hash).toBe(first.hash);
    expect(planDeployment(desired({ memoryMb: 2048 }), deployed).hash).not.toBe(first.hash);
    // Canonical: key order does not matter.
    expect(JSON.parse(planJson(first))).toEqual(first);
    expect(stableStringify({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
  });

  it("updates one function's configuration when one node's memory changes", () => {
    const before = desired();
    const after = desired({ overrides: { "data_science.train_model_node": { memoryMb: 3008 } } });
    const plan = planDeployment(after, deployedFor(before));
    const changed = plan.functions.filter((fn) => fn.action !== "noop");
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({
      functionName: "spaceflights-data_science_train_model_node",
      action: "update-config",
      steps: ["config", "publish"],
      changes: [{ field: "memoryMb", before: 1024, after: 3008 }],
      revisionId: "rev-spaceflights-data_science_train_model_node",
    });
    expect(plan.stateMachine.action).toBe("update");
    expect(plan.stateMachine.definitionChanges).toEqual([
      {
        path: "/States/data_science.train_model_node/Parameters/FunctionName",
        kind: "changed",
        before: "spaceflights-data_science_train_model_node:1",
        after: "spaceflights-data_science_train_model_node:new",
      },
    ]);
    expect(plan.summary).toMatchObject({ toCreate: 0, toUpdate: 2, toDelete: 0, unchanged: 5 });
  });

  it("updates code (publishing in the same call) when the image changes", () => {
    const before = desired();
    const plan = planDeployment(desired({ imageUri: `${REPO}@sha256:${DIGEST_B}` }), deployedFor(before));
    for (const fn of plan.functions) {
      expect(fn.action).toBe("update-code");
      expect(fn.steps).toEqual(["code", "publish"]);
      expect(fn.changes).toEqual([
        {
          field: "image",
          before: `sha256:${DIGEST_A.slice(0, 12)}`,
          after: `sha256:${DIGEST_B.slice(0, 12)}`,
        },
      ]);
    }
  });

  it("updates code and configuration together", () => {
    const plan = planDeployment(
      desired({ imageUri: `${REPO}@sha256:${DIGEST_B}`, memoryMb: 512 }),
      deployedFor(desired()),
    );
    expect(plan.functions[0]?.steps).toEqual(["code", "config", "publish"]);
  });

  it("retags without publishing when only tags change", () => {
    const plan = planDeployment(desired({ tags: { team: "ml" } }), deployedFor(desired()));
    for (const fn of plan.functions)
      expect(fn).toMatchObject({ action: "update-config", steps: ["tags", "config"] });
    // The state machine keeps its definition and version; only its tags change.
    expect(plan.stateMachine).toMatchObject({
      action: "update",
      steps: ["tags"],
      changes: [{ field: "tags.team", before: "data", after: "ml" }],
    });
    expect(plan.stateMachine.definitionChanges).toEqual([]);
  });

  it("publishes functions a killed deploy updated but never bound", () => {
    const before = desired();
    const after = desired({ memoryMb: 2048 });
    const deployed = deployedFor(before);
    // The killed deploy got as far as the configuration of every function; the state machine still binds version 1.
    const updatedFunctions = deployedFor(after).functions;
    const plan = planDeployment(after, { ...deployed, functions: updatedFunctions });
    for (const fn of plan.functions) {
      expect(fn).toMatchObject({ action: "update-config", steps: ["publish"] });
      expect(fn.changes).toEqual([
        { field: "version", before: `${fn.functionName}:1`, after: `${fn.functionName}:new` },
      ]);
    }
    expect(plan.stateMachine.action).toBe("update");
  });

  it("deletes functions of nodes that left the pipeline only with prune", () => {
    const before = desired();
    const renamed = SPACEFLIGHTS_NODES.map((node) =>
      node === "data_science.evaluate_model_node" ? "data_science.evaluate_node" : node,
    );
    const after = desired({ nodes: renamed });
    const kept = planDeployment(after, deployedFor(before));
    expect(kept.functions.filter((fn) => fn.action === "delete")).toEqual([]);
    expect(kept.retained).toEqual(["spaceflights-data_science_evaluate_model_node"]);
    expect(renderPlanText(kept)).toContain("kept because prune is off");

    const pruned = planDeployment(after, deployedFor(before), { prune: true });
    expect(pruned.retained).toEqual([]);
    expect(
      pruned.functions.filter((fn) => fn.action !== "noop").map((fn) => [fn.functionName, fn.action]),
    ).toEqual([
      ["spaceflights-data_science_evaluate_model_node", "delete"],
      ["spaceflights-data_science_evaluate_node", "create"],
    ]);
    expect(pruned.functions.find((fn) => fn.action === "delete")?.nodes).toEqual([
      "data_science.evaluate_model_node",
    ]);
    expect(pruned.summary).toMatchObject({ toCreate: 1, toUpdate: 1, toDelete: 1 });
    const removedState = pruned.stateMachine.definitionChanges.find(
      (change) => change.path === "/States/data_science.evaluate_model_node",
    );
    expect(removedState?.kind).toBe("removed");
  });

  it("refuses a function name owned by another state machine, and says which", () => {
    const target = desired();
    const deployed: DeployedState = {
      region: "eu-west-1",
      stateMachine: null,
      functions: [],
      foreign: [{ functionName: "spaceflights-data_science_split_data_node", owner: "rockets" }],
    };
    expect(() => planDeployment(target, deployed)).toThrow(UserError);
    expect(() => planDeployment(target, deployed)).toThrow(
      /"spaceflights-data_science_split_data_node" already exists and belongs to state machine "rockets"/,
    );
    const unmanaged = { ...deployed, foreign: [{ functionName: "x", owner: null }] };
    expect(() => planDeployment(target, unmanaged)).toThrow(
      /is not managed by kedro-sfn; refusing to take it over/,
    );
  });

  it("shows state machine setting changes", () => {
    const target = desired();
    const withLogs: DesiredDeployment = {
      ...target,
      tracing: true,
      logging: {
        level: "ERROR",
        logGroupArn: "arn:aws:logs:eu-west-1:123456789012:log-group:/sfn/spaceflights",
      },
    };
    const plan = planDeployment(withLogs, deployedFor(target));
    expect(plan.stateMachine.action).toBe("update");
    expect(plan.stateMachine.changes).toEqual([
      { field: "logging.level", before: "OFF", after: "ERROR" },
      {
        field: "logging.logGroupArn",
        before: null,
        after: "arn:aws:logs:eu-west-1:123456789012:log-group:/sfn/spaceflights:*",
      },
      { field: "tracing", before: false, after: true },
    ]);
    expect(plan.functions.every((fn) => fn.action === "noop")).toBe(true);
  });

  it("keeps a 200-node no-op plan a no-op", () => {
    const target = desired({ nodes: nodeNames(200) });
    const plan = planDeployment(target, deployedFor(target, 7));
    expect(plan.summary).toEqual({
      toCreate: 0,
      toUpdate: 0,
      toDelete: 0,
      unchanged: 201,
      hasChanges: false,
    });
  });
});

describe("deploy outputs", () => {
  it("has every output the action declares", () => {
    const plan = planDeployment(desired(), null);
    const outputs = deployOutputs({
      stateMachineArn: "arn:sm",
      stateMachineVersionArn: "arn:sm:1",
      stateMachineAliasArn: "arn:sm:live",
      imageUri: plan.imageUri,
      functionArns: { b: "arn:b:1", a: "arn:a:1" },
      plan,
      deleted: [],
      deletedVersions: [],
    });
    expect(Object.keys(outputs).sort()).toEqual(
      [
        "function-arns",
        "has-changes",
        "image-uri",
        "plan-hash",
        "plan-json",
        "state-machine-alias-arn",
        "state-machine-arn",
        "state-machine-version-arn",
        "to-create",
        "to-delete",
        "to-update",
      ].sort(),
    );
    expect(outputs["function-arns"]).toBe('{"a":"arn:a:1","b":"arn:b:1"}');
    expect(outputs["plan-hash"]).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("validateDeployInputs", () => {
  const ok = { stateMachineName: "spaceflights", ...ROLES };

  it("accepts good inputs", () => {
    expect(() => validateDeployInputs({ ...ok, ecrRepository: REPO, region: "eu-west-1" })).not.toThrow();
    expect(() =>
      validateDeployInputs({ ...ok, lambdaRoleArn: "arn:aws-cn:iam::123456789012:role/path/to/node" }),
    ).not.toThrow();
  });

  it.each([
    [{ lambdaRoleArn: undefined }, "Input 'lambda-role-arn' is required"],
    [{ lambdaRoleArn: "kedro-node" }, "Input 'lambda-role-arn': \"kedro-node\" is not an IAM role ARN"],
    [
      { stateMachineRoleArn: "arn:aws:iam::123456789012:user/bob" },
      "Input 'state-machine-role-arn': \"arn:aws:iam::123456789012:user/bob\" is not an IAM role ARN",
    ],
    [{ stateMachineRoleArn: "" }, "Input 'state-machine-role-arn' is required"],
    [
      { stateMachineName: "space flights" },
      "Input 'state-machine-name' is not a valid Step Functions name: \"space flights\" contains whitespace",
    ],
    [{ stateMachineName: "a:b" }, 'contains ":"'],
    [{ stateMachineName: "x".repeat(81) }, "is 81 characters long; AWS allows 80"],
    [{ stateMachineName: "" }, "Input 'state-machine-name' is required"],
    [
      { ecrRepository: REPO, region: "us-east-1" },
      "Input 'ecr-repository': the repository is in eu-west-1 but the deployment region is us-east-1",
    ],
    [{ logging: { level: "ALL" as const } }, "Input 'log-group-arn' is required when 'log-level' is ALL"],
    [{ tags: { "kedro-sfn:commit": "x" } }, 'Tag key "kedro-sfn:commit" is reserved'],
  ])("rejects %j", (override, message) => {
    const call = (): void => validateDeployInputs({ ...ok, ...override });
    expect(call).toThrow(UserError);
    expect(call).toThrow(message);
  });
});

/** `deployedFor(target)` with the versions a real read adds: state machine versions 1..count, the newest current. */
function withVersions(target: DesiredDeployment, count: number, functionVersions = 1): DeployedState {
  const state = deployedFor(target);
  const machine = state.stateMachine;
  if (!machine) throw new Error("no state machine");
  const bound = Object.values(machine.tasks).map((task) => task.versionArn);
  const versions = Array.from({ length: count }, (_, index) => ({
    arn: `${machine.arn}:${count - index}`,
    version: count - index,
    functionVersionArns: bound,
  }));
  const digest = DIGEST_A;
  return {
    ...state,
    functions: state.functions.map((fn) => ({
      ...fn,
      versions: Array.from({ length: functionVersions }, (_, index) => ({
        arn: `${fn.functionArn}:${index + 1}`,
        version: index + 1,
        codeSha256: digest,
      })),
    })),
    stateMachine: { ...machine, versions, currentVersionArn: versions[0]?.arn ?? null },
  };
}

describe("versions", () => {
  const machineArn = "arn:aws:states:eu-west-1:123456789012:stateMachine:spaceflights";

  it("takes the version the state machine runs from the versions, and only mends a stale tag", () => {
    const target = desired();
    const deployed = withVersions(target, 4);
    // deployedFor tags version 3: as if the deploy that published 4 was killed before tagging.
    const plan = planDeployment(target, deployed);
    expect(plan.functions.every((fn) => fn.action === "noop")).toBe(true);
    expect(plan.stateMachine).toMatchObject({
      action: "update",
      steps: ["tags"],
      currentVersionArn: `${machineArn}:4`,
      changes: [{ field: "tags.kedro-sfn:version", before: `${machineArn}:3`, after: `${machineArn}:4` }],
    });
    const tagged = {
      ...deployed.stateMachine!,
      tags: { ...deployed.stateMachine!.tags, "kedro-sfn:version": `${machineArn}:4` },
    };
    expect(planDeployment(target, { ...deployed, stateMachine: tagged }).summary.hasChanges).toBe(false);
  });

  it("publishes when no version has the state machine's current definition", () => {
    const target = desired();
    const deployed = withVersions(target, 2);
    const plan = planDeployment(target, {
      ...deployed,
      stateMachine: { ...deployed.stateMachine!, currentVersionArn: null },
    });
    expect(plan.stateMachine).toMatchObject({
      steps: ["update"],
      currentVersionArn: null,
      changes: [{ field: "version", before: `${machineArn}:3`, after: "new" }],
    });
  });

  it("plans old versions beyond keep-versions, the one this deploy publishes counted, and says so", () => {
    const target = desired();
    const deployed = withVersions(target, 12, 3);
    const changed = desired({ imageUri: `${REPO}@sha256:${DIGEST_B}` });
    const plan = planDeployment(changed, deployed, { keepVersions: 10 });
    expect(plan.oldVersions.stateMachineVersions).toEqual([3, 2, 1].map((n) => `${machineArn}:${n}`));
    // Every kept version invokes version 1 of each function (deployedFor binds :1); 3 is each one's newest.
    expect(plan.oldVersions.functionVersions).toHaveLength(6);
    expect(plan.oldVersions.functionVersions.every((arn) => arn.endsWith(":2"))).toBe(true);
    expect(plan.oldVersions.keptImages).toEqual([`sha256:${DIGEST_A}`, `sha256:${DIGEST_B}`]);
    const text = renderPlanText(plan);
    expect(text).toContain("Old versions deleted after the cutover (keep-versions 10):");
    expect(text).toContain(
      "state machine spaceflights:3, spaceflights:2, spaceflights:1 (unless an execution still runs one)",
    );

    // Nothing published: the newest ten stay; a kept version that could not be read keeps every function version.
    const unread = structuredClone(deployed);
    const versions = unread.stateMachine?.versions ?? [];
    const second = versions[1];
    if (second) second.functionVersionArns = null;
    const same = planDeployment(target, unread, { keepVersions: 10 });
    expect(same.oldVersions).toMatchObject({
      stateMachineVersions: [`${machineArn}:2`, `${machineArn}:1`],
      functionVersions: [],
      keptImages: null,
    });
  });
});

describe("bound tasks", () => {
  it("reads a function several Tasks invoke as one binding serving all their nodes", () => {
    const arn = "arn:aws:lambda:eu-west-1:123456789012:function:shared-1024:3";
    const task = (nodes: string[], next?: string) => ({
      Type: "Task",
      Resource: "arn:aws:states:::lambda:invoke",
      Parameters: { FunctionName: arn, Payload: { nodes } },
      Comment: "kedro-sfn spec 0123456789abcdef",
      ...(next ? { Next: next } : { End: true }),
    });
    const tasks = boundTasks({
      StartAt: "a",
      States: { a: task(["a_node"], "b"), b: task(["b_node", "a_node"]) },
    });
    expect(tasks).toEqual({
      "shared-1024": {
        functionName: "shared-1024",
        versionArn: arn,
        specHash: "0123456789abcdef",
        nodes: ["a_node", "b_node"],
      },
    });
  });
});
