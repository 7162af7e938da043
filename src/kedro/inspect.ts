import { existsSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { UserError } from "../errors.js";
import { parseGraph } from "../graph/parse.js";
import { NODE_INDEX_FILE } from "../image/nodeIndex.js";
import type { PipelineGraph } from "../graph/types.js";
import { CommandNotFoundError, runCommand, type CommandResult } from "../process/command.js";
import { pythonHelperRoot } from "./helperPath.js";

export interface InspectOptions {
  projectPath: string;
  pipeline: string;
  kedroEnv: string;
  python: string;
  /**
   * Also write the node index (python/kedro_sfn/node_index.py) from the registry the inspector
   * loads anyway, into a fresh temp folder; each graph's `node_index_file` names it. The image
   * build then needs no second import of the registry.
   */
  nodeIndex?: boolean;
  /** The folder holding kedro_sfn (default: the one beside this code; a benchmark passes a snapshot). */
  helperRoot?: string;
}

/** What inspect.py prints on stderr (one JSON line) when the user must fix something. */
interface HelperError {
  kind: string;
  message: string;
  hint?: string | null;
  file?: string | null;
}

/**
 * Runs the Python inspector with the user's interpreter and returns the
 * validated graph. Every failure a user can fix becomes a UserError.
 */
export async function inspectProject(options: InspectOptions): Promise<PipelineGraph> {
  const project = resolve(options.projectPath);
  if (!existsSync(project) || !statSync(project).isDirectory()) {
    throw new UserError(`Input 'project-path': '${options.projectPath}' is not a folder.`, {
      hint: "Point 'project-path' at the folder holding your Kedro project's pyproject.toml.",
    });
  }
  const args = ["-m", "kedro_sfn.inspect", "--project", project, "--pipeline", options.pipeline];
  args.push("--env", options.kedroEnv, ...nodeIndexArgs(options));
  const result = await runPython(options.python, args, project, options.helperRoot);
  if (result.exitCode !== 0) throw helperFailure(options, result);
  return parseGraph(result.stdout, `kedro-sfn inspect of ${project}`);
}

/** What `inspect.py --pipelines` prints: every graph from one start-up of Python and the project. */
const GRAPHS_SCHEMA = "kedro-sfn/graphs@1";

/**
 * The graphs of several pipelines (`"all"`: every registered one but `__default__`), from one
 * Python process: the project bootstraps once, whatever the number of pipelines.
 */
export async function inspectProjects(
  options: Omit<InspectOptions, "pipeline">,
  pipelines: readonly string[] | "all",
): Promise<PipelineGraph[]> {
  const project = resolve(options.projectPath);
  if (!existsSync(project) || !statSync(project).isDirectory()) {
    throw new UserError(`Input 'project-path': '${options.projectPath}' is not a folder.`, {
      hint: "Point 'project-path' at the folder holding your Kedro project's pyproject.toml.",
    });
  }
  const list = pipelines === "all" ? "all" : pipelines.join(",");
  const args = ["-m", "kedro_sfn.inspect", "--project", project, "--pipelines", list];
  args.push("--env", options.kedroEnv, ...nodeIndexArgs(options));
  const result = await runPython(options.python, args, project, options.helperRoot);
  if (result.exitCode !== 0) throw helperFailure({ ...options, pipeline: list }, result);
  const source = `kedro-sfn inspect of ${project}`;
  let parsed: { schema?: unknown; graphs?: unknown };
  try {
    parsed = JSON.parse(result.stdout) as typeof parsed;
  } catch (error) {
    throw new Error(`${source} printed no JSON: ${(error as Error).message}`);
  }
  if (parsed.schema !== GRAPHS_SCHEMA || !Array.isArray(parsed.graphs)) {
    throw new Error(
      `${source} did not print a ${GRAPHS_SCHEMA} document: is the helper from another version?`,
    );
  }
  return parsed.graphs.map((graph: unknown) => parseGraph(JSON.stringify(graph), source));
}

function nodeIndexArgs(options: Pick<InspectOptions, "nodeIndex">): string[] {
  if (!options.nodeIndex) return [];
  return ["--node-index", join(mkdtempSync(join(tmpdir(), "kedro-sfn-index-")), NODE_INDEX_FILE)];
}

async function runPython(
  python: string,
  args: string[],
  cwd: string,
  helperRoot?: string,
): Promise<CommandResult> {
  const pythonPath = [helperRoot ?? pythonHelperRoot(), process.env["PYTHONPATH"]]
    .filter(Boolean)
    .join(delimiter);
  try {
    return await runCommand({
      argv: [python, ...args],
      cwd,
      env: { KEDRO_DISABLE_TELEMETRY: "1", PYTHONUNBUFFERED: "1", PYTHONPATH: pythonPath },
    });
  } catch (error) {
    if (!(error instanceof CommandNotFoundError)) throw error;
    throw new UserError(`Input 'python': the interpreter '${python}' was not found.`, {
      hint: "Set 'python' to the interpreter that has your project's requirements installed (e.g. the one actions/setup-python provides).",
    });
  }
}

function helperFailure(options: InspectOptions, result: CommandResult): Error {
  const parsed = lastJsonError(result.stderr);
  if (parsed !== undefined) {
    const file = parsed.file ?? undefined;
    return new UserError(parsed.message, {
      ...(parsed.hint ? { hint: parsed.hint } : {}),
      ...(file ? { file } : {}),
    });
  }
  const tail = result.stderr.trim().split("\n").slice(-15).join("\n");
  return new Error(
    `Inspecting the Kedro project with '${options.python}' failed (exit ${result.exitCode}):\n${tail}`,
  );
}

function lastJsonError(stderr: string): HelperError | undefined {
  const lines = stderr.trim().split("\n").reverse();
  for (const line of lines) {
    if (!line.startsWith('{"error"')) continue;
    try {
      const value = JSON.parse(line) as { error?: HelperError };
      if (value.error && typeof value.error.message === "string") return value.error;
    } catch {
      // not our line: keep looking
    }
  }
  return undefined;
}

/** The catalog file of an env, where pre-flight findings are annotated. */
export function catalogFile(projectPath: string, env: string): string {
  return join(projectPath, "conf", env, "catalog.yml");
}
