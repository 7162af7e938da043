/**
 * Hostile names through every printer, into the real sinks: node, namespace and
 * dataset names, exception types and messages that are workflow commands
 * (`::error title=INJECTED::`, `::add-mask::kedro`, `::stop-commands::deadbeef`,
 * the legacy `##[add-mask]`), hold newlines, HTML, Markdown, mentions and table
 * pipes. Kedro validates node names but not namespaces or dataset names, so a
 * real generated project carries them through inspection. Log lines are read
 * as the runner reads them, Markdown is rendered by cmark-gfm as GitHub does.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  type HistoryEvent,
} from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import fc from "fast-check";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildNoPlanComment } from "../src/github/stickyComment.js";
import { describeDifferences } from "../src/github/marker.js";
import { run as runAction } from "../src/main.js";
import { annotationTitle, jsonText, logName, logText } from "../src/report/escape.js";
import { renderNodeTableText } from "../src/report/nodeTable.js";
import { renderPlanDifferences } from "../src/report/planComment.js";
import { renderJobSummary } from "../src/report/summary.js";
import { renderFailure } from "../src/report/failure.js";
import type { PlanDifference } from "../src/plan/types.js";
import type { RunTask, TaskRun } from "../src/run/types.js";
import { waitForExecution } from "../src/run/wait.js";
import { FakeGithub } from "./harness/fakeGithub.js";
import { makeProject, PYTHON } from "./harness/python.js";
import { asPipeline, IMAGE, report, run } from "./harness/runFixtures.js";
import { checkRendered, injectedCommands, physicalLines, runnerCommand } from "./harness/sinks.js";

const INJECTIONS = ["::error title=INJECTED::x", "::add-mask::kedro", "::stop-commands::deadbeef"];
const HOSTILE = [
  `a\n${INJECTIONS[0]}`,
  `b\r\n${INJECTIONS[1]}`,
  `c\r${INJECTIONS[2]}`,
  "  \t::warning::indented",
  "legacy ##[add-mask]kedro and ##[error]x",
  "d\n\n</details>\n\n<img src=x>\n\n@someone ![x](http://e) [l](http://e)\n\n",
  "e`tick`|pipe\n\n```\n<img src=x>\n```\n",
];
/** Commands @actions/core issues itself (their data is escaped). */
const CORE_COMMANDS = new Set(["group", "endgroup", "warning", "error", "debug", "notice"]);
const OUR_LINKS = /^https:\/\/(github\.com\/|[a-z0-9-]+\.console\.aws\.amazon\.com\/)/;

function expectSafeLog(text: string): void {
  expect(injectedCommands(text, new Set())).toEqual([]);
}

function expectSafeMarkdown(markdown: string): ReturnType<typeof checkRendered> {
  const r = checkRendered(markdown, OUR_LINKS);
  expect({
    images: r.images,
    links: r.foreignLinks,
    mentions: r.mentions,
    details: r.detailsBalance,
  }).toEqual({
    images: 0,
    links: [],
    mentions: [],
    details: 0,
  });
  return r;
}

describe("the log sink", () => {
  it.each(HOSTILE)("logText leaves no line a command: %j", (text) => {
    const safe = logText(text);
    expectSafeLog(safe);
    // Still readable: the words are all there.
    for (const word of text.split(/\s+/).filter((w) => /^[a-z]+$/.test(w))) expect(safe).toContain(word);
  });

  it("logName keeps a name on one line, with visible escapes", () => {
    expect(logName("a\n::error title=INJECTED::x")).toBe("a\\n::error title=INJECTED::x");
    expect(logName("tab\there\u001b[2J")).toBe("tab\\there\\u001b[2J");
    for (const name of HOSTILE) expect(physicalLines(logName(name))).toHaveLength(1);
  });

  it("any text, once through logText, holds no command the runner would run", () => {
    const pieces = fc.constantFrom(
      "::",
      "##[",
      "error",
      "add-mask",
      " ",
      "\t",
      "\n",
      "\r",
      "\u00a0",
      "x",
      "]",
      "=",
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 24 }), (parts) => {
        const safe = logText(parts.join(""));
        return physicalLines(safe).every((line) => runnerCommand(line) === null);
      }),
      { numRuns: 2000 },
    );
  });

  it("annotation titles stay one line; JSON keeps its value", () => {
    expect(annotationTitle("kedro-sfn: d1\n::add-mask::kedro")).toBe("kedro-sfn: d1 ::add-mask::kedro");
    const json = jsonText(JSON.stringify({ name: "##[add-mask]kedro" }, null, 2));
    expectSafeLog(json);
    expect(JSON.parse(json)).toEqual({ name: "##[add-mask]kedro" });
  });
});

/** The recorded spaceflights history (moto), its node and error renamed to hostile text. */
function hostileHistory(): { tasks: RunTask[]; events: HistoryEvent[]; node: string } {
  const recorded = JSON.parse(
    readFileSync(join("__tests__", "fixtures", "history", "failed.json"), "utf8"),
  ) as {
    tasks: RunTask[];
    events: (HistoryEvent & { timestamp: string })[];
  };
  const node = HOSTILE[0] as string;
  const rename = (value: unknown): unknown => {
    if (typeof value === "string") {
      if (value.startsWith("{")) {
        try {
          return JSON.stringify(rename(JSON.parse(value)));
        } catch {
          // not JSON: a plain string
        }
      }
      return value.split("data_science.train_model_node").join(node);
    }
    if (Array.isArray(value)) return value.map(rename);
    if (value && typeof value === "object")
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rename(v)]));
    return value;
  };
  const events = (rename(recorded.events) as (HistoryEvent & { timestamp: string })[]).map((e) => {
    const event: HistoryEvent = { ...e, timestamp: new Date(e.timestamp) };
    if (event.taskFailedEventDetails) {
      event.taskFailedEventDetails = {
        ...event.taskFailedEventDetails,
        error: `Value\n${INJECTIONS[0]}`,
        cause: JSON.stringify({
          errorType: `Value\n${INJECTIONS[0]}`,
          errorMessage: `bad\n${INJECTIONS[1]}\n${INJECTIONS[2]}`,
          stackTrace: [`  File "x", line 1\n${INJECTIONS[1]}`],
        }),
      };
    }
    return event;
  });
  return { tasks: rename(recorded.tasks) as RunTask[], events, node };
}

describe("progress lines while waiting", () => {
  // A replayed history (aws-sdk-client-mock): moto cannot make a Lambda raise an exception named like this.
  const sfnMock = mockClient(SFNClient);
  afterAll(() => sfnMock.restore());

  it("name the hostile node and its error on one safe line", async () => {
    const { tasks, events, node } = hostileHistory();
    sfnMock.on(DescribeExecutionCommand).resolves({
      executionArn: "arn:aws:states:us-east-1:123456789012:execution:sm:run",
      stateMachineArn: "arn:sm",
      status: "FAILED",
      startDate: new Date(0),
    });
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [...events].reverse() });
    const lines: string[] = [];
    let clock = 0;
    await waitForExecution(
      new SFNClient({ region: "us-east-1" }),
      "arn:aws:states:us-east-1:1:execution:sm:run",
      {
        timeoutMs: 60_000,
        now: () => clock,
        sleep: (ms) => Promise.resolve(void (clock += ms)),
        log: (line) => lines.push(line),
        tasks,
      },
    );
    const failed = lines.find((l) => l.includes("failed"));
    expect(failed).toContain(`✗ ${logName(node)} failed`);
    expect(failed).toContain("Value\\n::error title=INJECTED::x: bad");
    for (const line of lines) {
      expect(physicalLines(line)).toHaveLength(1);
      expectSafeLog(line);
    }
  });
});

describe("failure printers", () => {
  const tasks: RunTask[] = HOSTILE.map((name, i) => ({
    stateName: `s${i}`,
    functionName: `f-${i}`,
    nodes: [name],
  }));
  const runs: TaskRun[] = tasks.map((t, i) =>
    run(t, "failed", i * 1000, 900, {
      error: {
        type: `Type${HOSTILE[5] as string}${HOSTILE[i] as string}`,
        message: `message ${HOSTILE[i] as string}\n${INJECTIONS.join("\n")}`,
        traceback: [HOSTILE[i] as string, ...INJECTIONS],
      },
    }),
  );
  const input = { run: report(runs, { status: "FAILED" }), pipeline: asPipeline(tasks), image: IMAGE };

  it("the terminal node table and failure details", () => {
    const text = renderNodeTableText(input.run.nodes);
    expectSafeLog(text);
    expect(text).toContain("a\\n::error title=INJECTED::x");
  });

  it("the job summary: nothing breaks out of <details>", () => {
    const r = expectSafeMarkdown(renderJobSummary({ run: input }));
    expect(r.html).toContain("<details>");
    // Still readable: the mention's text is there, as text (an entity after `@` inside HTML).
    expect(r.prose).toContain("someone");
  });

  it("the failure banner and the plan-changed differences", () => {
    const differences: PlanDifference[] = HOSTILE.map((name) => ({
      kind: "function",
      name,
      reviewed: name,
      current: "create 1024 MB 60 s",
    }));
    expectSafeMarkdown(
      [
        renderFailure({ reason: "plan-changed", message: HOSTILE.join("\n"), hint: HOSTILE[5] as string }),
        renderPlanDifferences(differences, "https://github.com/org/repo/pull/7#issuecomment-1"),
      ].join("\n\n"),
    );
    for (const line of describeDifferences(differences)) {
      expect(physicalLines(line)).toHaveLength(1);
      expectSafeLog(line);
    }
  });

  it("the pre-flight comment", () => {
    const finding = {
      severity: "error" as const,
      code: "ephemeral-crosses-tasks" as const,
      producer: HOSTILE[1] as string,
      consumers: [HOSTILE[2] as string],
      message: HOSTILE[5] as string,
      file: "conf/aws/catalog.yml",
    };
    const findings = HOSTILE.map((dataset) => ({
      ...finding,
      dataset,
      catalogEntry: `${dataset}:\n  type: x`,
    }));
    const { body } = buildNoPlanComment({
      failure: { reason: "preflight", message: HOSTILE[0] as string },
      target: HOSTILE[0] as string,
      findings,
      commit: "a".repeat(40),
    });
    const r = expectSafeMarkdown(body);
    expect(r.prose).toContain("Pre-flight failed");
    const other = buildNoPlanComment({
      target: HOSTILE[0] as string,
      failure: { reason: "pipeline-import", message: HOSTILE.join(" ") },
      findings: [],
    });
    expect(expectSafeMarkdown(other.body).prose).toContain("No plan: the job failed");
  });
});

describe("the action on a project with hostile namespaces and dataset names", () => {
  const saved = { ...process.env };
  let fake: FakeGithub;
  let project: string;
  let dir: string;

  beforeAll(async () => {
    project = makeProject("hostile_names");
    dir = mkdtempSync(join(tmpdir(), "hostile-action-"));
    fake = await new FakeGithub().start();
    fake.addPullRequest("org", "repo", 7);
    const event = join(dir, "event.json");
    const repo = { id: 1, full_name: "org/repo" };
    writeFileSync(
      event,
      JSON.stringify({
        number: 7,
        pull_request: { number: 7, head: { sha: "a".repeat(40), repo }, base: { repo } },
        repository: repo,
      }),
    );
    for (const key of Object.keys(process.env))
      if (key.startsWith("AWS_") || key.startsWith("INPUT_") || key.startsWith("GITHUB_"))
        delete process.env[key];
    Object.assign(process.env, {
      GITHUB_EVENT_NAME: "pull_request",
      GITHUB_EVENT_PATH: event,
      GITHUB_REPOSITORY: "org/repo",
      GITHUB_API_URL: fake.url,
      GITHUB_SHA: "b".repeat(40),
      AWS_CONFIG_FILE: "/nonexistent",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
      "INPUT_PROJECT-PATH": project,
      INPUT_PYTHON: PYTHON,
      "INPUT_STATE-MACHINE-NAME": "hostile",
      "INPUT_GROUP-BY": "namespace",
      "INPUT_GITHUB-TOKEN": "ghs_fake_token",
    });
  });

  afterAll(async () => {
    process.env = saved;
    process.exitCode = 0;
    await fake.close();
  });

  /** `run()` of the action with its real sinks: stdout, the outputs file and the summary file. */
  async function action(
    env: Record<string, string>,
  ): Promise<{ log: string; outputs: string; summary: string }> {
    const outputs = join(dir, `outputs-${Math.random()}`);
    // @actions/core keeps the summary path of its first write: one file, emptied for each run.
    const summary = join(dir, "summary.md");
    writeFileSync(outputs, "");
    writeFileSync(summary, "");
    Object.assign(process.env, env, { GITHUB_OUTPUT: outputs, GITHUB_STEP_SUMMARY: summary });
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (chunk: string | Uint8Array) => {
      chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      return true;
    };
    try {
      await runAction();
    } finally {
      process.stdout.write = write;
    }
    process.exitCode = 0;
    return {
      log: chunks.join(""),
      outputs: readFileSync(outputs, "utf8"),
      summary: readFileSync(summary, "utf8"),
    };
  }

  it("plans: the log holds only core's own commands, summary and comment render inert", async () => {
    const { log, outputs, summary } = await action({ "INPUT_KEDRO-ENV": "aws" });
    expect(injectedCommands(log, CORE_COMMANDS)).toEqual([]);
    // The names did reach the log, kept on their line.
    expect(log).toContain("Merged into ");
    expect(log).toContain("ns\\n::error title=INJECTED::x.a1");
    expect(outputs).not.toContain("failure-reason");
    expect(outputs).toContain("to-create");
    const r = expectSafeMarkdown(summary);
    expect(r.prose).toContain("INJECTED");
    const comments = fake.commentsOn("org", "repo", 7);
    expect(comments).toHaveLength(1);
    expectSafeMarkdown(comments[0]?.body ?? "");
  }, 120_000);

  it("stops at pre-flight: the same comment now says so, and every sink is still inert", async () => {
    const before = fake.commentsOn("org", "repo", 7)[0];
    const { log, outputs, summary } = await action({ "INPUT_KEDRO-ENV": "memory" });
    expect(injectedCommands(log, CORE_COMMANDS)).toEqual([]);
    expect(outputs).toMatch(/failure-reason<<[^\n]*\npreflight\n/);
    const s = expectSafeMarkdown(summary);
    expect(s.prose).toContain("The step failed");
    const comments = fake.commentsOn("org", "repo", 7);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.id).toBe(before?.id);
    const c = expectSafeMarkdown(comments[0]?.body ?? "");
    expect(c.prose).toContain("Pre-flight failed: no plan.");
    expect(comments[0]?.body).not.toContain("to create");
  }, 120_000);
});
