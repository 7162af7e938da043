/**
 * One escaping rule per sink for every user-derived string (node, namespace and
 * dataset names, exception types and messages, function names):
 *
 * | Sink | Rule |
 * | --- | --- |
 * | a log line (core.info, a terminal, the CLI's stdout) | `logText` for whole lines, `logName` for a name inside one |
 * | an annotation (core.warning/error message, title) | `annotationText`, `annotationTitle` |
 * | JSON printed to a log (`kedro-sfn inspect`, `compile`, `plan --json`) | `jsonText` |
 * | Markdown prose (summary, PR comment) | `escapeText` |
 * | Markdown inline code, table cells | `codeSpan` (`inTable`), `escapeCell` |
 * | Text inside an HTML element (`<summary>`, `<code>`, `<td>`) | `htmlText` |
 * | A fenced block | `codeBlock` |
 *
 * Pure: no sink is touched here.
 */

// The runner reads workflow commands from every line a step prints, wherever it came from:
// `::name ...::data` at a line's start after leading whitespace (.NET TrimStart), and the
// legacy `##[name ...]data` anywhere in a line (actions/runner ActionCommand.TryParse).
// .NET splits lines on \r, \n and \r\n.
const LINE_BREAK = /\r\n|\r|\n/;
/** JavaScript's \s plus what .NET's TrimStart also trims (NEL; the Mongolian vowel separator of old Unicode). */
const COMMAND_START = /^[\s\u0085\u180e]*::/;
const LEGACY_COMMAND = /##\[/g;
// C0 controls but tab and line breaks, DEL and C1: a terminal escape could rewrite the screen.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

/**
 * Text for a log: every physical line is safe to print. A line that would start
 * a workflow command gets a leading backslash (`\::error ...`), and a legacy
 * `##[` becomes `##\[`; control characters become `?`. Line breaks stay, as `\n`.
 */
export function logText(text: string): string {
  return text.split(LINE_BREAK).map(logLine).join("\n");
}

function logLine(line: string): string {
  const safe = line.replace(CONTROL, "?").replace(LEGACY_COMMAND, "##\\[");
  return COMMAND_START.test(safe) ? `\\${safe}` : safe;
}

/**
 * A name inside a log line, kept on that line: line breaks, tabs and other
 * control characters are shown as escapes (`\n`, `\t`, `\u001b`), so a name
 * holding a newline cannot start a line of its own; a legacy `##[` becomes `##\[`.
 */
export function logName(name: string): string {
  return (
    name
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
        if (c === "\n") return "\\n";
        if (c === "\r") return "\\r";
        if (c === "\t") return "\\t";
        return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
      })
      .replace(LEGACY_COMMAND, "##\\[")
  );
}

/**
 * An annotation's message. @actions/core percent-encodes line breaks in a
 * command's data, so lines may stay; control characters go.
 */
export function annotationText(text: string): string {
  return text.replace(CONTROL, "?");
}

/** An annotation's title: one line (GitHub shows it as a heading), at most 200 characters. */
export function annotationTitle(text: string): string {
  const line = logName(text.replace(/\s+/g, " ").trim());
  return line.length <= 200 ? line : `${line.slice(0, 199)}…`;
}

/**
 * JSON text printed where the runner reads it: `[` inside a string becomes
 * `\u005b` after `##`, which every JSON parser reads back as the same string.
 * Outside strings JSON has no `#`, and no line of it starts with `::`.
 */
export function jsonText(json: string): string {
  return json.replace(LEGACY_COMMAND, "##\\u005b");
}

/** Escapes text for a Markdown table cell or inline HTML (summaries insert raw HTML). */
export function escapeCell(text: string): string {
  return escapeHtml(text)
    .replace(/\|/g, "&#124;")
    .replace(/`/g, "&#96;")
    .replace(/\r\n|\r|\n/g, "<br>");
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

/** GFM links `scheme://`, `mailto:`, `xmpp:` and `www.` in plain text; an entity breaks each. */
function defangAutolinks(text: string): string {
  return text
    .replace(/:(?=\/\/)|(?<=\b(?:mailto|xmpp)):/gi, "&#58;")
    .replace(/www\./gi, (w) => `${w.slice(0, 3)}&#46;`);
}
