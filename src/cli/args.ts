import { parseArgs as parseArgv } from "node:util";
import { Input } from "../constants.js";
import { UserError } from "../errors.js";

export interface ParsedArgs {
  command: string;
  flags: Map<string, string>;
}

/** Short CLI spellings of action inputs, so `--project` reads like `project-path`. */
const ALIASES: Record<string, string> = {
  project: Input.ProjectPath,
  env: Input.KedroEnv,
  "state-machine": Input.StateMachineName,
  input: Input.ExecutionInput,
  wait: Input.WaitForExecution,
  execution: Input.ResumeExecution,
};

/** Flags that take no value (`--wait` means `--wait true`); `--wait false` still turns one off. */
const SWITCHES = new Set(["wait", "json", "help", "yes", Input.Prune, Input.StartExecution, Input.Tracing]);

/**
 * `kedro-sfn COMMAND --flag value ...` through node:util's parseArgs. Every
 * flag is a string to it, as action inputs are; a bare switch is folded to
 * `--switch=true` first, since parseArgs' booleans would refuse `--prune false`.
 */
export function parseArgs(argv: string[], known: ReadonlySet<string>): ParsedArgs {
  const [command = "help", ...rest] = argv;
  const names = [...new Set([...known, ...Object.keys(ALIASES)])];
  const options = Object.fromEntries(names.map((name) => [name, { type: "string" as const }]));
  let parsed: ReturnType<typeof parseArgv>;
  try {
    parsed = parseArgv({ args: foldSwitches(rest), options, strict: true, allowPositionals: true });
  } catch (error) {
    throw explainParseError(error, command);
  }
  const [stray] = parsed.positionals;
  if (stray !== undefined)
    throw new UserError(`Unexpected argument '${stray}' (flags look like --name value).`);
  const flags = new Map<string, string>();
  for (const [name, value] of Object.entries(parsed.values)) {
    if (typeof value === "string") flags.set(ALIASES[name] ?? name, value);
  }
  return { command, flags };
}

function foldSwitches(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const name = arg.startsWith("--") && !arg.includes("=") ? arg.slice(2) : undefined;
    if (name === undefined || !SWITCHES.has(name)) {
      out.push(arg);
      continue;
    }
    const next = args[i + 1];
    if (next === "true" || next === "false") {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(`--${name}=true`);
    }
  }
  return out;
}

/** parseArgs' errors carry a code; ours name the flag and the command, and say what to do. */
function explainParseError(error: unknown, command: string): unknown {
  const code = (error as { code?: unknown }).code;
  const flag = /'(--?[^' <]+)/.exec((error as Error).message)?.[1] ?? "";
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    return new UserError(`Unknown flag ${flag} for 'kedro-sfn ${command}'.`, {
      hint: `Run 'kedro-sfn help' for the flags each command takes.`,
    });
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") return new UserError(`Flag ${flag} needs a value.`);
  return error;
}
