import { datasetKey } from "./dag.js";
import type { PipelineGraph } from "./types.js";

export type Severity = "error" | "warning";

/** Something found before deploying that would break or surprise at run time. */
export interface Finding {
  severity: Severity;
  code:
    | "ephemeral-crosses-tasks"
    | "ephemeral-pipeline-input"
    | "ephemeral-output-discarded"
    | "local-crosses-tasks"
    | "local-pipeline-input";
  dataset: string;
  producer: string | null;
  consumers: string[];
  message: string;
  /** A catalog entry the user can paste into `file` to fix it. */
  catalogEntry: string;
  /** The env's catalog file, relative to the project. */
  file: string;
}

export interface PreflightOptions {
  /** Kedro env whose catalog is at fault (conf/<env>/catalog.yml). */
  env: string;
  /** Node name -> task (Lambda) it runs in; default: every node alone. */
  taskOf?: ReadonlyMap<string, string>;
}

/**
 * Each task runs in its own Lambda, so a dataset that one task writes and
 * another reads must be persisted: in-memory data does not survive the hop.
 */
export function preflight(graph: PipelineGraph, options: PreflightOptions): Finding[] {
  if (graph.datasets === undefined) return [];
  const datasets = graph.datasets;
  // Transcoded names (x@pandas, x@spark) are one dataset: in memory only if every spelling is.
  const spellings = new Map<string, Set<string>>();
  const isEphemeral = (key: string): boolean =>
    [...(spellings.get(key) ?? [key])].every((name) => datasets[name]?.ephemeral ?? true);
  const isLocal = (key: string): boolean =>
    [...(spellings.get(key) ?? [key])].some((name) => datasets[name]?.storage === "local");
  const taskOf = (node: string): string => options.taskOf?.get(node) ?? node;
  const file = `conf/${options.env}/catalog.yml`;
  const producers = new Map<string, string>();
  const consumers = new Map<string, string[]>();
  const spell = (name: string): string => {
    const key = datasetKey(name);
    spellings.set(key, (spellings.get(key) ?? new Set()).add(name));
    return key;
  };
  for (const node of graph.nodes) {
    for (const o of node.outputs) producers.set(spell(o), node.name);
    for (const i of node.inputs) {
      if (isParameter(i)) continue;
      const key = spell(i);
      consumers.set(key, [...(consumers.get(key) ?? []), node.name]);
    }
  }
  const names = [...new Set([...producers.keys(), ...consumers.keys()])].sort();
  const findings: Finding[] = [];
  for (const dataset of names) {
    const producer = producers.get(dataset) ?? null;
    const readers = consumers.get(dataset) ?? [];
    const base = { dataset, producer, consumers: readers, file, catalogEntry: catalogEntryFor(dataset) };
    const remote = producer === null ? readers : readers.filter((c) => taskOf(c) !== taskOf(producer));
    if (isEphemeral(dataset)) {
      if (producer === null) {
        findings.push({
          ...base,
          severity: "error",
          code: "ephemeral-pipeline-input",
          message:
            `Dataset '${dataset}' is an input of the pipeline (read by ${quoteList(readers)}) ` +
            `but is not in the catalog of env '${options.env}', so no Lambda can load it.`,
        });
      } else if (remote.length > 0) {
        findings.push({
          ...base,
          severity: "error",
          code: "ephemeral-crosses-tasks",
          message:
            `Dataset '${dataset}' is kept in memory (not persisted in env '${options.env}') but is ` +
            `written by '${producer}' and read by ${quoteList(remote)} in another Lambda.`,
        });
      } else if (readers.length === 0) {
        findings.push({
          ...base,
          severity: "warning",
          code: "ephemeral-output-discarded",
          message:
            `Dataset '${dataset}' written by '${producer}' is kept in memory only: ` +
            `it is discarded when the Lambda ends.`,
        });
      }
    } else if (isLocal(dataset) && remote.length > 0) {
      // A plain path in a Lambda is that Lambda's own disk (and /var/task is read-only).
      const where = producer === null ? "an input of the pipeline" : `written by '${producer}'`;
      findings.push({
        ...base,
        severity: "error",
        code: producer === null ? "local-pipeline-input" : "local-crosses-tasks",
        message:
          `Dataset '${dataset}' is on a local path in env '${options.env}' (${where}, read by ` +
          `${quoteList(remote)}): each Lambda has its own disk, so another Lambda cannot read it.`,
      });
    }
  }
  return findings;
}

export function isParameter(dataset: string): boolean {
  return dataset === "parameters" || dataset.startsWith("params:");
}

function quoteList(names: string[]): string {
  return names.map((n) => `'${n}'`).join(", ");
}

/** A ready-to-paste entry; pickle fits any Python object, the user may pick a better type. */
export function catalogEntryFor(dataset: string): string {
  const key = /^[A-Za-z0-9_.-]+$/.test(dataset) ? dataset : JSON.stringify(dataset);
  const file = dataset.replace(/[^A-Za-z0-9_.-]/g, "_");
  return [`${key}:`, `  type: pickle.PickleDataset`, `  filepath: s3://<your-bucket>/data/${file}.pkl`].join(
    "\n",
  );
}

export function hasErrors(findings: Finding[]): boolean {
  return findings.some((f) => f.severity === "error");
}
