/**
 * What the sinks make of our text: the runner's reading of log lines as
 * workflow commands (actions/runner ActionCommand.TryParseV2 and the legacy
 * TryParse), and GitHub's rendering of Markdown (cmark-gfm) with what may
 * appear in it outside code.
 */
import { renderGfm } from "./githubRender.js";

/** The runner's registered commands (every command extension, plus stop-commands). */
const REGISTERED = new Set([
  "set-env",
  "set-output",
  "save-state",
  "add-mask",
  "add-path",
  "add-matcher",
  "remove-matcher",
  "debug",
  "warning",
  "error",
  "notice",
  "group",
  "endgroup",
  "echo",
  "stop-commands",
]);

/** .NET's Char.IsWhiteSpace, which String.TrimStart() trims. */
const DOTNET_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*/;

export interface RunnerCommand {
  name: string;
  properties: Record<string, string>;
  data: string;
}

/** The command the runner would run for one physical line, or null. */
export function runnerCommand(line: string): RunnerCommand | null {
  const v2 = line.replace(DOTNET_SPACE, "");
  if (v2.startsWith("::")) {
    const end = v2.indexOf("::", 2);
    if (end >= 0) {
      const info = v2.slice(2, end);
      const space = info.indexOf(" ");
      const name = space < 0 ? info : info.slice(0, space);
      if (REGISTERED.has(name)) {
        const properties: Record<string, string> = {};
        if (space > 0) {
          for (const pair of info.slice(space + 1).split(",")) {
            const [k, v] = pair.split("=", 2);
            if (k && v !== undefined) properties[k.trim()] = unescapeProperty(v);
          }
        }
        return { name, properties, data: v2.slice(end + 2) };
      }
    }
  }
  const prefix = line.indexOf("##[");
  if (prefix >= 0) {
    const close = line.indexOf("]", prefix);
    if (close >= 0) {
      const info = line.slice(prefix + 3, close);
      const name = info.split(" ", 1)[0] ?? "";
      if (REGISTERED.has(name)) return { name, properties: {}, data: line.slice(close + 1) };
    }
  }
  return null;
}

function unescapeProperty(value: string): string {
  return value
    .replace(/%0D/g, "\r")
    .replace(/%0A/g, "\n")
    .replace(/%3A/g, ":")
    .replace(/%2C/g, ",")
    .replace(/%25/g, "%");
}

/** The physical lines of printed text as the runner splits them. */
export function physicalLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

/** Commands in printed text that @actions/core did not issue for us (its own have escaped data). */
export function injectedCommands(text: string, ours: ReadonlySet<string>): RunnerCommand[] {
  return physicalLines(text)
    .map(runnerCommand)
    .filter((c): c is RunnerCommand => c !== null)
    .filter((c) => !ours.has(c.name) || c.properties["title"] === "INJECTED");
}

export interface RenderedCheck {
  /** Elements that only user text could have made. */
  images: number;
  foreignLinks: string[];
  /** `@name` GitHub would turn into a mention (outside code and links). */
  mentions: string[];
  /** `<details>` opened minus closed outside code: 0 when no text broke out of one. */
  detailsBalance: number;
  /** The rendered text outside code, for "still readable" checks. */
  prose: string;
  html: string;
}

/** Renders Markdown as GitHub does and reports what user text could have made of it. */
export function checkRendered(markdown: string, allowedLinks: RegExp): RenderedCheck {
  const html = renderGfm(markdown);
  const outside = html.replace(/<pre[\s\S]*?<\/pre>/g, "").replace(/<code[^>]*>[\s\S]*?<\/code>/g, "");
  const links = [...outside.matchAll(/<a [^>]*href="([^"]*)"/g)].map((m) => m[1] as string);
  const text = outside.replace(/<a [\s\S]*?<\/a>/g, "").replace(/<[^>]+>/g, " ");
  return {
    images: (outside.match(/<img\b/g) ?? []).length,
    foreignLinks: links.filter((href) => !allowedLinks.test(href)),
    mentions: [...text.matchAll(/(?<![\w`])@[A-Za-z0-9][\w-]*/g)].map((m) => m[0]),
    detailsBalance: (outside.match(/<details>/g) ?? []).length - (outside.match(/<\/details>/g) ?? []).length,
    prose: text,
    html,
  };
}
