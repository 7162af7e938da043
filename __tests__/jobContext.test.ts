import { describe, expect, it } from "@jest/globals";
import type { AwsClients } from "../src/aws/clients.js";
import { parseOptions } from "../src/options.js";
import { createJobContext, stage, type JobIO } from "../src/stages/context.js";

function recordingIO(): JobIO & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (line) => lines.push(`info ${line}`),
    debug: (line) => lines.push(`debug ${line}`),
    warning: (line) => lines.push(`warning ${line}`),
    error: (line) => lines.push(`error ${line}`),
    group: async (name, work) => {
      lines.push(`group ${name}`);
      try {
        return await work();
      } finally {
        lines.push(`endgroup ${name}`);
      }
    },
    setOutput: () => undefined,
    setSecret: () => undefined,
  };
}

const options = parseOptions(() => "");

describe("the job context", () => {
  it("reads the event and run ids from the environment it is given, not process.env", () => {
    const env = {
      GITHUB_EVENT_NAME: "push",
      GITHUB_SHA: "c".repeat(40),
      GITHUB_RUN_ID: "42",
      GITHUB_RUN_ATTEMPT: "2",
    };
    const ctx = createJobContext(options, recordingIO(), "deploy", env);
    expect(ctx.event).toMatchObject({ eventName: "push", sha: "c".repeat(40), runId: "42", runAttempt: "2" });
    expect(ctx.octokit).toBeNull(); // no github-token
  });

  it("makes the AWS clients once, on first use, and destroys what it made", async () => {
    let made = 0;
    let destroyed = 0;
    const connect = (): Promise<AwsClients> => {
      made++;
      return Promise.resolve({ destroy: () => destroyed++ } as unknown as AwsClients);
    };
    const unused = createJobContext(options, recordingIO(), "plan", {}, connect);
    unused.aws.destroy();
    expect([made, destroyed]).toEqual([0, 0]);

    const ctx = createJobContext(options, recordingIO(), "deploy", {}, connect);
    const [a, b] = await Promise.all([ctx.aws.clients(), ctx.aws.clients()]);
    expect(a).toBe(b);
    ctx.aws.destroy();
    expect([made, destroyed]).toEqual([1, 1]);
  });

  it("runs each stage in a foldable group and records its time, also when it throws", async () => {
    const io = recordingIO();
    const timings: [string, number][] = [];
    await stage({ io, timings }, "inspect", () => io.info("inside"));
    await expect(
      stage({ io, timings }, "compile", () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(io.lines).toEqual([
      "group inspect",
      "info inside",
      "endgroup inspect",
      "group compile",
      "endgroup compile",
    ]);
    expect(timings.map(([name]) => name)).toEqual(["inspect", "compile"]);
  });
});
