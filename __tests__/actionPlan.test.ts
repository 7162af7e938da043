/**
 * The job in plan mode on a pull request, wired end to end: real inspection of the
 * example, no AWS credentials (plans against nothing deployed), and the sticky
 * comment through Octokit's real HTTP path to a local fake of GitHub's API.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Input } from "../src/constants.js";
import { runJob } from "../src/job.js";
import { parseOptions } from "../src/options.js";
import { FakeGithub } from "./harness/fakeGithub.js";
import { EXAMPLE, PYTHON } from "./harness/python.js";
import { recordingIO } from "./harness/jobIO.js";

const saved = { ...process.env };
let fake: FakeGithub;

function pullRequestEvent(fork: boolean): string {
  const file = join(mkdtempSync(join(tmpdir(), "event-")), "event.json");
  const repo = (id: number, name: string) => ({ id, full_name: name });
  writeFileSync(
    file,
    JSON.stringify({
      number: 7,
      pull_request: {
        number: 7,
        head: { sha: "a".repeat(40), repo: fork ? repo(2, "someone/fork") : repo(1, "org/repo") },
        base: { repo: repo(1, "org/repo") },
      },
      repository: repo(1, "org/repo"),
    }),
  );
  return file;
}

function options(mode = "auto") {
  const values: Partial<Record<Input, string>> = {
    [Input.ProjectPath]: EXAMPLE,
    [Input.Python]: PYTHON,
    [Input.StateMachineName]: "spaceflights",
    [Input.EcrRepository]: "spaceflights",
    [Input.GithubToken]: "ghs_fake_token",
    [Input.Mode]: mode,
  };
  return parseOptions((name) => values[name] ?? "");
}

beforeAll(async () => {
  fake = await new FakeGithub().start();
  fake.addPullRequest("org", "repo", 7);
  for (const key of Object.keys(process.env)) if (key.startsWith("AWS_")) delete process.env[key];
  Object.assign(process.env, {
    GITHUB_EVENT_NAME: "pull_request",
    GITHUB_REPOSITORY: "org/repo",
    GITHUB_API_URL: fake.url,
    GITHUB_SHA: "b".repeat(40),
    AWS_CONFIG_FILE: "/nonexistent",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
  });
});

afterAll(async () => {
  process.env = saved;
  await fake.close();
});

describe("plan mode on a pull request", () => {
  it("posts one sticky plan comment and updates it in place", async () => {
    process.env["GITHUB_EVENT_PATH"] = pullRequestEvent(false);
    const first = recordingIO();
    const result = await runJob(options(), first);
    expect(result.mode).toBe("plan");
    expect(result.failure).toBeUndefined();
    expect(first.outputs.get("to-create")).toBe("7");
    expect(first.warnings.join("\n")).toMatch(/as if nothing were deployed/);
    const comments = fake.commentsOn("org", "repo", 7);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain("<!-- kedro-sfn-action");
    expect(comments[0]?.body).toContain(first.outputs.get("plan-hash"));
    expect(comments[0]?.body).toMatch(/7 to create/);
    expect(result.summary).toMatch(/7 to create/);

    await runJob(options(), recordingIO());
    expect(fake.commentsOn("org", "repo", 7)).toHaveLength(1);
  }, 120_000);

  it("refuses to deploy a fork's pull request", async () => {
    process.env["GITHUB_EVENT_PATH"] = pullRequestEvent(true);
    const result = await runJob(options("deploy"), recordingIO());
    expect(result.failure?.reason).toBe("fork-deploy");
    expect(result.failure?.message).toMatch(/fork/);
    expect(result.graph.nodes).toHaveLength(0); // refused before the fork's code was imported
  }, 120_000);
});
