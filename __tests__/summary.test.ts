/** Rendering of the run summary, node tables and the Gantt chart: escaping, budget, snapshots. */
import { renderGantt, ganttText } from "../src/report/gantt.js";
import { renderNodeTable, renderNodeTableText } from "../src/report/nodeTable.js";
import type { PlanView } from "../src/report/planComment.js";
import {
  renderDeploySummary,
  renderJobSummary,
  renderRunSummary,
  renderRunSummaryAt,
  SUMMARY_MAX_BYTES,
  type RunSummaryInput,
  type SummaryLevel,
} from "../src/report/summary.js";
import type { RunReport } from "../src/run/execute.js";
import { nodeStatusesOf } from "../src/run/historyFold.js";
import { locationOfArn } from "../src/run/links.js";
import type { NodeState, RunTask, TaskRun } from "../src/run/types.js";
import {
  asPipeline,
  bigPipeline,
  EXEC,
  IMAGE,
  loadRecorded,
  report,
  run,
  T0,
} from "./harness/runFixtures.js";

/** Table rows split into cells on pipes that Markdown would split on. */
function cellCounts(markdown: string): number[] {
  return markdown
    .split("\n")
    .filter((l) => l.startsWith("| "))
    .map((l) => l.split(/(?<!\\)\|/).length - 2);
}

/**
 * The Markdown a reader's browser treats as markup: fenced blocks and code spans
 * removed (GitHub shows their content as text).
 */
function outsideCode(markdown: string): string {
  let out = markdown.replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1\s*$/gm, "");
  out = out.replace(/(`+)(?!`)[\s\S]*?[^`]\1(?!`)/g, "");
  return out;
}

function expectWellFormed(markdown: string): void {
  const markup = outsideCode(markdown);
  expect((markup.match(/<details>/g) ?? []).length).toBe((markup.match(/<\/details>/g) ?? []).length);
  // Every fence that opens is closed by a run of backticks at least as long.
  let open = 0;
  for (const line of markdown.split("\n")) {
    const run = /^(`{3,})(.*)$/.exec(line);
    if (!run) continue;
    const length = (run[1] as string).length;
    if (open === 0) open = length;
    else if (length >= open && (run[2] as string).trim() === "") open = 0;
  }
  expect(open).toBe(0);
  expect(markdown.endsWith("\n")).toBe(true);
}

const HOSTILE = [
  "<script>alert(1)</script>",
  "tick`s ``double`` node",
  "pipe|in|name",
  "section evil: #x; %% click",
  'quote"and]bracket[',
  "@octocat & <img src=x onerror=alert(1)>",
];

describe("hostile node names", () => {
  const tasks: RunTask[] = HOSTILE.map((name, i) => ({
    stateName: `s${i}`,
    functionName: `f-${i}`,
    nodes: [name],
  }));
  const runs = tasks.map((t, i) =>
    run(t, i === 1 ? "failed" : "succeeded", i * 1000, 900, {
      ...(i === 1
        ? {
            error: {
              type: "Value<Error>",
              message: "bad `input` | </details> <script>x</script>\n```\nstill inside",
              traceback: ['  File "<stdin>", line 1, in <module>', "```", "</details>"],
            },
          }
        : {}),
    }),
  );
  const input: RunSummaryInput = {
    run: report(runs, { status: "FAILED" }),
    pipeline: asPipeline(tasks),
    image: IMAGE,
  };

  test.each(["full", "no-diagrams", "problems", "counts"] as SummaryLevel[])(
    "level %s: nothing unescaped, tables intact",
    (level) => {
      const markdown = renderRunSummaryAt(input, level);
      const markup = outsideCode(markdown);
      expect(markup).not.toContain("<script");
      expect(markup).not.toContain("<img");
      expect(markup).not.toContain("</details> <");
      expect(markup).not.toContain("@octocat");
      // Names did reach the summary (in code), so the check above is not vacuous.
      if (level === "full" || level === "no-diagrams")
        expect(markdown).toContain("<code>&lt;script&gt;alert(1)&lt;/<wbr>script&gt;</code>");
      for (const count of cellCounts(markdown)) expect(count).toBe(6);
      expectWellFormed(markdown);
    },
  );

  test("the failure's message and traceback stay inside their code blocks", () => {
    const markdown = renderRunSummaryAt(input, "full");
    const details = markdown.slice(markdown.indexOf("<details>"), markdown.indexOf("</details>\n") + 11);
    // The only closing tag of the block is the last line: the ones in the text are fenced.
    expect(details.trimEnd().endsWith("</details>")).toBe(true);
    const fence = /\n(`{4,})text\n/.exec(details)?.[1];
    expect(fence).toBeDefined();
    expect(details).toContain(
      "<summary>❌ <code>tick&#96;s &#96;&#96;double&#96;&#96; node</code>: Value&lt;Error&gt;: bad &#96;input&#96; &#124; &lt;/details&gt; &lt;script&gt;x&lt;/script&gt;</summary>",
    );
  });

  test("Gantt labels cannot end the task text or start a keyword line", () => {
    const gantt = renderGantt(runs);
    const bars = gantt.split("\n").filter((l) => / :(done|crit|active)/.test(l));
    expect(bars).toHaveLength(6);
    for (const bar of bars) {
      const [label] = bar.split(" :");
      expect(label).not.toMatch(/[:#;%<>"`]/);
    }
    expect(gantt).toContain("    _section evil_ _x_ __ click :done, b3,");
    expect(ganttText("title")).toBe("_title");
    expect(ganttText("%%{init}%%")).toBe("___init___");
  });
});

describe("snapshots", () => {
  test("a failed spaceflights run (history recorded from moto)", () => {
    const { tasks, runs } = loadRecorded("failed");
    const start = Math.min(...runs.flatMap((r) => (r.startMs === null ? [] : [r.startMs])));
    const r = report(runs, {
      status: "FAILED",
      startedAt: new Date(start).toISOString(),
      durationMs: 1234,
      failure: {
        reason: "execution-failed",
        message:
          "The execution failed: failed in data_science.train_model_node (ValueError: Input contains NaN).",
      },
    });
    const pipeline = asPipeline(tasks);
    const fitted = renderRunSummary({ run: r, pipeline, image: IMAGE });
    expect(fitted.level).toBe("full");
    expect(fitted.markdown).toMatchSnapshot();
    expect(renderNodeTableText(r.nodes, { executionStartMs: start })).toMatchSnapshot();
  });

  test("a succeeded run with a grouped Task and a retry", () => {
    const tasks: RunTask[] = [
      {
        stateName: "data_processing",
        functionName: "sf-data-processing",
        nodes: ["data_processing.a", "data_processing.b", "data_processing.c"],
      },
      { stateName: "split", functionName: "sf-split", nodes: ["data_science.split"] },
    ];
    const runs = [
      run(tasks[0] as RunTask, "succeeded", 0, 61_000),
      run(tasks[1] as RunTask, "retried", 61_500, 4_200, {
        attempts: 3,
        error: { type: "ConnectionError", message: "S3 went away", traceback: [] },
      }),
    ];
    const markdown = renderRunSummary({
      run: report(runs),
      pipeline: asPipeline(tasks),
      image: IMAGE,
    }).markdown;
    expect(markdown).toContain("<sup>†3</sup>");
    expect(markdown).toContain("The Lambda runs N nodes in one invocation");
    // The handler's per-node seconds give grouped nodes their own durations.
    const own = renderRunSummary({
      run: report([{ ...(runs[0] as TaskRun), nodeSeconds: { "data_processing.b": 12.5 } }]),
      pipeline: [],
    }).markdown;
    expect(own).toMatch(/<code>data_processing\.<wbr>a<\/code> \| \+0\u00a0ms \| 1m\u00a001s \|/);
    expect(own).toMatch(/<code>data_processing\.<wbr>b<\/code> \| \+0\u00a0ms \| 12\.5\u00a0s \|/);
    expect(markdown).not.toContain("<details>");
    expect(markdown).toMatchSnapshot();
  });

  test("headlines for every way a run ends", () => {
    const t: RunTask = { stateName: "s", functionName: "f", nodes: ["n"] };
    const heads = (
      [
        [{ status: "SUCCEEDED" }, [run(t, "succeeded", 0, 10)]],
        [{ status: "TIMED_OUT" }, [run(t, "timed-out", 0, 10)]],
        [{ status: "ABORTED", error: "Manual", cause: "by Ann" }, [run(t, "aborted", 0, 10)]],
        [{ status: "RUNNING", waitTimedOut: true, durationMs: null }, [run(t, "running", 0, 0)]],
        [{ status: "RUNNING", waited: false, durationMs: null }, []],
      ] as [Partial<RunReport>, TaskRun[]][]
    ).map(
      ([extra, runs]) =>
        renderRunSummaryAt({ run: report(runs, extra), pipeline: [] }, "counts").split("\n")[0],
    );
    expect(heads).toEqual([
      "### ✅ Pipeline run succeeded in 10 ms",
      "### ⏱️ Pipeline run timed out after 10 ms",
      "### ⏹️ Pipeline run aborted after 10 ms (stopped outside this step)",
      "### ⏳ Pipeline still running: the step stopped waiting",
      "### 🚀 Pipeline run started (not waited for)",
    ]);
  });
});

describe("the 1 MiB budget", () => {
  test("a 300-node pipeline fits in full, well under 1 MiB", () => {
    const fitted = renderRunSummary(bigPipeline(300, 50));
    expect(fitted.level).toBe("full");
    expect(fitted.bytes).toBeLessThan(SUMMARY_MAX_BYTES / 4);
    expect(fitted.markdown).toMatch(/```mermaid\n---\n[^`]*\ngantt\n/);
    // Above the flowchart's readable size it draws one box per namespace.
    expect(fitted.markdown).toContain(
      "_300 tasks are too many to read in one chart at page width: one box per namespace",
    );
    // Failures come before the table, whose 294 green rows fold away.
    expect(fitted.markdown.indexOf("**Failures**")).toBeLessThan(
      fitted.markdown.indexOf("| Status | Node |"),
    );
    expect(fitted.markdown).toContain("<details><summary>✅ 294 nodes succeeded</summary>");
    expectWellFormed(fitted.markdown);
    process.stdout.write(
      `figure: 300-node summary (6 failures) = ${fitted.bytes} bytes at level ${fitted.level}\n`,
    );
    const allFailed = renderRunSummary(bigPipeline(300, 1));
    process.stdout.write(
      `figure: 300-node summary (300 failures) = ${allFailed.bytes} bytes at level ${allFailed.level}\n`,
    );
    expect(allFailed.bytes).toBeLessThan(SUMMARY_MAX_BYTES);
  });

  test("huge pipelines degrade level by level and are never cut", () => {
    const huge = bigPipeline(5000, 2, 25);
    const full = renderRunSummaryAt(huge, "full");
    expect(Buffer.byteLength(full)).toBeGreaterThan(SUMMARY_MAX_BYTES);
    const fitted = renderRunSummary(huge);
    // 2,500 failed rows would not fit: the first 500 do, with a count of the rest.
    expect(fitted.level).toBe("problems");
    expect(fitted.markdown).toContain("_…and 2000 more; the `node-statuses` output has every node._");
    expect(fitted.bytes).toBeLessThanOrEqual(SUMMARY_MAX_BYTES - 64 * 1024);
    expectWellFormed(fitted.markdown);
    process.stdout.write(
      `figure: 5000-node summary (2500 failures): full would be ${Buffer.byteLength(full)} bytes; fitted ${fitted.bytes} bytes at level ${fitted.level}\n`,
    );
  });

  test("each smaller budget gives the next level, each whole", () => {
    const input = bigPipeline(300, 3);
    const sizes = (["full", "no-diagrams", "problems", "counts"] as SummaryLevel[]).map((l) =>
      Buffer.byteLength(renderRunSummaryAt(input, l)),
    );
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    const levels = sizes.map((size) => renderRunSummary(input, size).level);
    expect(levels).toEqual(["full", "no-diagrams", "problems", "counts"]);
    const tiny = renderRunSummary(input, 100);
    expect(tiny.level).toBe("counts");
    expectWellFormed(tiny.markdown);
    expect(tiny.markdown).toContain("_Details are left out");
    const problems = renderRunSummaryAt(input, "problems");
    expect(problems).toContain("**Nodes that did not succeed**");
    expect((problems.match(/<details>/g) ?? []).length).toBe(20);
    expect(problems).toContain("_…and 80 more failed tasks;");
  });
});

describe("pieces", () => {
  const tasks: RunTask[] = ["a.x", "a.y", "b.z", "c"].map((n, i) => ({
    stateName: n,
    functionName: `f${i}`,
    nodes: [n],
  }));

  test("Gantt: sections by namespace, crit for failures, active bars end now, no bar for not started, UTC times", () => {
    const runs = [
      run(tasks[0] as RunTask, "succeeded", 0, 1000),
      run(tasks[1] as RunTask, "failed", 0, 500),
      run(tasks[2] as RunTask, "running", 1000, 0),
      run(tasks[3] as RunTask, "not-started", 0, 0),
    ];
    expect(renderGantt(runs, { nowMs: T0 + 5000 })).toBe(
      [
        "```mermaid",
        "---",
        "config:",
        "  gantt:",
        "    leftPadding: 75",
        "---",
        "gantt",
        "    dateFormat YYYY-MM-DD HH:mm:ss.SSS",
        "    axisFormat %H:%M:%S",
        "    tickInterval 1second",
        "    title Execution timeline (UTC)",
        "    section a",
        "    a.x :done, b0, 2026-01-31 09:15:02.200, 2026-01-31 09:15:03.200",
        "    a.y (failed) :crit, b1, 2026-01-31 09:15:02.200, 2026-01-31 09:15:02.700",
        "    section b",
        "    b.z (running) :active, b2, 2026-01-31 09:15:03.200, 2026-01-31 09:15:07.200",
        "```",
      ].join("\n"),
    );
    expect(renderGantt([run(tasks[3] as RunTask, "not-started", 0, 0)])).toBe(
      "_No task started, so there is no timeline._",
    );
    expect(renderGantt(runs, { maxBars: 2 })).toBe(
      "_Timeline not drawn: 3 tasks ran, more than the 2 a chart stays readable with._",
    );
  });

  test("node table: problems only, offsets from the execution start, log links escaped", () => {
    const runs = [
      run(tasks[0] as RunTask, "succeeded", 0, 1000),
      run(tasks[1] as RunTask, "failed", 2500, 500),
    ];
    const nodes = nodeStatusesOf(runs, locationOfArn(EXEC));
    const table = renderNodeTable(nodes, { executionStartMs: T0, only: new Set<NodeState>(["failed"]) });
    expect(table.split("\n")).toHaveLength(3);
    expect(table).toMatch(
      /^\| ❌\u00a0failed \| <code>a\.<wbr>y<\/code> \| \+2\.5\u00a0s \| 500\u00a0ms \| <a href="https:\/\/eu-west-1\.console\.aws\.amazon\.com\/cloudwatch\/[^"]*">logs<\/a> \| <code>f1<\/code> \|$/m,
    );
    expect(renderNodeTable(nodes, { only: new Set<NodeState>(["aborted"]) })).toBe("");
    expect(renderNodeTableText([])).toBe("(no nodes)");
  });

  test("node table: long names cut in the middle with the whole name as a tooltip, attempts, green rows folded", () => {
    const long = `ns.${"segment_".repeat(20)}end`;
    const t: RunTask = { stateName: long, functionName: `fn-${"y".repeat(40)}`, nodes: [long] };
    const one = renderNodeTable(
      nodeStatusesOf([run(t, "retried", 0, 10, { attempts: 3 })], locationOfArn(EXEC)),
    );
    // Shown without its break opportunities and entities: what a reader sees.
    const shown = one.replace(/<wbr>/g, "").replace(/&#95;/g, "_");
    expect(shown).toContain(
      `| 🔁\u00a0retried <sup>×3</sup> | <code title="${long}">ns.segment_segment_segment_segment_segme…ent_segment_segment_segment_segment_end</code> |`,
    );
    expect(one).toContain("<sup>×N</sup> attempts the Lambda took.");
    const many: RunTask[] = Array.from({ length: 25 }, (_, i) => ({
      stateName: `s${i}`,
      functionName: `f${i}`,
      nodes: [`n${i}`],
    }));
    const folded = renderNodeTable(
      nodeStatusesOf(
        many.map((m, i) => run(m, i === 20 ? "failed" : "succeeded", i, 1)),
        locationOfArn(EXEC),
      ),
    );
    const [failedTable, rest] = folded.split("<details><summary>✅ 24 nodes succeeded</summary>");
    expect(failedTable?.split("\n").filter((l) => l.startsWith("| "))).toHaveLength(3);
    expect(rest?.split("\n").filter((l) => l.startsWith("| "))).toHaveLength(26);
    expect(rest).toMatch(/<\/details>$/);
  });

  test("terminal table shows control characters as escapes", () => {
    const evil: RunTask = { stateName: "s", functionName: "f", nodes: ["\u001b[2Jcleared"] };
    const text = renderNodeTableText(nodeStatusesOf([run(evil, "succeeded", 0, 10)], locationOfArn(EXEC)));
    expect(text).not.toContain("\u001b");
    expect(text).toContain("\\u001b[2Jcleared");
  });

  test("a run whose history could not be read says so", () => {
    const markdown = renderRunSummaryAt({ run: report([], { status: "SUCCEEDED" }), pipeline: [] }, "full");
    expect(markdown).toContain(
      "_Per-node status is missing: the execution history could not be read (see the log)._",
    );
  });
});

describe("without an execution, and both", () => {
  const plan: PlanView = {
    target: "spaceflights",
    counts: { create: 2, update: 0, delete: 0 },
    findings: [],
    tasks: [
      { id: "a", label: "a", nodes: ["a"], dependsOn: [], change: "new" },
      { id: "b", label: "b", nodes: ["b"], dependsOn: ["a"], change: "new" },
    ],
    functions: [],
    stateMachine: { name: "spaceflights", change: "create", definitionDiff: "" },
    image: { state: "built", uri: IMAGE },
    planHash: "0".repeat(64),
    status: "deployed",
  };

  test("the deploy summary is the plan with its pipeline flowchart", () => {
    const markdown = renderDeploySummary({ plan });
    expect(markdown).toContain("### kedro-sfn plan for `spaceflights`");
    expect(markdown).toContain("```mermaid\nflowchart TD");
  });

  test("run first, then the plan in the room left", () => {
    const t: RunTask = { stateName: "a", functionName: "f", nodes: ["a"] };
    const both = renderJobSummary({
      run: { run: report([run(t, "succeeded", 0, 10)]), pipeline: asPipeline([t]) },
      plan,
    });
    expect(both.indexOf("Pipeline run succeeded")).toBeLessThan(both.indexOf("kedro-sfn plan for"));
    const tight = renderJobSummary({ run: bigPipeline(300, 3), plan }, 60_000);
    expect(Buffer.byteLength(tight)).toBeLessThanOrEqual(60_000);
    expect(tight).toContain("kedro-sfn plan for");
  });
});
