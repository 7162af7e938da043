// Runs inside the Chromium page that githubRender.ts opens: draws the Mermaid
// blocks as GitHub does (each fitted to the content width) and measures what a
// reader sees. Plain JavaScript: it is handed to the browser as it is.
/* global window, document, getComputedStyle */

const MENTION = /(?:^|[^\w`])@([A-Za-z0-9][A-Za-z0-9-]*)/g;
const FOREIGN = "img, script, iframe, object, embed, form, input:not([type=checkbox]), style, link";

async function drawDiagrams(article, contentWidth) {
  const mermaid = window.mermaid;
  mermaid.initialize({
    startOnLoad: false,
    securityLevel: "strict",
    theme: "default",
    gantt: { useWidth: contentWidth },
  });
  const blocks = [...article.querySelectorAll('pre[lang="mermaid"]')];
  const reports = [];
  for (const [i, pre] of blocks.entries()) {
    const text = pre.textContent;
    // The diagram type follows an optional front-matter block (`---` ... `---`).
    const kind = text
      .replace(/^\s*---\n[\s\S]*?\n---\n/, "")
      .trimStart()
      .split(/\s/, 1)[0];
    const holder = document.createElement("div");
    holder.className = "mermaid-holder";
    holder.style.width = `${contentWidth}px`;
    pre.replaceWith(holder);
    const report = {
      kind,
      error: null,
      naturalWidth: 0,
      shownWidth: 0,
      minTextPx: 0,
      ticks: [],
      sectionOverlaps: [],
    };
    try {
      await mermaid.parse(text);
      const { svg } = await mermaid.render(`diagram${i}`, text, holder);
      holder.innerHTML = svg;
    } catch (error) {
      report.error = String(error && error.message ? error.message : error);
      reports.push(report);
      continue;
    }
    const el = holder.querySelector("svg");
    const viewBox = el.viewBox.baseVal;
    report.naturalWidth = viewBox && viewBox.width ? viewBox.width : el.getBoundingClientRect().width;
    report.shownWidth = el.getBoundingClientRect().width;
    const scale = report.shownWidth / report.naturalWidth;
    let min = Infinity;
    for (const t of el.querySelectorAll("text, foreignObject span, foreignObject div, foreignObject p")) {
      if (!t.textContent.trim() || t.querySelector("span, div, p")) continue;
      min = Math.min(min, parseFloat(getComputedStyle(t).fontSize) * scale);
    }
    report.minTextPx = Number.isFinite(min) ? Math.round(min * 10) / 10 : 0;
    report.ticks = [...el.querySelectorAll(".tick text")].map((t) => t.textContent);
    const bars = [...el.querySelectorAll("rect.task")].map((r) => r.getBBox().x);
    const firstBar = bars.length ? Math.min(...bars) : Infinity;
    for (const title of el.querySelectorAll("text.sectionTitle")) {
      const box = title.getBBox();
      if (box.x + box.width > firstBar) report.sectionOverlaps.push(title.textContent);
    }
    reports.push(report);
  }
  return reports;
}

function outside(node, selector) {
  for (let el = node.parentElement; el; el = el.parentElement) if (el.matches(selector)) return false;
  return true;
}

window.kedroSfnMeasure = async (html, pageWidth) => {
  const article = document.querySelector("article");
  article.innerHTML = html;
  window.scrollTo(0, 0);
  const style = getComputedStyle(article);
  const contentWidth = pageWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const diagrams = await drawDiagrams(article, contentWidth);
  for (const d of article.querySelectorAll("details")) d.open = true;

  const tables = [...article.querySelectorAll("table")].map((t) => ({
    headers: [...t.querySelectorAll("thead th")].map((th) => th.textContent.trim()),
    rows: t.querySelectorAll("tbody tr").length,
    scrollWidth: t.scrollWidth,
    clientWidth: t.clientWidth,
    inDetails: !outside(t, "details"),
    top: Math.round(t.getBoundingClientRect().top + window.scrollY),
  }));

  const mentions = [];
  const walker = document.createTreeWalker(article, 4 /* NodeFilter.SHOW_TEXT */);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!outside(n, "code, pre, a, svg, .mermaid-holder")) continue;
    for (const m of n.textContent.matchAll(MENTION)) mentions.push(m[1]);
  }
  const prose = (selector) =>
    [...article.querySelectorAll(selector)]
      .filter((e) => outside(e, ".mermaid-holder"))
      .map((e) => e.textContent);
  return {
    diagrams,
    tables,
    mentions,
    links: [...article.querySelectorAll("a")]
      .filter((a) => outside(a, ".mermaid-holder"))
      .map((a) => ({ text: a.textContent, href: a.getAttribute("href") })),
    bold: prose("strong, b"),
    // Where each bold label starts on the page, to see what a reader reaches first.
    boldTops: [...article.querySelectorAll("strong")].map((e) => ({
      text: e.textContent,
      top: Math.round(e.getBoundingClientRect().top + window.scrollY),
    })),
    emphasis: prose("em, i"),
    foreign: [...article.querySelectorAll(FOREIGN)]
      .filter((e) => outside(e, ".mermaid-holder"))
      .map((e) => e.outerHTML.slice(0, 200)),
    height: document.documentElement.scrollHeight,
    text: article.innerText,
  };
};

window.kedroSfnCloseDetails = () => {
  for (const d of document.querySelectorAll("details")) d.open = false;
};
