/**
 * One finish path: every outcome (a bad input, an error a stage throws, a
 * pipeline module that does not import, a refusal) writes the summary and sets
 * `failure-reason`, in the action (real @actions/core: the outputs and summary
 * files) and on the command line (--summary-file, exit codes). Real projects
 * (python/tests/make_project.py), no AWS credentials: plans against nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { parse } from "yaml";
import { runCli } from "../src/cli/main.js";
import { Input } from "../src/constants.js";
import { UserError } from "../src/errors.js";
import { FAILURE_REASONS, reasonForThrown } from "../src/failureReason.js";
import { runJob, runJobFromInputs } from "../src/job.js";
import { run as runAction } from "../src/main.js";
import { parseOptions } from "../src/options.js";
import { stage, stageOfError } from "../src/stages/context.js";
import { buildPlanComment } from "../src/github/stickyComment.js";
import { FakeGithub } from "./harness/fakeGithub.js";
import { noChanges } from "./harness/planViewFixtures.js";
import { makeProject, PYTHON } from "./harness/python.js";
import { recordingIO } from "./harness/jobIO.js";

const saved = { ...process.env };

function options(values: Partial<Record<Input, string>>) {
  return parseOptions((name) => values[name] ?? "");
}

beforeAll(() => {
  for (const key of Object.keys(process.env))
    if (key.startsWith("AWS_") || key.startsWith("GITHUB_") || key.startsWith("INPUT_"))
      delete process.env[key];
  Object.assign(process.env, {
    AWS_CONFIG_FILE: "/nonexistent",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
  });
});

afterAll(() => {
  process.env = saved;
  process.exitCode = 0;
});

describe("reasons", () => {
  it("a thrown error is named by its stage, else by its kind", async () => {
    const ctx = { io: recordingIO(), timings: [] as [string, number][] };
    const thrown = await stage(ctx, "package+build+push", () => {
      throw new UserError("pip could not install the image's requirements");
    }).catch((e: unknown) => e);
    expect(stageOfError(thrown)).toBe("package+build+push");
    expect(reasonForThrown(stageOfError(thrown), { userError: true })).toBe("build-failed");
    expect(reasonForThrown("inspect", { userError: true, reason: "pipeline-import" })).toBe(
      "pipeline-import",
    );
    expect(reasonForThrown(undefined, { userError: true })).toBe("bad-input");
    expect(reasonForThrown(undefined, { userError: false })).toBe("internal");
    expect(reasonForThrown("deploy", { userError: false })).toBe("deploy-failed");
  });

  it("action.yml and the README document every reason", () => {
    const action = parse(readFileSync("action.yml", "utf8")) as {
      outputs: Record<string, { description: string }>;
    };
    const documented = action.outputs["failure-reason"]?.description ?? "";
    const readme = readFileSync("README.md", "utf8");
    for (const reason of Object.keys(FAILURE_REASONS)) {
      expect({ reason, inActionYml: documented.includes(`\`${reason}\``) }).toEqual({
        reason,
        inActionYml: true,
      });
      expect({ reason, inReadme: readme.includes(`| \`${reason}\` |`) }).toEqual({ reason, inReadme: true });
    }
  });
});

describe("the job", () => {
  it("an error a stage throws: summary and failure-reason", async () => {
    const io = recordingIO();
    const result = await runJob(
      options({ [Input.ProjectPath]: "/nonexistent/project", [Input.Mode]: "plan" }),
      io,
      {},
    );
    expect(result.failure).toMatchObject({ reason: "inspect-failed", thrown: { userError: true } });
    expect(io.outputs.get("failure-reason")).toBe("inspect-failed");
    expect(result.summary).toContain("### ❌ The step failed: `inspect-failed`");
    expect(result.summary).toContain("Input 'project-path': '/nonexistent/project' is not a folder.");
    expect(result.summary).toContain("**What to do:** Point 'project-path' at the folder");
  });

  it("a bad input: summary and failure-reason, before any stage", async () => {
    const io = recordingIO();
    const { options: parsed, result } = await runJobFromInputs(
      () => options({ [Input.Mode]: "sideways" }),
      io,
      {},
    );
    expect(parsed).toBeUndefined();
    expect(result.failure?.reason).toBe("bad-input");
    expect(io.outputs.get("failure-reason")).toBe("bad-input");
    expect(result.summary).toMatch(/The step failed: `bad-input`[\s\S]*mode/);
  });

  describe("a pipeline module that raises on import", () => {
    let project: string;
    beforeAll(() => {
      project = makeProject("skipped_pipeline");
    });
    const values = (): Partial<Record<Input, string>> => ({
      [Input.ProjectPath]: project,
      [Input.Python]: PYTHON,
      [Input.StateMachineName]: "skipped",
      [Input.Mode]: "plan",
    });

    it("fails the step, naming the module and its error", async () => {
      const io = recordingIO();
      const result = await runJob(options(values()), io, {});
      expect(result.failure?.reason).toBe("pipeline-import");
      expect(result.failure?.message).toContain(
        "demo_skipped_pipeline.pipelines.broken (ZeroDivisionError: division by zero)",
      );
      expect(result.failure?.hint).toContain("allow-pipeline-import-errors: true");
      expect(io.outputs.get("failure-reason")).toBe("pipeline-import");
      expect(result.summary).toContain("The step failed: `pipeline-import`");
      expect(result.plan).toBeUndefined();
    }, 120_000);

    it("on a pull request, rewrites the old plan comment to say there is no plan, and why", async () => {
      const fake = await new FakeGithub().start();
      try {
        const old = fake.addComment(
          "org",
          "repo",
          7,
          buildPlanComment({ ...noChanges(), target: "skipped" }).body,
        );
        const event = join(mkdtempSync(join(tmpdir(), "event-")), "event.json");
        const repo = { id: 1, full_name: "org/repo" };
        const pr = { number: 7, head: { sha: "c".repeat(40), repo }, base: { repo } };
        writeFileSync(event, JSON.stringify({ number: 7, pull_request: pr, repository: repo }));
        const env = {
          GITHUB_EVENT_NAME: "pull_request",
          GITHUB_EVENT_PATH: event,
          GITHUB_REPOSITORY: "org/repo",
          GITHUB_API_URL: fake.url,
        };
        const result = await runJob(
          options({ ...values(), [Input.GithubToken]: "ghs_fake" }),
          recordingIO(),
          env,
        );
        expect(result.failure?.reason).toBe("pipeline-import");
        const comments = fake.commentsOn("org", "repo", 7);
        expect(comments.map((c) => c.id)).toEqual([old.id]);
        expect(comments[0]?.body).toContain("❌ **No plan: the job failed** (`pipeline-import`)");
        expect(comments[0]?.body).toContain("demo\\_skipped\\_pipeline.pipelines.broken");
        expect(comments[0]?.body).toContain('"status":"no-plan"');
      } finally {
        await fake.close();
      }
    }, 120_000);

    it("plans what imported with the input, warning in the log and the summary", async () => {
      const io = recordingIO();
      const result = await runJob(
        options({ ...values(), [Input.AllowPipelineImportErrors]: "true" }),
        io,
        {},
      );
      expect(result.failure).toBeUndefined();
      expect(result.graph.nodes.map((n) => n.name)).toEqual(["copy"]);
      const warning = io.warnings.find((w) => w.includes("failed to import"));
      expect(warning).toContain(
        "demo_skipped_pipeline.pipelines.broken (ZeroDivisionError: division by zero)",
      );
      expect(result.warnings).toContain(warning);
      expect(result.summary).toMatch(
        /\*\*Warnings \(\d+\)\*\*\n\n- ⚠️ find\\_pipelines\\\(\\\) skipped 1 pipeline module/,
      );
      expect(io.outputs.has("failure-reason")).toBe(false);
    }, 120_000);
  });
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

describe("the command line", () => {
  it("writes --summary-file on a failure too, and exits 2 for what the user must fix", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "cli-summary-")), "summary.md");
    const out = capture();
    const err = capture();
    const code = await runCli(
      ["plan", "--project-path", "/nonexistent/project", "--state-machine-name", "x", "--summary-file", file],
      out as unknown as typeof process.stdout,
      err as unknown as typeof process.stderr,
    );
    expect(code).toBe(2);
    expect(readFileSync(file, "utf8")).toContain("The step failed: `inspect-failed`");
    expect(out.text()).toContain("The step failed: `inspect-failed`");
    expect(err.text()).toMatch(/error \(inspect-failed\): Input 'project-path'/);
  });
});

describe("the action", () => {
  it("a bad input writes the summary and sets failure-reason", async () => {
    const dir = mkdtempSync(join(tmpdir(), "action-finish-"));
    const outputs = join(dir, "outputs");
    const summary = join(dir, "summary.md");
    writeFileSync(outputs, "");
    writeFileSync(summary, "");
    Object.assign(process.env, {
      GITHUB_OUTPUT: outputs,
      GITHUB_STEP_SUMMARY: summary,
      INPUT_MODE: "sideways",
    });
    const write = process.stdout.write.bind(process.stdout);
    const log: string[] = [];
    process.stdout.write = (chunk: string) => log.push(String(chunk)) > 0;
    try {
      await runAction();
    } finally {
      process.stdout.write = write;
    }
    expect(process.exitCode).toBe(1);
    process.exitCode = 0;
    expect(readFileSync(outputs, "utf8")).toMatch(/failure-reason<<[^\n]*\nbad-input\n/);
    expect(readFileSync(summary, "utf8")).toContain("The step failed: `bad-input`");
    expect(log.join("")).toMatch(/::error::.*mode/);
  });
});
