/**
 * `kedro-sfn plan` from the command line on the real example, with no AWS
 * credentials (it plans against nothing deployed): Markdown by default, the
 * canonical plan with --json.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Writable } from "node:stream";
import { runCli } from "../src/cli/main.js";
import { EXAMPLE, PYTHON } from "./harness/python.js";

const saved = { ...process.env };

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

const planArgs = ["plan", "--project", EXAMPLE, "--python", PYTHON, "--state-machine-name", "spaceflights"];

beforeAll(() => {
  for (const key of Object.keys(process.env))
    if (key.startsWith("AWS_") || key.startsWith("GITHUB_")) delete process.env[key];
  Object.assign(process.env, {
    AWS_CONFIG_FILE: "/nonexistent",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
  });
});

afterAll(() => {
  process.env = saved;
});

describe("kedro-sfn plan", () => {
  it("prints the canonical plan with --json", async () => {
    const { code, out, err } = await cli(...planArgs, "--json");
    expect(code).toBe(0);
    const plan = JSON.parse(out) as {
      schema: string;
      stateMachineName: string;
      summary: { toCreate: number };
    };
    expect(plan.schema).toMatch(/^kedro-sfn\/plan@/);
    expect(plan.stateMachineName).toBe("spaceflights");
    expect(plan.summary.toCreate).toBe(7);
    expect(err).toMatch(/as if nothing were deployed/);
    expect(err).toMatch(/== inspect ==/);
  }, 120_000);

  it("prints Markdown without it, and names an unknown flag", async () => {
    const { code, out } = await cli(...planArgs);
    expect(code).toBe(0);
    expect(out).toMatch(/## kedro-sfn plan/);
    const unknown = await cli(...planArgs, "--jsn");
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/Unknown flag --jsn for 'kedro-sfn plan'/);
  }, 120_000);
});
