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
 * a zero-width space after `@` so a name like `@team` notifies nobody, and
 * URL starts broken by an entity so GFM's autolinks cannot make them links.
 */
export function escapeText(text: string): string {
  return defangAutolinks(
    escapeHtml(text.replace(/\s+/g, " "))
      .replace(/[\\`*_[\]()#+!|~{}]/g, "\\$&")
      .replace(/@/g, "@\u200b"),
  );
}

/**
 * User text inside an HTML element. GitHub parses Markdown between inline tags
 * (`<code>__init__</code>` shows a bold "init") and autolinks URLs there, so
 * characters that could start markup become entities: `_` where it could open
 * or close emphasis (`data_science` stays as it is), `|` too, which splits
 * table cells even inside HTML. `@` gets a zero-width space outside code.
 */
export function htmlText(text: string, options: { inCode?: boolean } = {}): string {
  const escaped = defangAutolinks(
    escapeHtml(text.replace(/[\r\n\t]+/g, " ")).replace(
      /[\\`*[\]!|~{}]|(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu,
      (c) => `&#${c.charCodeAt(0)};`,
    ),
  );
  return options.inCode ? escaped.replace(/@/g, "&#64;") : escaped.replace(/@/g, "@&#8203;");
}

/** A run longer than this without `.`, `-` or `/` may also wrap after `_`, or anywhere. */
const BREAK_EVERY = 24;

/**
 * A name as inline code that keeps a table narrow: it may wrap after `.`, `-`,
 * `/` and inside long runs (`<wbr>`), and beyond `max` characters the middle
 * gives way to an ellipsis, with the whole name in a tooltip.
 */
export function nameCode(name: string, max = Infinity, options: { wrap?: boolean } = {}): string {
  const short = shortenMiddle(name, max);
  const title = short === name ? "" : ` title="${htmlText(name, { inCode: true })}"`;
  if (options.wrap === false) return `<code${title}>${htmlText(short, { inCode: true })}</code>`;
  const pieces = short
    .split(/(?<=[.\-/])(?=.)/u)
    .flatMap((p) => ([...p].length > BREAK_EVERY ? p.split(/(?<=_)(?=.)/u) : [p]))
    .flatMap((p) => p.match(new RegExp(`.{1,${BREAK_EVERY}}`, "gu")) ?? [p])
    .map((p) => htmlText(p, { inCode: true }));
  return `<code${title}>${pieces.join("<wbr>")}</code>`;
}

/** `head…tail` within `max` characters (code points), keeping the end where names differ most. */
export function shortenMiddle(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max || max < 5) return text;
  const tail = Math.floor((max - 1) / 2);
  const head = max - 1 - tail;
  return `${chars.slice(0, head).join("")}…${chars.slice(chars.length - tail).join("")}`;
}

/** A short cell that should not wrap when a table is squeezed to the page: spaces become no-break spaces. */
export function nowrap(text: string): string {
  return text.replace(/ /g, "\u00a0");
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** GFM links `scheme://`, `mailto:`, `xmpp:` and `www.` in plain text; an entity breaks each. */
function defangAutolinks(text: string): string {
  return text
    .replace(/:(?=\/\/)|(?<=\b(?:mailto|xmpp)):/gi, "&#58;")
    .replace(/www\./gi, (w) => `${w.slice(0, 3)}&#46;`);
}

/** GitHub limits comment bodies in characters; we budget in UTF-8 bytes, which is stricter. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}
