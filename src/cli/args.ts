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
};

/** Flags that take no value (`--wait` means `--wait true`). */
const SWITCHES = new Set(["wait", "json", "help", Input.Prune, Input.StartExecution, Input.Tracing]);

export function parseArgs(argv: string[], known: ReadonlySet<string>): ParsedArgs {
  const [command = "help", ...rest] = argv;
  const flags = new Map<string, string>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (!arg.startsWith("--"))
      throw new UserError(`Unexpected argument '${arg}' (flags look like --name value).`);
    const [name, given] = splitFlag(arg.slice(2));
    let value = given;
    if (!known.has(name) && !(name in ALIASES)) {
      throw new UserError(`Unknown flag --${name} for 'kedro-sfn ${command}'.`, {
        hint: `Run 'kedro-sfn help' for the flags each command takes.`,
      });
    }
    if (value === undefined) {
      const next = rest[i + 1];
      if (
        SWITCHES.has(name) &&
        (next === undefined || next.startsWith("--") || !/^(true|false)$/.test(next))
      ) {
        value = "true";
      } else if (next === undefined || next.startsWith("--")) {
        throw new UserError(`Flag --${name} needs a value.`);
      } else {
        value = next;
        i++;
      }
    }
    flags.set(ALIASES[name] ?? name, value);
  }
  return { command, flags };
}

function splitFlag(text: string): [string, string | undefined] {
  const eq = text.indexOf("=");
  return eq === -1 ? [text, undefined] : [text.slice(0, eq), text.slice(eq + 1)];
}
