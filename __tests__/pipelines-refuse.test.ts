/**
 * Several pipelines, one of them refused at plan time (a Lambda function it would need already
 * exists and is not ours), through the whole job against moto: every pipeline is planned before
 * the first AWS write, so the other pipeline is not deployed either, no repository is made and
 * nothing is built.
 */
import { DescribeRepositoriesCommand } from "@aws-sdk/client-ecr";
import { CreateFunctionCommand, ListFunctionsCommand } from "@aws-sdk/client-lambda";
import { ListStateMachinesCommand } from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { buildPlanComment } from "../src/github/stickyComment.js";
import { planGroupOf } from "../src/report/planGroup.js";
import { FakeGithub } from "./harness/fakeGithub.js";
import { noChanges } from "./harness/planViewFixtures.js";
import { Input } from "../src/constants.js";
import { runJob } from "../src/job.js";
import { parseOptions } from "../src/options.js";
import { useLocalStack } from "./harness/localStack.js";
import { EXAMPLE, PYTHON } from "./harness/python.js";
import { recordingIO } from "./harness/jobIO.js";

const stack = useLocalStack();
const saved = { ...process.env };
const MERGE_SHA = "8e1d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d";
let fake: FakeGithub;

beforeAll(async () => {
  fake = await new FakeGithub().start();
});

afterAll(async () => {
  process.env = saved;
  await fake.close();
});

describe("several pipelines, one refused by its plan", () => {
  it("deploys none of them and writes nothing", async () => {
    const s = stack();
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: s.endpoint,
      AWS_REGION: s.region,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
    });
    const clients = await s.clients();
    // Someone else's function with the name data_science's train node would get.
    const taken = "spaceflights-data_science-data_science-train_model_node";
    await clients.lambda.send(
      new CreateFunctionCommand({
        FunctionName: taken,
        PackageType: "Image",
        Code: { ImageUri: await s.putImage("other", "v1") },
        Role: s.roles.lambda,
      }),
    );
    const values: Partial<Record<Input, string>> = {
      [Input.ProjectPath]: EXAMPLE,
      [Input.Python]: PYTHON,
      [Input.Mode]: "deploy",
      [Input.Pipeline]: "data_processing,data_science",
      [Input.StateMachineName]: "spaceflights",
      [Input.EcrRepository]: "spaceflights",
      [Input.LambdaRoleArn]: s.roles.lambda,
      [Input.StateMachineRoleArn]: s.roles.stateMachine,
    };
    const result = await runJob(
      parseOptions((name) => values[name] ?? ""),
      recordingIO(),
      {
        GITHUB_EVENT_NAME: "push",
        GITHUB_SHA: "d".repeat(40),
      },
    );
    expect(result.failure?.message).toContain(
      `Lambda function "${taken}" already exists and is not managed by kedro-sfn; refusing to take it over for state machine "spaceflights-data_science"`,
    );
    expect(result.summary).toContain("The step failed");
    // data_processing came first and was fine: still nothing of it exists.
    expect((await clients.sfn.send(new ListStateMachinesCommand({}))).stateMachines ?? []).toEqual([]);
    const functions = (await clients.lambda.send(new ListFunctionsCommand({}))).Functions ?? [];
    expect(functions.map((f) => f.FunctionName)).toEqual([taken]);
    const repositories = await clients.ecr.send(new DescribeRepositoriesCommand({}));
    expect((repositories.repositories ?? []).map((r) => r.repositoryName)).toEqual(["other"]);
  }, 180_000);

  it("refuses all of them when the plans are not the reviewed ones, building nothing", async () => {
    const s = stack();
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: s.endpoint,
      AWS_REGION: s.region,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
    });
    fake.pullsByCommit.set(MERGE_SHA, [
      {
        number: 21,
        state: "closed",
        merged_at: "2025-01-02T10:00:00Z",
        merge_commit_sha: MERGE_SHA,
        title: "PR 21",
        base: { ref: "main" },
        head: { ref: "b21", sha: "h21" },
      },
    ]);
    // Reviewed: no changes for both; now nothing is deployed, so both would create everything.
    const reviewed = planGroupOf(
      "spaceflights",
      ["data_processing", "data_science"],
      [noChanges(), noChanges()],
    );
    fake.addComment("org", "repo", 21, buildPlanComment(reviewed).body);
    const values: Partial<Record<Input, string>> = {
      [Input.ProjectPath]: EXAMPLE,
      [Input.Python]: PYTHON,
      [Input.Mode]: "deploy",
      [Input.Pipeline]: "data_processing,data_science",
      [Input.StateMachineName]: "spaceflights",
      [Input.EcrRepository]: "spaceflights",
      [Input.LambdaRoleArn]: s.roles.lambda,
      [Input.StateMachineRoleArn]: s.roles.stateMachine,
      [Input.RequireReviewedPlan]: "true",
      [Input.GithubToken]: "ghs_fake",
    };
    const result = await runJob(
      parseOptions((name) => values[name] ?? ""),
      recordingIO(),
      {
        GITHUB_EVENT_NAME: "push",
        GITHUB_REPOSITORY: "org/repo",
        GITHUB_SHA: MERGE_SHA,
        GITHUB_API_URL: fake.url,
      },
    );
    expect(result.failure?.reason).toBe("plan-changed");
    expect(result.failure?.message).toContain("none of the 2 pipelines");
    expect(result.failure?.message).toMatch(
      /- function spaceflights-data_science-data_science-train_model_node: reviewed no change, now create/,
    );
    expect(result.pipelines?.map((p) => p.state)).toEqual(["not-deployed", "not-deployed"]);
    expect(result.summary).toContain("None of the pipelines was deployed");
    const clients = await s.clients();
    expect((await clients.ecr.send(new DescribeRepositoriesCommand({}))).repositories ?? []).toEqual([]);
    expect((await clients.sfn.send(new ListStateMachinesCommand({}))).stateMachines ?? []).toEqual([]);
  }, 180_000);
});
