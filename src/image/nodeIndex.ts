import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { outputTail, type CommandRunner } from "../process/command.js";

/**
 * Where the image holds the node index: beside the wheel in /var/task/.kedro-sfn, which is
 * where kedro_sfn.node_index looks by default (next to the kedro_sfn package).
 */
export const NODE_INDEX_FILE = "node-index.json";

/** What `python -m kedro_sfn.node_index` prints. */
export interface NodeIndexSummary {
  nodes: number;
  indexed: number;
  pipelines: string[];
  unindexed: { node: string; why: string }[];
}

/**
 * Writes the node index of the project into `out` (python/kedro_sfn/node_index.py): which
 * module holds each node's function, so a cold Lambda imports that module instead of every
 * pipeline. Made with the interpreter that inspected and packaged the project, by a second
 * import of the registry: only for a graph without the inspector's index (`copyNodeIndex`).
 * Without an
 * index the handler loads the full registry (slower cold starts, same results), so a failure
 * here is a warning in the log, not a failed build.
 */
export async function writeNodeIndex(
  options: { projectPath: string; python: string; handlerRoot: string; out: string },
  run: CommandRunner,
  log: (line: string) => void,
): Promise<NodeIndexSummary | undefined> {
  const pythonPath = [options.handlerRoot, process.env["PYTHONPATH"]].filter(Boolean).join(delimiter);
  let result;
  try {
    result = await run({
      argv: [
        options.python,
        "-m",
        "kedro_sfn.node_index",
        "--project",
        options.projectPath,
        "--out",
        options.out,
      ],
      cwd: options.projectPath,
      env: { KEDRO_DISABLE_TELEMETRY: "1", DO_NOT_TRACK: "1", PYTHONPATH: pythonPath },
    });
  } catch (error) {
    log(
      `Warning: no node index (${(error as Error).message}); each Lambda loads the full pipeline registry.`,
    );
    return undefined;
  }
  if (result.exitCode !== 0) {
    log(
      `Warning: the node index could not be made (exit ${result.exitCode}); each Lambda loads the full pipeline registry:\n${outputTail(result, 15)}`,
    );
    return undefined;
  }
  const summary = JSON.parse(result.stdout.trim().split("\n").pop() ?? "{}") as NodeIndexSummary;
  logSummary(summary, log);
  return summary;
}

/** One index node as the file holds it (python/kedro_sfn/node_index.py). */
interface IndexRecord {
  func?: { module: string; qualname: string } | null;
  why?: string;
}

/**
 * Puts the index the inspector wrote (graph `node_index_file`, from the registry it loaded)
 * at `out`: the same file `writeNodeIndex` makes, without importing the registry again.
 * Undefined (and a warning) when the file is not a node index.
 */
export function copyNodeIndex(
  file: string,
  out: string,
  log: (line: string) => void,
): NodeIndexSummary | undefined {
  let index: { nodes?: Record<string, IndexRecord>; pipelines?: Record<string, string[]> };
  try {
    index = JSON.parse(readFileSync(file, "utf8")) as typeof index;
  } catch (error) {
    log(
      `Warning: no node index (${(error as Error).message}); each Lambda loads the full pipeline registry.`,
    );
    return undefined;
  }
  const records = Object.entries(index.nodes ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const unindexed = records
    .filter(([, record]) => !record.func)
    .map(([node, record]) => ({ node, why: record.why ?? "not indexed" }));
  mkdirSync(dirname(out), { recursive: true });
  copyFileSync(file, out);
  const summary = {
    nodes: records.length,
    indexed: records.length - unindexed.length,
    pipelines: Object.keys(index.pipelines ?? {}).sort(),
    unindexed,
  };
  logSummary(summary, log);
  return summary;
}

function logSummary(summary: NodeIndexSummary, log: (line: string) => void): void {
  const skipped = summary.unindexed.map((u) => `${u.node} (${u.why})`);
  log(
    `Node index: ${summary.indexed} of ${summary.nodes} nodes start by importing only their own module` +
      (skipped.length > 0
        ? `; the full registry for ${skipped.slice(0, 5).join(", ")}${skipped.length > 5 ? ", ..." : ""}`
        : ""),
  );
}

/** The index's path inside the build context's task/ folder. */
export function nodeIndexPath(taskDir: string, wheelDir: string): string {
  return join(taskDir, wheelDir, NODE_INDEX_FILE);
}
