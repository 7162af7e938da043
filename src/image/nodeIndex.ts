import { delimiter, join } from "node:path";
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
 * pipeline. Made with the interpreter that inspected and packaged the project. Without an
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
  const skipped = summary.unindexed.map((u) => `${u.node} (${u.why})`);
  log(
    `Node index: ${summary.indexed} of ${summary.nodes} nodes start by importing only their own module` +
      (skipped.length > 0
        ? `; the full registry for ${skipped.slice(0, 5).join(", ")}${skipped.length > 5 ? ", ..." : ""}`
        : ""),
  );
  return summary;
}

/** The index's path inside the build context's task/ folder. */
export function nodeIndexPath(taskDir: string, wheelDir: string): string {
  return join(taskDir, wheelDir, NODE_INDEX_FILE);
}
