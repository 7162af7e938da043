/**
 * Markdown rendered as GitHub shows it: cmark-gfm (GitHub's parser, Debian's
 * `cmark-gfm`) with GitHub's extensions, GitHub's Markdown CSS, and every
 * Mermaid block drawn by the real `mermaid` package in headless Chromium
 * (Debian's `chromium`), then measured in the page.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const CMARK_GFM = "/usr/bin/cmark-gfm";
/** The page the checks hold tables and charts to. */
export const PAGE_WIDTH = 1000;

const require = createRequire(import.meta.url);

/** GitHub's parser with the extensions github.com enables; raw HTML kept (GitHub sanitizes it after). */
export function renderGfm(markdown: string): string {
  requireTool(CMARK_GFM, "cmark-gfm");
  return execFileSync(
    CMARK_GFM,
    [
      "--unsafe",
      "--github-pre-lang",
      ...["table", "strikethrough", "autolink", "tagfilter", "tasklist"].flatMap((e) => ["-e", e]),
    ],
    { input: markdown, encoding: "utf8" },
  );
}

export interface DiagramReport {
  kind: string;
  error: string | null;
  /** Width the SVG asks for, and what it gets on the page. */
  naturalWidth: number;
  shownWidth: number;
  /** Smallest text on the page after the SVG is scaled to fit, in CSS px. */
  minTextPx: number;
  /** Gantt only: axis labels, and section titles that reach into the bars. */
  ticks: string[];
  sectionOverlaps: string[];
}

export interface TableReport {
  headers: string[];
  rows: number;
  /** Width the table needs, and the width it has before it scrolls. */
  scrollWidth: number;
  clientWidth: number;
  /** Inside a <details> (the page opens them all before measuring). */
  inDetails: boolean;
  /** Page offset, with every <details> open. */
  top: number;
}

export interface PageReport {
  diagrams: DiagramReport[];
  tables: TableReport[];
  /** Outside code and links: text GitHub would turn into @-mentions. */
  mentions: string[];
  links: { text: string; href: string }[];
  bold: string[];
  boldTops: { text: string; top: number }[];
  emphasis: string[];
  /** Elements that must never come from user text. */
  foreign: string[];
  height: number;
  text: string;
}

/**
 * One Chromium page for a test file, with GitHub's CSS, mermaid and the
 * measuring script loaded once: `render` swaps the article in and measures it.
 */
export class GitHubPage {
  private constructor(
    private readonly context: BrowserContext,
    private readonly page: Page,
    private readonly profile: string,
  ) {}

  static async launch(options: { timezoneId?: string } = {}): Promise<GitHubPage> {
    requireTool(CHROMIUM, "chromium");
    const profile = mkdtempSync(join(tmpdir(), "kedro-sfn-chromium-"));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: PAGE_WIDTH, height: 800 },
      ...(options.timezoneId ? { timezoneId: options.timezoneId } : {}),
    });
    // Nothing leaves the machine: the page gets only what we hand it.
    await context.route("**/*", (route) => route.abort());
    const page = context.pages()[0] ?? (await context.newPage());
    await page.setContent(pageHtml());
    await page.addScriptTag({ path: require.resolve("mermaid/dist/mermaid.min.js") });
    await page.addScriptTag({ path: join(import.meta.dirname, "githubPage.js") });
    return new GitHubPage(context, page, profile);
  }

  /** Renders `markdown` as GitHub does and measures it; `screenshot` saves the page as a PNG. */
  async render(markdown: string, options: { screenshot?: string } = {}): Promise<PageReport> {
    const html = JSON.stringify(renderGfm(markdown));
    const report = await this.page.evaluate<PageReport>(`window.kedroSfnMeasure(${html}, ${PAGE_WIDTH})`);
    if (options.screenshot) await screenshot(this.page, options.screenshot);
    return report;
  }

  async close(): Promise<void> {
    await this.context.close();
    rmSync(this.profile, { recursive: true, force: true });
  }
}

function requireTool(path: string, debianPackage: string): void {
  if (!existsSync(path)) {
    throw new Error(
      `${path} is missing: the rendering test needs the Debian package '${debianPackage}' (run 'make system-deps').`,
    );
  }
}

async function screenshot(page: Page, path: string): Promise<void> {
  // As a reader first sees it: collapsed sections closed again.
  await page.evaluate(`window.kedroSfnCloseDetails()`);
  await page.screenshot({ path, fullPage: true });
}

function pageHtml(): string {
  const css = readFileSync(require.resolve("github-markdown-css/github-markdown-light.css"), "utf8");
  return [
    "<!doctype html><html><head><meta charset='utf-8'>",
    `<style>${css}\nbody{margin:0;background:#fff}.markdown-body{box-sizing:border-box;width:${PAGE_WIDTH}px;padding:16px}</style>`,
    "</head><body>",
    `<article class="markdown-body"></article>`,
    "</body></html>",
  ].join("\n");
}
