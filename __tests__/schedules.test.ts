/**
 * The `schedule` input against moto server (started by the harness; moto has EventBridge
 * Scheduler): a deploy creates one schedule starting the alias `live`, a changed expression
 * updates it, a no-op redeploy makes zero writes (and one GetSchedule), removing the input
 * deletes it, destroy removes it; a schedule of our name that is not ours is refused; bad
 * inputs fail naming the input before any AWS call.
 */
import { CreateScheduleCommand, GetScheduleCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import { ListTagsForResourceCommand, SFNClient, UntagResourceCommand } from "@aws-sdk/client-sfn";
import { describe, expect, it } from "@jest/globals";
import { CallLog, type AwsClients } from "../src/aws/clients.js";
import { Input } from "../src/constants.js";
import { UserError } from "../src/errors.js";
import { applyDestroy, describeDestroy, planDestroy } from "../src/ops/destroy.js";
import { parseOptions } from "../src/options.js";
import { scheduleName } from "../src/plan/schedule.js";
import type { DesiredDeployment, DesiredSchedule } from "../src/plan/types.js";
import { toPlanView } from "../src/report/planView.js";
import { renderDefinitionDiff } from "../src/report/planSections.js";
import { checkInputs } from "../src/stages/checkInputs.js";
import { deploy, planOnly } from "./harness/deploy.js";
import { TEST_CREDENTIALS, useLocalStack, type LocalStack } from "./harness/localStack.js";
import { desiredDeployment } from "./harness/pipelines.js";
import { spaceflightsGraph } from "./harness/pipelines.js";

const stack = useLocalStack();
const NAME = "scheduled";
const SCHEDULE = scheduleName(NAME);

const machineArn = (s: LocalStack): string =>
  `arn:aws:states:${s.region}:${s.accountId}:stateMachine:${NAME}`;
const roleArn = (s: LocalStack): string => `arn:aws:iam::${s.accountId}:role/kedro-sfn-scheduler`;

async function desired(
  s: LocalStack,
  schedule?: Partial<DesiredSchedule> | null,
): Promise<DesiredDeployment> {
  const base = desiredDeployment({
    stateMachineName: NAME,
    imageUri: await s.putImage(NAME, "v1"),
    lambdaRoleArn: s.roles.lambda,
    stateMachineRoleArn: s.roles.stateMachine,
  });
  if (!schedule) return base;
  return {
    ...base,
    schedule: {
      expression: "cron(0 6 * * ? *)",
      timezone: "Europe/Paris",
      input: '{"params":{"model_options.test_size":0.3}}',
      roleArn: roleArn(s),
      ...schedule,
    },
  };
}

const getSchedule = (clients: AwsClients) =>
  clients.scheduler.send(new GetScheduleCommand({ Name: SCHEDULE, GroupName: "default" }));

async function scheduleGone(clients: AwsClients): Promise<boolean> {
  return getSchedule(clients).then(
    () => false,
    (error: unknown) => (error as { name?: string }).name === "ResourceNotFoundException",
  );
}

const operations = (log: CallLog, filter: (op: string) => boolean = () => true): string[] =>
  log.calls.map((call) => call.operation).filter(filter);

describe("schedule", () => {
  it("created at the alias, updated, a no-op redeploy writes nothing, removed with the input, then gone with destroy", async () => {
    const s = stack();
    await s.reset();
    const log = new CallLog();
    const clients = await s.clients({ recorders: [log], lambdaLimiter: null });

    const first = await deploy(clients, await desired(s, {}));
    expect(first.plan.schedule).toMatchObject({ name: SCHEDULE, action: "create" });
    expect(first.plan.summary.toCreate).toBe(first.plan.functions.length + 2);
    const created = await getSchedule(clients);
    expect(created).toMatchObject({
      ScheduleExpression: "cron(0 6 * * ? *)",
      ScheduleExpressionTimezone: "Europe/Paris",
      State: "ENABLED",
      FlexibleTimeWindow: { Mode: "OFF" },
      Target: {
        Arn: `${machineArn(s)}:live`,
        RoleArn: roleArn(s),
        Input: '{"params":{"model_options.test_size":0.3}}',
      },
    });
    expect(created.Description).toMatch(new RegExp(`^kedro-sfn:${NAME}:[0-9a-f]{16}$`));
    const tags = await clients.sfn.send(new ListTagsForResourceCommand({ resourceArn: machineArn(s) }));
    expect(tags.tags).toContainEqual({ key: "kedro-sfn:schedule", value: SCHEDULE });

    // The same inputs: zero writes, and the schedule is read once.
    log.calls.length = 0;
    const again = await deploy(clients, await desired(s, {}));
    expect(again.plan.summary.hasChanges).toBe(false);
    expect(again.plan.schedule).toMatchObject({ action: "noop" });
    expect(log.writes()).toEqual([]);
    expect(operations(log, (op) => op.includes("Schedule"))).toEqual(["GetSchedule"]);

    // Another expression (and input spelled otherwise, same JSON): one UpdateSchedule, shown in the plan.
    log.calls.length = 0;
    const changed = await desired(s, {
      expression: "rate(1 day)",
      input: '{ "params": { "model_options.test_size": 0.3 } }',
    });
    const plan = await planOnly(clients, changed);
    expect(plan.schedule).toMatchObject({
      action: "update",
      changes: [{ field: "expression", before: "cron(0 6 * * ? *)", after: "rate(1 day)" }],
    });
    expect(plan.summary.toUpdate).toBe(1);
    const view = toPlanView(plan, {
      target: NAME,
      findings: [],
      graph: spaceflightsGraph(),
      compiled: changed.compiled,
      image: { state: "unchanged", uri: changed.imageUri },
    });
    expect(renderDefinitionDiff(view, "comment", 10_000)).toContain(
      `Schedule \`${SCHEDULE}\` (\`rate(1 day)\`, Europe/Paris): to update (expression \`cron(0 6 * * ? *)\` → \`rate(1 day)\`).`,
    );
    log.calls.length = 0;
    await deploy(clients, changed);
    expect(operations(log, (op) => !/^(Get|List|Describe)/.test(op))).toEqual(["UpdateSchedule"]);
    expect((await getSchedule(clients)).ScheduleExpression).toBe("rate(1 day)");

    // The input goes away: the schedule is deleted, the tag says none, the next no-op makes no Scheduler call.
    const removed = await deploy(clients, await desired(s, null));
    expect(removed.plan.schedule).toMatchObject({ action: "delete", expression: "rate(1 day)" });
    expect(removed.plan.summary.toDelete).toBe(1);
    expect(await scheduleGone(clients)).toBe(true);
    log.calls.length = 0;
    const quiet = await deploy(clients, await desired(s, null));
    expect(quiet.plan.schedule).toBeUndefined();
    expect(log.writes()).toEqual([]);
    expect(operations(log, (op) => op.includes("Schedule"))).toEqual([]);

    // Back, then destroy takes it with the state machine.
    await deploy(clients, await desired(s, {}));
    expect(await scheduleGone(clients)).toBe(false);
    const destroyPlan = await planDestroy(clients, NAME);
    expect(destroyPlan.schedule).toBe(SCHEDULE);
    expect(describeDestroy(destroyPlan)).toContain(`EventBridge Scheduler schedule ${SCHEDULE}`);
    await applyDestroy(clients, destroyPlan, () => undefined);
    expect(await scheduleGone(clients)).toBe(true);
    clients.destroy();
  });

  it("a state machine deployed before schedules (no schedule tag) is read once, retagged, then costs no call", async () => {
    const s = stack();
    await s.reset();
    const log = new CallLog();
    const clients = await s.clients({ recorders: [log], lambdaLimiter: null });
    await deploy(clients, await desired(s, null));
    // Setup, not the product: a client outside the harness's recording (the IAM test reads those).
    const setup = new SFNClient({ endpoint: s.endpoint, region: s.region, credentials: TEST_CREDENTIALS });
    await setup.send(
      new UntagResourceCommand({ resourceArn: machineArn(s), tagKeys: ["kedro-sfn:schedule"] }),
    );
    setup.destroy();
    log.calls.length = 0;
    const upgrade = await deploy(clients, await desired(s, null));
    expect(upgrade.plan.schedule).toBeUndefined();
    expect(upgrade.plan.stateMachine.changes).toEqual([
      { field: "tags.kedro-sfn:schedule", before: null, after: "none" },
    ]);
    expect(operations(log, (op) => op.includes("Schedule"))).toEqual(["GetSchedule"]);
    expect(log.writes().map((call) => call.operation)).toEqual(["TagResource"]);
    log.calls.length = 0;
    const after = await deploy(clients, await desired(s, null));
    expect(after.plan.summary.hasChanges).toBe(false);
    expect(log.calls.map((call) => call.operation).filter((op) => op.includes("Schedule"))).toEqual([]);
    clients.destroy();
  });

  it("refuses a schedule of its name that kedro-sfn did not make, and destroy leaves it", async () => {
    const s = stack();
    await s.reset();
    const clients = await s.clients({ lambdaLimiter: null });
    // Someone else's schedule, made outside the harness's recording.
    const other = new SchedulerClient({
      endpoint: s.endpoint,
      region: s.region,
      credentials: TEST_CREDENTIALS,
    });
    await other.send(
      new CreateScheduleCommand({
        Name: SCHEDULE,
        GroupName: "default",
        Description: "someone else's",
        ScheduleExpression: "rate(5 minutes)",
        FlexibleTimeWindow: { Mode: "OFF" },
        Target: { Arn: "arn:aws:sqs:eu-west-1:123456789012:queue", RoleArn: roleArn(s) },
      }),
    );
    other.destroy();
    const refused = await deploy(clients, await desired(s, {})).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UserError);
    expect((refused as Error).message).toContain(
      `Input 'schedule': an EventBridge Scheduler schedule named "${SCHEDULE}" (group default) already exists and was not made by kedro-sfn`,
    );
    // Without the input it is not ours to delete: the deploy goes ahead and leaves it.
    await deploy(clients, await desired(s, null));
    expect((await planDestroy(clients, NAME)).schedule).toBeNull();
    expect((await getSchedule(clients)).Description).toBe("someone else's");
    clients.destroy();
  });

  it("bad cron, time zone, input JSON or a missing role: an error naming the input, before any AWS call", async () => {
    const s = stack();
    const read = (inputs: Partial<Record<Input, string>>) => () => {
      const all: Partial<Record<Input, string>> = { [Input.StateMachineName]: NAME, ...inputs };
      return parseOptions((name) => all[name] ?? "");
    };
    expect(read({ [Input.Schedule]: "cron(0 6 * * *)" })).toThrow(
      "Input 'schedule': cron(0 6 * * *) has 5 field(s), not 6.",
    );
    expect(read({ [Input.Schedule]: "rate(1 day)", [Input.ScheduleTimezone]: "Europe/Pariss" })).toThrow(
      `Input 'schedule-timezone': "Europe/Pariss" is not an IANA time zone.`,
    );
    expect(read({ [Input.Schedule]: "rate(1 day)", [Input.ScheduleInput]: "{params: 1}" })).toThrow(
      "Input 'schedule-input' is not valid JSON",
    );
    expect(read({ [Input.Schedule]: "rate(1 day)", [Input.ScheduleInput]: "[1]" })).toThrow(
      "Input 'schedule-input' must be a JSON object",
    );

    const log = new CallLog();
    const given: Partial<Record<Input, string>> = {
      [Input.StateMachineName]: NAME,
      [Input.EcrRepository]: NAME,
      [Input.LambdaRoleArn]: s.roles.lambda,
      [Input.StateMachineRoleArn]: s.roles.stateMachine,
      [Input.Schedule]: "rate(1 day)",
    };
    const options = parseOptions((name) => given[name] ?? "");
    const aws = { clients: () => s.clients({ recorders: [log] }) } as unknown as Parameters<
      typeof checkInputs
    >[0]["aws"];
    const check = (mode: "plan" | "deploy", extra: Partial<typeof options>) =>
      checkInputs(
        { options: { ...options, ...extra }, mode, aws },
        { graph: spaceflightsGraph() },
        {
          probeBuilder: false,
        },
      );
    await expect(check("deploy", {})).rejects.toThrow("Input 'scheduler-role-arn' is required to deploy.");
    await expect(check("plan", { schedulerRoleArn: "arn:aws:iam::1:role/x" })).rejects.toThrow(
      `Input 'scheduler-role-arn': "arn:aws:iam::1:role/x" is not an IAM role ARN.`,
    );
    expect(log.calls).toEqual([]);
  });
});
