/** Just enough Dockerfile reading to check a project's own file before a long build. */

export interface Instruction {
  keyword: string;
  /** Arguments as written, continuation lines joined. */
  args: string;
  line: number;
}

/** Instructions in order; comments, parser directives and blank lines dropped, `\` continuations joined. */
export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    if (pending === undefined && (trimmed === "" || trimmed.startsWith("#"))) return;
    if (pending !== undefined && trimmed.startsWith("#")) return;
    const continued = /\\\s*$/.test(raw);
    const part = continued ? raw.replace(/\\\s*$/, "") : raw;
    pending =
      pending === undefined
        ? { text: part, line: index + 1 }
        : { text: `${pending.text.trimEnd()} ${part.trim()}`, line: pending.line };
    if (continued) return;
    const match = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(pending.text);
    if (match?.[1] !== undefined) {
      instructions.push({
        keyword: match[1].toUpperCase(),
        args: (match[2] ?? "").trim(),
        line: pending.line,
      });
    }
    pending = undefined;
  });
  return instructions;
}

/** The instructions after the last FROM: what ends up in the image that is pushed. */
export function finalStage(instructions: Instruction[]): Instruction[] {
  let start = 0;
  instructions.forEach((instruction, index) => {
    if (instruction.keyword === "FROM") start = index;
  });
  return instructions.slice(start);
}

/**
 * Local files a COPY/ADD reads from the build context (not `--from=` another
 * stage, not URLs): they are part of the image's content hash.
 */
export function contextSources(instructions: Instruction[]): string[] {
  const sources: string[] = [];
  for (const { keyword, args } of instructions) {
    if (keyword !== "COPY" && keyword !== "ADD") continue;
    const words = splitArgs(args);
    const flags = words.filter((word) => word.startsWith("--"));
    if (flags.some((flag) => flag.startsWith("--from"))) continue;
    const paths = words.filter((word) => !word.startsWith("--"));
    for (const source of paths.slice(0, -1)) {
      if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) sources.push(source);
    }
  }
  return sources;
}

function splitArgs(args: string): string[] {
  const flags: string[] = [];
  let rest = args;
  for (let match = /^(--\S+)\s+/.exec(rest); match !== null; match = /^(--\S+)\s+/.exec(rest)) {
    flags.push(match[1] ?? "");
    rest = rest.slice(match[0].length);
  }
  if (rest.startsWith("[")) {
    try {
      const parsed = JSON.parse(rest) as unknown;
      if (Array.isArray(parsed)) return [...flags, ...parsed.map(String)];
    } catch {
      // Not JSON after all: fall through to whitespace splitting, as Docker does.
    }
  }
  return [...flags, ...rest.split(/\s+/).filter((word) => word !== "")];
}
