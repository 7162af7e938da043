import { stringify } from "yaml";
import { datasetKey } from "./dag.js";
import { runStoreFolder } from "./runStore.js";
import type { CatalogEntryInfo, DatasetInfo, PipelineGraph } from "./types.js";

export type Severity = "error" | "warning" | "info";

/** Something found before deploying that would break or surprise at run time. */
export interface Finding {
  severity: Severity;
  code:
    | "ephemeral-crosses-tasks"
    | "ephemeral-pipeline-input"
    | "ephemeral-output-discarded"
    | "local-crosses-tasks"
    | "local-pipeline-input"
    | "local-write"
    | "run-store";
  dataset: string;
  producer: string | null;
  consumers: string[];
  message: string;
  /** A catalog entry the user can paste into `file` to fix it (empty for info findings). */
  catalogEntry: string;
  /** The catalog keys `catalogEntry` defines: findings fixed by one pattern edit share them. */
  fixKeys?: string[];
  /** The env's catalog file, relative to the project. */
  file: string;
  /** run-store: the folder each run keeps the dataset in (`<run id>` stands for the execution name). */
  location?: string;
}

export interface PreflightOptions {
  /** Kedro env whose catalog is at fault (conf/<env>/catalog.yml). */
  env: string;
  /** Node name -> task (Lambda) it runs in; default: every node alone. */
  taskOf?: ReadonlyMap<string, string>;
  /** `<data-location>/<state machine>`: in-memory datasets that cross tasks go there. */
  dataLocation?: string;
}

/** Lambda's only writable folder. */
const WRITABLE = /^(file:\/\/)?\/tmp(\/|$)/;

/**
 * Each task runs in its own Lambda, so a dataset that one task writes and
 * another reads must be persisted: in-memory data does not survive the hop
 * (unless `data-location` keeps it for the run), a local path is one Lambda's
 * own disk, and nothing but /tmp is writable at all.
 */
export function preflight(graph: PipelineGraph, options: PreflightOptions): Finding[] {
  if (graph.datasets === undefined) return [];
  const datasets = graph.datasets;
  // Transcoded names (x@pandas, x@spark) are one dataset: in memory only if every spelling is.
  const spellings = new Map<string, Set<string>>();
  const namesOf = (key: string): string[] => [...(spellings.get(key) ?? [key])].sort();
  const isEphemeral = (key: string): boolean =>
    namesOf(key).every((name) => datasets[name]?.ephemeral ?? true);
  const isLocal = (key: string): boolean => namesOf(key).some((name) => datasets[name]?.storage === "local");
  const taskOf = (node: string): string => options.taskOf?.get(node) ?? node;
  const file = `conf/${options.env}/catalog.yml`;
  const root = graph.catalog_root ?? undefined;
  const entries = graph.catalog_entries ?? {};
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
    const fix = fixFor(namesOf(dataset), datasets, entries, root);
    const base = { dataset, producer, consumers: readers, file, catalogEntry: fix.entry, fixKeys: fix.keys };
    const remote = producer === null ? readers : readers.filter((c) => taskOf(c) !== taskOf(producer));
    const where = pathsOf(namesOf(dataset), entries);
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
      } else if (remote.length > 0 && options.dataLocation) {
        const location = runStoreFolder(options.dataLocation, dataset);
        findings.push({
          ...base,
          catalogEntry: "",
          fixKeys: [],
          severity: "info",
          code: "run-store",
          location,
          message:
            `Dataset '${dataset}' is kept in memory, written by '${producer}' and read by ${quoteList(remote)} ` +
            `in another Lambda: each run keeps it at ${location} (input 'data-location').`,
        });
      } else if (remote.length > 0) {
        findings.push({
          ...base,
          severity: "error",
          code: "ephemeral-crosses-tasks",
          message:
            `Dataset '${dataset}' is kept in memory (not persisted in env '${options.env}') but is ` +
            `written by '${producer}' and read by ${quoteList(remote)} in another Lambda. Easiest fix: ` +
            `set the input 'data-location' (e.g. s3://<bucket>/kedro-sfn-runs; CLI --data-location), ` +
            `and kedro-sfn keeps it in S3 for each run; or persist it in ${file}${fix.pattern}.`,
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
      const role = producer === null ? "an input of the pipeline" : `written by '${producer}'`;
      findings.push({
        ...base,
        severity: "error",
        code: producer === null ? "local-pipeline-input" : "local-crosses-tasks",
        message:
          `Dataset '${dataset}' is on a local path in env '${options.env}' (${where}; ${role}, read by ` +
          `${quoteList(remote)}): each Lambda has its own disk, so another Lambda cannot read it. ` +
          `Move it to shared storage${fix.pattern}.`,
      });
    } else if (
      producer !== null &&
      isLocal(dataset) &&
      !writableInLambda(namesOf(dataset), datasets, entries)
    ) {
      findings.push({
        ...base,
        severity: "error",
        code: "local-write",
        message:
          `Dataset '${dataset}' is written by '${producer}' to a local path in env '${options.env}' (${where}): ` +
          `a Lambda can write only under /tmp, so the save fails at run time (and /tmp is gone when the ` +
          `Lambda ends). Move it to shared storage${fix.pattern}.`,
      });
    }
  }
  return findings;
}

/** Every spelling's resolved path, with the pattern that made it: what the messages show. */
function pathsOf(names: string[], entries: Record<string, CatalogEntryInfo>): string {
  const shown = names.flatMap((name) => {
    const info = entries[name];
    if (info?.filepath === undefined) return [];
    const from = info.pattern !== undefined ? ` from pattern '${info.pattern}'` : "";
    return [`'${name}' resolves to ${info.filepath}${from}`];
  });
  return shown.length > 0 ? shown.join(", ") : "path not known";
}

function writableInLambda(
  names: string[],
  datasets: Record<string, DatasetInfo>,
  entries: Record<string, CatalogEntryInfo>,
): boolean {
  return names.every((name) => {
    const path = entries[name]?.filepath;
    return datasets[name]?.storage !== "local" || (path !== undefined && WRITABLE.test(path));
  });
}

export function isParameter(dataset: string): boolean {
  return dataset === "parameters" || dataset.startsWith("params:");
}

function quoteList(names: string[]): string {
  return names.map((n) => `'${n}'`).join(", ");
}

/** A ready-to-paste entry; pickle fits any Python object, the user may pick a better type. */
export function catalogEntryFor(dataset: string, root = PLACEHOLDER_ROOT): string {
  return stringifyEntries({
    [dataset]: { type: "pickle.PickleDataset", filepath: `${root}/${fileName(dataset)}.pkl` },
  });
}

const PLACEHOLDER_ROOT = "s3://<your-bucket>/data";

interface Fix {
  entry: string;
  keys: string[];
  /** ": edit the pattern '...' once" when a factory pattern is the fix, else "". */
  pattern: string;
}

/**
 * The fix for a dataset, by one rule: each spelling's own entry (or factory pattern)
 * keeps its type, load_args, save_args and file name, and only its path moves under the
 * env's storage root (`data/01_raw/x.csv` -> `<root>/01_raw/x.csv`); a dataset with no
 * entry, or kept in memory, becomes a pickle under the root.
 */
function fixFor(
  names: string[],
  datasets: Record<string, DatasetInfo>,
  catalog: Record<string, CatalogEntryInfo>,
  root = PLACEHOLDER_ROOT,
): Fix {
  const entries: Record<string, Record<string, unknown>> = {};
  const patterns: string[] = [];
  for (const name of names) {
    const info = catalog[name];
    const key = info?.pattern ?? name;
    if (key in entries) continue;
    if (info?.pattern !== undefined) patterns.push(info.pattern);
    const entry = info?.entry;
    const path = entry?.["filepath"] ?? entry?.["path"];
    if (entry !== undefined && !(datasets[name]?.ephemeral ?? true) && typeof path === "string") {
      const field = "filepath" in entry ? "filepath" : "path";
      entries[key] = { ...entry, [field]: movedPath(path, root) };
    } else {
      // Transcoded spellings share one file: name it after the dataset, not the spelling.
      entries[key] = { type: "pickle.PickleDataset", filepath: `${root}/${fileName(datasetKey(key))}.pkl` };
    }
  }
  const keys = Object.keys(entries);
  const pattern =
    patterns.length > 0 ? `: edit the pattern ${quoteList(patterns)} once, for every dataset it makes` : "";
  return { entry: stringifyEntries(entries), keys, pattern };
}

/** A local path under the storage root: the leading `data/` dropped, folders and file name kept. */
export function movedPath(path: string, root: string): string {
  let rest = path.replace(/^file:\/\//, "").replace(/\\/g, "/");
  if (rest.startsWith("/")) {
    const at = rest.lastIndexOf("/data/");
    rest = at >= 0 ? rest.slice(at + 1) : rest.slice(rest.lastIndexOf("/") + 1);
  }
  rest = rest.replace(/^(\.\/)+/, "").replace(/^data\//, "");
  return `${root.replace(/\/+$/, "")}/${rest}`;
}

/** A file name from a dataset name or pattern: placeholders and `/` kept, other unsafe characters `_`. */
function fileName(key: string): string {
  return key.replace(/[^A-Za-z0-9_.{}/-]/g, "_");
}

function stringifyEntries(entries: Record<string, Record<string, unknown>>): string {
  return stringify(entries, { lineWidth: 0 }).trimEnd();
}

export function hasErrors(findings: Finding[]): boolean {
  return findings.some((f) => f.severity === "error");
}
