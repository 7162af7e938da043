/**
 * Runs a workflow with act (a real workflow engine: `make act` builds it into .tools/bin) in
 * host mode: steps run on this machine, `uses: ./` runs our action.yml's node24 entry on the
 * first `node` in PATH, which is Node 24 here (`make node24`), as on a GitHub runner.
 *
 *   const run = await runWorkflow({ repo, workflow, event: "push", payload, env });
 *   run.echoed["execution-status"]   // what a later step printed as `output NAME=VALUE`
 *
 * Asynchronous on purpose: servers a test runs in this process (the fake GitHub API) must keep
 * answering while the workflow runs.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./localStack.js";

export const ACT = process.env["KEDRO_SFN_ACT"] ?? join(REPO_ROOT, ".tools", "bin", "act");
export const NODE24_BIN = process.env["KEDRO_SFN_NODE24_BIN"] ?? join(REPO_ROOT, ".tools", "node24", "bin");

/** act's log of the last run of each event. */
export const LOG_DIR = join(REPO_ROOT, ".local-stack", "act");

export interface WorkflowRun {
  status: number | null;
  /** act's whole log (every step's output, prefixed by act), also written to LOG_DIR/<event>.log. */
  log: string;
  /** `output NAME=VALUE` lines the steps printed, by NAME (the last one wins). */
  echoed: Record<string, string>;
}

export interface WorkflowOptions {
  /** A git repository holding the workflow file (act reads the repository name from its origin). */
  repo: string;
  /** The workflow file, relative to `repo`. */
  workflow: string;
  event: "push" | "pull_request";
  /** The event payload (GITHUB_EVENT_PATH). */
  payload: Record<string, unknown>;
  /** Values for `--env`: steps see them, expressions read them as `env.NAME`. */
  env: Record<string, string>;
  secrets?: Record<string, string>;
  timeoutMs: number;
}

/** Fails with what to run when a tool `make test` installs is missing. */
export function requireTools(): void {
  for (const [path, target] of [
    [ACT, "act"],
    [join(NODE24_BIN, "node"), "node24"],
  ] as const)
    if (!existsSync(path)) throw new Error(`${path} is missing: run \`make ${target}\` first.`);
}

/** A git repository (branch main, origin github.com/<slug>) with `files` committed. */
export function gitRepository(slug: string, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "kedro-sfn-act-repo-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const git = (...args: string[]): void => {
    execFileSync("git", ["-C", dir, "-c", "user.name=test", "-c", "user.email=test@example.com", ...args], {
      stdio: "pipe",
    });
  };
  git("init", "-q", "-b", "main");
  git("remote", "add", "origin", `https://github.com/${slug}.git`);
  git("add", "-A");
  git("commit", "-q", "-m", "workflow");
  return dir;
}

export async function runWorkflow(options: WorkflowOptions): Promise<WorkflowRun> {
  const scratch = mkdtempSync(join(tmpdir(), "kedro-sfn-act-"));
  const eventFile = join(scratch, "event.json");
  writeFileSync(eventFile, JSON.stringify(options.payload));
  const args = [
    options.event,
    "--workflows",
    options.workflow,
    "--eventpath",
    eventFile,
    "--platform",
    "ubuntu-latest=-self-hosted",
    // act's own caches and host workspaces in a scratch folder; no cache server (nothing uses it).
    "--action-cache-path",
    join(scratch, "cache"),
    "--no-cache-server",
  ];
  for (const [name, value] of Object.entries(options.env)) args.push("--env", `${name}=${value}`);
  for (const [name, value] of Object.entries(options.secrets ?? {}))
    args.push("--secret", `${name}=${value}`);
  const env = { ...process.env, PATH: `${NODE24_BIN}:${process.env["PATH"] ?? ""}` };
  try {
    const { status, log } = await new Promise<{ status: number | null; log: string }>((done, fail) => {
      const child = spawn(ACT, args, { cwd: options.repo, env, stdio: ["ignore", "pipe", "pipe"] });
      const chunks: Buffer[] = [];
      child.stdout.on("data", (c: Buffer) => chunks.push(c));
      child.stderr.on("data", (c: Buffer) => chunks.push(c));
      const timer = setTimeout(() => child.kill("SIGTERM"), options.timeoutMs);
      child.once("error", (error) => {
        clearTimeout(timer);
        fail(error);
      });
      child.once("close", (code) => {
        clearTimeout(timer);
        done({ status: code, log: Buffer.concat(chunks).toString("utf8") });
      });
    });
    // Kept for a look after a failed run (git-ignored).
    mkdirSync(LOG_DIR, { recursive: true });
    writeFileSync(join(LOG_DIR, `${options.event}.log`), log);
    return { status, log, echoed: echoedOutputs(log) };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** act prints a step's output as `[workflow/job]   | LINE`. */
function echoedOutputs(log: string): Record<string, string> {
  const echoed: Record<string, string> = {};
  for (const match of log.matchAll(/^\[[^\]]*\]\s+\| output ([\w-]+)=(.*)$/gm))
    if (match[1] !== undefined) echoed[match[1]] = match[2] ?? "";
  return echoed;
}
