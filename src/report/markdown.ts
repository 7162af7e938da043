// The escaping rules live in escape.ts, one per sink; re-exported for the report modules.
import { htmlText } from "./escape.js";
export { codeBlock, codeSpan, escapeCell, escapeHtml, escapeText, htmlText } from "./escape.js";

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
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

/** GitHub limits comment bodies in characters; we budget in UTF-8 bytes, which is stricter. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}
