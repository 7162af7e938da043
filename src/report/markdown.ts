/** Escapes text for a Markdown table cell or inline HTML (summaries insert raw HTML). */
export function escapeCell(text: string): string {
  return escapeHtml(text).replace(/\|/g, "&#124;").replace(/`/g, "&#96;").replace(/\r?\n/g, "<br>");
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A fenced block whose fence is longer than any backtick run inside it. */
export function codeBlock(text: string, language = ""): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  return `${fence}${language}\n${text}\n${fence}`;
}

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/**
 * Literal text as a code span: Markdown, HTML, `@mentions` and `#refs` inside
 * it stay inert on GitHub. `inTable` escapes `|`, which GFM splits cells on
 * even inside code spans.
 */
export function codeSpan(text: string, options: { inTable?: boolean } = {}): string {
  let body = text.replace(/[\r\n\t]+/g, " ");
  if (options.inTable) body = body.replace(/\|/g, "\\|");
  const longest = Math.max(0, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  const pad = body.startsWith("`") || body.endsWith("`") || body.startsWith(" ") || body === "" ? " " : "";
  return `${fence}${pad}${body}${pad}${fence}`;
}

/**
 * Prose with user text in it: HTML escaped, Markdown punctuation backslashed,
 * and a zero-width space after `@` so a name like `@team` notifies nobody.
 */
export function escapeText(text: string): string {
  return escapeHtml(text.replace(/\s+/g, " "))
    .replace(/[\\`*_[\]()#+!|~{}]/g, "\\$&")
    .replace(/@/g, "@\u200b");
}

/** GitHub limits comment bodies in characters; we budget in UTF-8 bytes, which is stricter. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}
