/**
 * Summaries and PR comments as a reader sees them: cmark-gfm turns the Markdown
 * into HTML as GitHub does, headless Chromium lays it out with GitHub's CSS and
 * draws every Mermaid block with the real mermaid package, and the page is
 * measured: charts draw and stay legible, tables fit a 1,000 px page, user
 * text stays text.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GRAPH_SCHEMA, type PipelineGraph } from "../src/graph/types.js";
import type { Finding } from "../src/graph/preflight.js";
import { buildPlanComment } from "../src/github/stickyComment.js";
import type { PlanView } from "../src/report/planComment.js";
import { renderFindings, renderGraphHeadline } from "../src/report/preflightMarkdown.js";
import { renderJobSummary, type RunSummaryInput } from "../src/report/summary.js";
import type { RunReport } from "../src/run/execute.js";
import type { PipelineTask, RunTask, TaskRun } from "../src/run/types.js";
import { GitHubPage, type PageReport } from "./harness/githubRender.js";
import { largePipeline, nodeAddedAndRemoved, noChanges, oneNodeChanged } from "./harness/planViewFixtures.js";
import {
  asPipeline,
  bigPipeline,
  HISTORY_FIXTURES,
  IMAGE,
  loadRecorded,
  report,
  run,
} from "./harness/runFixtures.js";

/** Smallest text a reader can read without zooming, after a chart is scaled to the page. */
const MIN_TEXT_PX = 10;

/** The spaceflights tutorial's graph, as far as the summary's headline reads it. */
const SPACEFLIGHTS_GRAPH: PipelineGraph = {
  schema: GRAPH_SCHEMA,
  project: { name: "spaceflights", package: "spaceflights", kedro_version: "1.0.0" },
  pipeline: "__default__",
  env: "aws",
  nodes: loadRecorded("succeeded").tasks.map((t) => ({
    name: t.nodes[0] as string,
    namespace: (t.nodes[0] as string).split(".")[0] as string,
    tags: [],
    inputs: [],
    outputs: [],
  })),
  datasets: Object.fromEntries(
    [
      "companies",
      "shuttles",
      "reviews",
      "preprocessed_companies",
      "preprocessed_shuttles",
      "model_input_table",
    ].map((name) => [name, { type: "pandas.ParquetDataset", ephemeral: false }]),
  ),
};

/** What job.ts writes above every summary. */
function summaryDocument(mode: string, graph: PipelineGraph, body: string): string {
  return [`## kedro-sfn ${mode}`, "", renderGraphHeadline(graph), "", body].join("\n");
}

function recordedRun(name: string): RunSummaryInput {
  const { tasks, runs } = loadRecorded(name);
  const starts = runs.flatMap((r) => (r.startMs === null ? [] : [r.startMs]));
  const ends = runs.flatMap((r) => (r.endMs === null ? [] : [r.endMs]));
  const status: RunReport["status"] = runs.some((r) => r.status === "failed")
    ? "FAILED"
    : runs.some((r) => r.status === "timed-out")
      ? "TIMED_OUT"
      : runs.some((r) => r.status === "aborted")
        ? "ABORTED"
        : "SUCCEEDED";
  const start = Math.min(...starts);
  return {
    run: report(runs, {
      status,
      startedAt: new Date(start).toISOString(),
      durationMs: Math.max(start, ...ends) - start,
    }),
    pipeline: spaceflightsPipeline(tasks),
    image: IMAGE,
  };
}

/** The recorded tasks with the tutorial's own edges (the plan fixtures have them). */
function spaceflightsPipeline(tasks: RunTask[]): PipelineTask[] {
  const edges = new Map(noChanges().tasks.map((t) => [t.id, t.dependsOn]));
  return tasks.map((t) => ({ ...t, dependsOn: edges.get(t.stateName) ?? [] }));
}

const HOSTILE_MARK = "EVIL";
const HOSTILE = [
  `[${HOSTILE_MARK} link](http://evil.example/x)`,
  `**${HOSTILE_MARK} bold**`,
  `@${HOSTILE_MARK}-user`,
  `__${HOSTILE_MARK}_init__`,
  `<img src=x onerror=alert(1)>${HOSTILE_MARK}`,
  `pipe|${HOSTILE_MARK}|name`,
  `_${HOSTILE_MARK}_ ~~${HOSTILE_MARK}~~ \`tick\``,
];

function hostileRun(): RunSummaryInput {
  const tasks: RunTask[] = HOSTILE.map((name, i) => ({
    stateName: `s${i}`,
    functionName: `f-${i}-${name}`,
    nodes: [name],
  }));
  const runs: TaskRun[] = tasks.map((t, i) =>
    run(t, i === 0 ? "failed" : "succeeded", i * 1000, 900, {
      ...(i === 0
        ? {
            error: {
              type: `Value${HOSTILE[1] as string}`,
              message: `bad ${HOSTILE.join(" ")}`,
              traceback: ['  File "<stdin>", line 1, in <module>'],
            },
          }
        : {}),
    }),
  );
  return { run: report(runs, { status: "FAILED" }), pipeline: asPipeline(tasks), image: IMAGE };
}

function hostilePlan(): PlanView {
  const base = nodeAddedAndRemoved();
  const finding = base.findings[0] as Finding;
  return {
    ...base,
    target: HOSTILE.join(" "),
    tasks: HOSTILE.map((name, i) => ({
      id: `t${i}`,
      label: name,
      nodes: [name],
      dependsOn: i ? [`t${i - 1}`] : [],
      change: "new",
    })),
    functions: HOSTILE.map((name) => ({
      name,
      nodes: [name],
      change: "create",
      memoryMb: 1024,
      timeoutSeconds: 60,
    })),
    findings: HOSTILE.map((name) => ({ ...finding, dataset: name, producer: name, consumers: [name] })),
  };
}

function hostileFindings(): Finding[] {
  return HOSTILE.map((name, i) => ({
    severity: i % 2 ? "warning" : "error",
    code: "ephemeral-crosses-tasks",
    dataset: name,
    producer: name,
    consumers: [name, "other"],
    message: `Dataset '${name}' is kept in memory`,
    catalogEntry: `${name}:\n  type: pickle.PickleDataset`,
    file: "conf/aws/catalog.yml",
  }));
}

/** A node and a Lambda with 200-character names, as a generated pipeline may have. */
function longNamesRun(): RunSummaryInput {
  const long = `namespace_one.${"very_long_segment_".repeat(10)}node`.slice(0, 200);
  const tasks: RunTask[] = [
    { stateName: long, functionName: `fn-${"x".repeat(60)}`, nodes: [long] },
    { stateName: "short", functionName: "fn-short", nodes: ["short_node"] },
  ];
  const runs = [
    run(tasks[0] as RunTask, "succeeded", 0, 1000),
    run(tasks[1] as RunTask, "failed", 1000, 500),
  ];
  return { run: report(runs, { status: "FAILED" }), pipeline: asPipeline(tasks), image: IMAGE };
}

/** `count` tasks side by side in 4 namespaces, then one that joins them: the widest shape. */
function fanIn(count: number): PlanView {
  const view = noChanges();
  const names = Array.from(
    { length: count },
    (_, i) => `branch_${i % 4}.load_partition_${String(i).padStart(2, "0")}_node`,
  );
  return {
    ...view,
    tasks: [
      ...names.map((n) => ({ id: n, label: n, nodes: [n], dependsOn: [], change: "none" as const })),
      {
        id: "report.join",
        label: "report.join",
        nodes: ["report.join"],
        dependsOn: names,
        change: "none" as const,
      },
    ],
  };
}

const deployed = (view: PlanView): PlanView => ({ ...view, status: "deployed" });

interface Doc {
  name: string;
  markdown: string;
  /** Holds hostile text: no links, bold, mentions or HTML may come from it. */
  hostile?: boolean;
}

function documents(): Doc[] {
  const docs: Doc[] = [];
  const plans: [string, PlanView][] = [
    ["no changes", noChanges()],
    ["one node changed", oneNodeChanged()],
    ["node added and removed", nodeAddedAndRemoved()],
    ["4 tasks side by side", fanIn(4)],
    ["24 tasks side by side", fanIn(24)],
    ["30 functions", largePipeline(30)],
    ["60 functions", largePipeline(60)],
    ["300 functions", largePipeline(300)],
  ];
  for (const [name, view] of plans) {
    docs.push({
      name: `plan summary: ${name}`,
      markdown: summaryDocument("plan", SPACEFLIGHTS_GRAPH, renderJobSummary({ plan: view })),
    });
    docs.push({ name: `plan comment: ${name}`, markdown: buildPlanComment(view).body });
  }
  for (const name of HISTORY_FIXTURES) {
    docs.push({
      name: `deploy and run summary: ${name}`,
      markdown: summaryDocument(
        "deploy",
        SPACEFLIGHTS_GRAPH,
        renderJobSummary({ run: recordedRun(name), plan: deployed(oneNodeChanged()) }),
      ),
    });
  }
  docs.push({
    name: "deploy and run summary: 300 nodes, 6 failed",
    markdown: summaryDocument(
      "deploy",
      SPACEFLIGHTS_GRAPH,
      renderJobSummary({ run: bigPipeline(300, 50), plan: deployed(largePipeline(300)) }),
    ),
  });
  docs.push({
    name: "run summary: 48 nodes, 2 failed",
    markdown: renderJobSummary({ run: bigPipeline(48, 24) }),
  });
  docs.push({
    name: "run summary: 200-character names",
    markdown: renderJobSummary({ run: longNamesRun() }),
  });
  const hostileGraph: PipelineGraph = {
    ...SPACEFLIGHTS_GRAPH,
    project: { name: HOSTILE.join(" "), package: "p", kedro_version: HOSTILE[1] as string },
    pipeline: HOSTILE.join(" "),
    env: HOSTILE[2] as string,
  };
  docs.push({
    name: "hostile: pre-flight failure summary",
    markdown: summaryDocument("deploy", hostileGraph, renderFindings(hostileFindings())),
    hostile: true,
  });
  docs.push({
    name: "hostile: deploy and run summary",
    markdown: summaryDocument(
      "deploy",
      hostileGraph,
      renderJobSummary({ run: hostileRun(), plan: hostilePlan() }),
    ),
    hostile: true,
  });
  docs.push({ name: "hostile: plan comment", markdown: buildPlanComment(hostilePlan()).body, hostile: true });
  return docs;
}

/** The README's picture: the example's deploy-and-run summary, as GitHub shows it. */
const SCREENSHOT_DOC = "deploy and run summary: failed";
const SCREENSHOT = join(process.cwd(), "docs", "job-summary.png");

let page: GitHubPage;
const rendered = new Map<string, PageReport>();
const docs = documents();
const shotDir = mkdtempSync(join(tmpdir(), "kedro-sfn-shot-"));

beforeAll(async () => {
  // A zone far from UTC: the timeline must still show UTC.
  page = await GitHubPage.launch({ timezoneId: "America/Los_Angeles" });
  for (const doc of docs) {
    // KEDRO_SFN_SCREENSHOT=1 refreshes the README's picture; otherwise it goes to a scratch folder.
    const shot =
      doc.name === SCREENSHOT_DOC
        ? process.env["KEDRO_SFN_SCREENSHOT"] === "1"
          ? SCREENSHOT
          : join(shotDir, "job-summary.png")
        : undefined;
    rendered.set(doc.name, await page.render(doc.markdown, shot ? { screenshot: shot } : {}));
  }
  const diagrams = [...rendered.values()].flatMap((r) => r.diagrams).length;
  const tables = [...rendered.values()].flatMap((r) => r.tables).length;
  process.stdout.write(
    `figure: rendered ${docs.length} documents as GitHub does: ${diagrams} Mermaid blocks, ${tables} tables\n`,
  );
});

afterAll(async () => {
  await page?.close();
  rmSync(shotDir, { recursive: true, force: true });
});

const each = docs.map((d) => [d.name, d] as const);

describe("rendered as GitHub does", () => {
  it.each(each)("%s: every Mermaid block draws, legibly", (_name, doc) => {
    const r = rendered.get(doc.name) as PageReport;
    for (const d of r.diagrams) {
      expect(d.error).toBeNull();
      expect(d.minTextPx).toBeGreaterThanOrEqual(MIN_TEXT_PX);
      if (d.kind === "gantt") {
        expect(new Set(d.ticks).size).toBe(d.ticks.length);
        expect(d.sectionOverlaps).toEqual([]);
      }
    }
  });

  it.each(each)("%s: tables fit a 1,000 px page", (_name, doc) => {
    const r = rendered.get(doc.name) as PageReport;
    const wide = r.tables.filter((t) => t.scrollWidth > t.clientWidth + 1);
    expect(wide.map((t) => `${t.headers.join("|")}: ${t.scrollWidth} > ${t.clientWidth}`)).toEqual([]);
  });

  it.each(each)("%s: user text stays text", (_name, doc) => {
    const r = rendered.get(doc.name) as PageReport;
    expect(r.foreign).toEqual([]);
    expect(r.mentions).toEqual([]);
    // What the hostile names would turn into as Markdown, and `__default__` as bold "default".
    const formatted = new Set([`${HOSTILE_MARK} bold`, `${HOSTILE_MARK}_init`, HOSTILE_MARK, "default"]);
    expect([...r.bold, ...r.emphasis].filter((b) => formatted.has(b))).toEqual([]);
    expect(
      r.links.filter((l) => !/^https:\/\/(github\.com|[a-z0-9-]+\.console\.aws\.amazon\.com)\//.test(l.href)),
    ).toEqual([]);
    if (doc.hostile) expect(r.text).toContain(HOSTILE_MARK);
  });
});

describe("what a reader reaches first", () => {
  const get = (name: string): PageReport => rendered.get(name) as PageReport;

  it("draws the pipeline once in a deploy-and-run summary", () => {
    for (const doc of docs.filter((d) => d.name.startsWith("deploy and run"))) {
      expect({
        doc: doc.name,
        flowcharts: get(doc.name).diagrams.filter((d) => d.kind === "flowchart").length,
      }).toEqual({
        doc: doc.name,
        flowcharts: 1,
      });
    }
  });

  it("at 300 nodes, puts the failures above the table, near the top of the page", () => {
    const r = get("deploy and run summary: 300 nodes, 6 failed");
    const failures = r.boldTops.find((b) => b.text === "Failures")?.top ?? Infinity;
    const firstTable = Math.min(...r.tables.map((t) => t.top));
    expect(failures).toBeLessThan(firstTable);
    expect(failures).toBeLessThan(600);
    // The 294 nodes that succeeded and 282 unchanged functions are folded away.
    expect(r.tables.filter((t) => !t.inDetails).map((t) => t.rows)).toEqual([6, 18]);
  });

  it("labels the timeline in UTC for a reader in another zone", () => {
    // bigPipeline starts at 09:15:02 UTC; the page runs in Los Angeles (UTC-8).
    const gantt = get("run summary: 48 nodes, 2 failed").diagrams.find((d) => d.kind === "gantt");
    expect(gantt?.ticks[0]).toMatch(/^09:1\d:\d\d$/);
  });

  it("draws large pipelines by namespace, and the comment points only to charts that exist", () => {
    for (const name of [
      "plan summary: 60 functions",
      "plan summary: 300 functions",
      "run summary: 48 nodes, 2 failed",
    ]) {
      expect(get(name).diagrams.filter((d) => d.kind === "flowchart")).toHaveLength(1);
      expect(get(name).text).toContain("one box per namespace");
    }
    for (const name of ["plan summary: 4 tasks side by side", "plan summary: 30 functions"]) {
      expect(get(name).text).not.toContain("one box per namespace");
    }
    const comment = docs.find((d) => d.name === "plan comment: 300 functions")?.markdown ?? "";
    expect(comment).toContain("The flowchart by namespace and the state machine definition diff are in the");
    expect(get("plan comment: 300 functions").text).not.toContain("not drawn");
  });

  it("counts `~` changes in the definition diff and pluralises", () => {
    const text = get("plan summary: 300 functions").text;
    expect(text).toContain("6 code updates");
    expect(text).toContain("6 config updates");
  });

  it("keeps a screenshot of the example's summary", () => {
    const png = readFileSync(
      process.env["KEDRO_SFN_SCREENSHOT"] === "1" ? SCREENSHOT : join(shotDir, "job-summary.png"),
    );
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(png.length).toBeGreaterThan(10_000);
  });
});
