/**
 * `require-reviewed-plan` refusing a deploy, through the whole job: the real
 * example inspected, what is deployed read from moto, the merged pull request
 * and its plan comment from the fake GitHub API. The refusal names what changed
 * in its message and its summary, sets `failure-reason`, and builds nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { DescribeRepositoriesCommand } from "@aws-sdk/client-ecr";
import { Input } from "../src/constants.js";
import { buildPlanComment } from "../src/github/stickyComment.js";
import { runJob } from "../src/job.js";
import { parseOptions } from "../src/options.js";
import { FakeGithub } from "./harness/fakeGithub.js";
import { useLocalStack } from "./harness/localStack.js";
import { noChanges } from "./harness/planViewFixtures.js";
import { EXAMPLE, PYTHON } from "./harness/python.js";
import { recordingIO } from "./harness/jobIO.js";

const stack = useLocalStack();
const saved = { ...process.env };
const MERGE_SHA = "9f2c4e1d0b7a6c5e4f3a2b1c0d9e8f7a6b5c4d3e";
let fake: FakeGithub;

beforeAll(async () => {
  fake = await new FakeGithub().start();
});

afterAll(async () => {
  process.env = saved;
  await fake.close();
});

describe("a deploy whose plan is not the reviewed one", () => {
  it("is refused with the differences in the message and the summary", async () => {
    const s = stack();
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: s.endpoint,
      AWS_REGION: s.region,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
    });
    // Reviewed: a plan with no changes; now nothing is deployed, so every function would be created.
    fake.pullsByCommit.set(MERGE_SHA, [
      {
        number: 12,
        state: "closed",
        merged_at: "2025-01-02T10:00:00Z",
        merge_commit_sha: MERGE_SHA,
        title: "PR 12",
        base: { ref: "main" },
        head: { ref: "b12", sha: "h12" },
      },
    ]);
    fake.addComment("org", "repo", 12, buildPlanComment({ ...noChanges(), target: "spaceflights" }).body);
    const values: Partial<Record<Input, string>> = {
      [Input.ProjectPath]: EXAMPLE,
      [Input.Python]: PYTHON,
      [Input.Mode]: "deploy",
      [Input.StateMachineName]: "spaceflights",
      [Input.EcrRepository]: "spaceflights",
      [Input.LambdaRoleArn]: s.roles.lambda,
      [Input.StateMachineRoleArn]: s.roles.stateMachine,
      [Input.RequireReviewedPlan]: "true",
      [Input.GithubToken]: "ghs_fake",
    };
    const recorded = recordingIO();
    const result = await runJob(
      parseOptions((name) => values[name] ?? ""),
      recorded,
      {
        GITHUB_EVENT_NAME: "push",
        GITHUB_REPOSITORY: "org/repo",
        GITHUB_SHA: MERGE_SHA,
        GITHUB_API_URL: fake.url,
      },
    );
    expect(result.failure?.reason).toBe("plan-changed");
    expect(recorded.outputs.get("failure-reason")).toBe("plan-changed");
    expect(result.failure?.message).toMatch(
      /What changed:\n(- .*\n)*- function spaceflights-data_processing-preprocess_companies_node: reviewed no change, now create \d+ MB \d+ s\n/,
    );
    expect(result.summary).toContain("The step failed: `plan-changed`");
    expect(result.summary).toContain("**Not deployed: the plan changed since it was reviewed");
    expect(result.summary).toMatch(
      /\| function `spaceflights-data_processing-preprocess_companies_node` \| `no change` \| `create/,
    );
    // Refused before the build: no repository was created.
    const clients = await s.clients();
    const repositories = await clients.ecr.send(new DescribeRepositoriesCommand({}));
    expect(repositories.repositories ?? []).toEqual([]);
  }, 180_000);
});
