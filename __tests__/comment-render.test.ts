import { describe, expect, it } from "@jest/globals";
import { buildPlanComment, COMMENT_MAX_BYTES } from "../src/github/stickyComment.js";
import { codeSpan, escapeText, utf8Bytes } from "../src/report/markdown.js";
import {
  fitPlanMarkdown,
  renderPlanMarkdown,
  type DetailLevel,
  type PlanView,
} from "../src/report/planComment.js";
import { largePipeline, nodeAddedAndRemoved, noChanges, oneNodeChanged } from "./harness/planViewFixtures.js";

const LEVELS: DetailLevel[] = ["full", "nodes", "counts"];

/** What GitHub would interpret as Markdown or HTML: the text minus fenced blocks, code spans and `<code>`. */
function outsideCode(markdown: string): string {
  return markdown
    .replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1$/gm, "")
    .replace(/<code(?: title="[^"]*")?>[^<]*(?:<wbr>[^<]*)*<\/code>/g, "")
    .replace(/(?<![\\`])(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, "");
}

function expectBalanced(markdown: string): void {
  const fences = markdown.match(/^`{3,}/gm) ?? [];
  expect(fences.length % 2).toBe(0);
  const prose = outsideCode(markdown);
  expect((prose.match(/<details>/g) ?? []).length).toBe((prose.match(/<\/details>/g) ?? []).length);
  expect((prose.match(/<sub>/g) ?? []).length).toBe((prose.match(/<\/sub>/g) ?? []).length);
}

describe("plan comment for the spaceflights example", () => {
  it.each([
    ["no changes", noChanges()],
    ["one node changed", oneNodeChanged()],
    ["node added and removed", nodeAddedAndRemoved()],
  ])("%s", (_name, view) => {
    const { body, level } = buildPlanComment(view);
    expect(level).toBe("full");
    expect(body).toMatchSnapshot();
  });

  it.each(["nodes", "counts"] as const)("at the %s level", (level) => {
    expect(renderPlanMarkdown(nodeAddedAndRemoved(), { level })).toMatchSnapshot();
  });
});

describe("fitting the 60 KB budget", () => {
  it("degrades a 300-node plan from full to one line per node, whole renderings only", () => {
    const view = largePipeline(300);
    const sizes = LEVELS.map((level) => utf8Bytes(renderPlanMarkdown(view, { level })));
    expect(sizes[0]).toBeGreaterThan(COMMENT_MAX_BYTES - 2_000);
    const built = buildPlanComment(view);
    expect(built.level).toBe("nodes");
    expect(built.bytes).toBe(utf8Bytes(built.body));
    expect(built.bytes).toBeLessThanOrEqual(COMMENT_MAX_BYTES);
    expect(renderPlanMarkdown(view, { level: "full" })).toContain(
      "_300 tasks are too many to read in one chart at page width: one box per namespace",
    );
    // The nodes level points to the chart the summary does draw.
    expect(built.body).toContain(
      "_The flowchart by namespace and the state machine definition diff are in the [job summary](",
    );
  });

  it.each([300, 1000, 3000])("%i nodes: every level is whole Markdown, the chosen one fits", (count) => {
    const view = largePipeline(count);
    for (const level of LEVELS) expectBalanced(renderPlanMarkdown(view, { level }));
    const built = buildPlanComment(view);
    expect(built.bytes).toBeLessThanOrEqual(COMMENT_MAX_BYTES);
    expectBalanced(built.body);
  });

  it("counts bytes, not characters", () => {
    const view: PlanView = { ...oneNodeChanged(), target: "航天".repeat(200) };
    const full = renderPlanMarkdown(view);
    expect(utf8Bytes(full)).toBeGreaterThan(full.length);
    const fitted = fitPlanMarkdown(view, utf8Bytes(full) - 1);
    expect(fitted.level).toBe("nodes");
    expect(fitted.bytes).toBeLessThan(utf8Bytes(full));
  });

  it("falls back to a fixed note that carries no user text when nothing else fits", () => {
    const fitted = fitPlanMarkdown({ ...noChanges(), target: "x".repeat(5_000) }, 1_000);
    expect(fitted.level).toBe("minimal");
    expect(fitted.markdown).not.toContain("xxxx");
    expect(fitted.markdown).toContain("job summary");
  });

  it("cuts a long definition diff at a line, inside a closed block, and says so", () => {
    const view = largePipeline(300);
    const md = renderPlanMarkdown(view, { level: "full", diffMaxBytes: 2_000 });
    expectBalanced(md);
    expect(md).toMatch(/_Diff cut after \d+ of 3603 lines; the whole diff is in the \[job summary\]\(https:/);
    const summary = renderPlanMarkdown(view, { level: "full", where: "summary" });
    expect(summary).not.toContain("Diff cut");
    expect(summary).not.toContain("[job summary]");
    expect(renderPlanMarkdown(view, { level: "nodes", where: "summary" })).toContain(
      "were left out to keep this summary within GitHub's 1 MiB; the `plan-json` output has the whole plan._",
    );
    expect(fitPlanMarkdown(view, 0, { where: "summary" }).markdown).toContain("see the `plan-json` output");
  });
});

describe("escaping user-controlled text", () => {
  const hostile =
    "<img src=x onerror=alert(1)> @alice [click](http://evil.example) **b** `tick` a|b #12\n```";
  const view: PlanView = {
    ...nodeAddedAndRemoved(),
    target: hostile,
    commit: hostile,
    tasks: [{ id: "t", label: hostile, nodes: [hostile, "n2"], dependsOn: [], change: "new" }],
    functions: [{ name: hostile, nodes: [hostile], change: "create", memoryMb: 1024, timeoutSeconds: 60 }],
    findings: [
      { ...nodeAddedAndRemoved().findings[0]!, dataset: hostile, producer: hostile, consumers: [hostile] },
      { ...nodeAddedAndRemoved().findings[0]!, code: "something-new" as never, message: hostile },
    ],
    stateMachine: {
      name: hostile,
      change: "update",
      definitionDiff: `- ${hostile}\n+ </details> ${hostile}`,
    },
    image: { state: "would-build", repository: hostile, baseImage: hostile },
    status: "failed",
    statusDetail: hostile,
    links: [{ text: hostile, url: "https://example.com/a b)(c" }],
  };

  it.each(LEVELS)("%s level: no raw HTML, links or mentions outside code", (level) => {
    const md = renderPlanMarkdown(view, { level });
    expectBalanced(md);
    const prose = outsideCode(md);
    expect(prose).not.toContain("<img");
    expect(prose).not.toMatch(/@alice/);
    expect(prose).not.toContain("](http://evil");
    expect(prose).not.toContain("**b**");
    expect(prose).not.toMatch(/(^|[^\\])#12/);
    expect(md).not.toContain("https://example.com/a b");
  });

  it("keeps table cells whole", () => {
    const md = renderPlanMarkdown(view, { level: "full" });
    const row = md.split("\n").find((l) => l.startsWith("| 🆕"));
    expect(row?.split(/(?<!\\)\|/).length).toBe(7);
  });

  it("codeSpan and escapeText", () => {
    expect(codeSpan("a`b")).toBe("``a`b``");
    expect(codeSpan("`x")).toBe("`` `x ``");
    expect(codeSpan("a|b", { inTable: true })).toBe("`a\\|b`");
    expect(escapeText("@bob <i>[x](y)</i>")).toBe("@\u200bbob &lt;i&gt;\\[x\\]\\(y\\)&lt;/i&gt;");
  });
});
