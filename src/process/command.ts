import { spawn } from "node:child_process";

/** One subprocess to run: argv (no shell), where, and what to feed it. */
export interface Command {
  argv: string[];
  cwd?: string;
  /** Added to (not replacing) the parent's environment. */
  env?: Record<string, string>;
  /** Written to stdin, then stdin is closed (secrets go here, never in argv). */
  input?: string;
  /** Called with each line of output as it comes (progress for long builds). */
  onLine?: (line: string) => void;
}

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they arrived (what a terminal would show). */
  output: string;
}

/** Runs a command to completion; never throws for a non-zero exit (callers decide). */
export type CommandRunner = (command: Command) => Promise<CommandResult>;

/** Thrown when a program cannot be started at all (not installed, not executable). */
export class CommandNotFoundError extends Error {
  constructor(
    readonly program: string,
    cause: unknown,
  ) {
    super(`'${program}' could not be started: ${(cause as Error).message}`, { cause });
    this.name = "CommandNotFoundError";
  }
}

/** The real runner: node:child_process, output captured and optionally streamed line by line. */
export const runCommand: CommandRunner = (command) =>
  new Promise((resolve, reject) => {
    const [program, ...args] = command.argv;
    if (program === undefined) throw new Error("runCommand: empty argv");
    const child = spawn(program, args, {
      cwd: command.cwd,
      env: { ...process.env, ...command.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const output: Buffer[] = [];
    const stream = lineSplitter(command.onLine);
    child.stdout.on("data", (chunk: Buffer) => {
      stdout.push(chunk);
      output.push(chunk);
      stream(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr.push(chunk);
      output.push(chunk);
      stream(chunk);
    });
    child.on("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "ENOENT" || error.code === "EACCES" ? new CommandNotFoundError(program, error) : error,
      );
    });
    child.on("close", (code, signal) => {
      stream(null);
      resolve({
        exitCode: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        output: Buffer.concat(output).toString("utf8"),
      });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(command.input ?? "");
  });

function lineSplitter(onLine: ((line: string) => void) | undefined): (chunk: Buffer | null) => void {
  let pending = "";
  return (chunk) => {
    if (onLine === undefined) return;
    if (chunk === null) {
      if (pending !== "") onLine(pending);
      pending = "";
      return;
    }
    const lines = (pending + chunk.toString("utf8")).split(/\r?\n/);
    pending = lines.pop() ?? "";
    for (const line of lines) onLine(line);
  };
}

/** The last `count` non-empty lines of a command's output, for error messages. */
export function outputTail(result: Pick<CommandResult, "output">, count = 30): string {
  const lines = result.output.split(/\r?\n/).filter((line) => line.trim() !== "");
  return lines.slice(-count).join("\n");
}
