import { UserError } from "../errors.js";
import { producersOf, topologicalOrder } from "./dag.js";
import {
  GRAPH_SCHEMA,
  type DatasetInfo,
  type GraphNode,
  type PipelineGraph,
  type PipelineImportError,
  type ProjectInfo,
  type RuntimeProfile,
} from "./types.js";

const FROM_INSPECT =
  "Produce the graph with `kedro-sfn inspect` (the same version of kedro-sfn that compiles it).";

/**
 * Parses and validates a `kedro-sfn/graph@1` document. Unknown top-level keys
 * are dropped; a pipeline with no nodes, a dataset with two producers or a
 * cycle is an error naming the nodes involved.
 */
export function parseGraph(text: string, file: string): PipelineGraph {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${file} is not JSON: ${(error as Error).message}`, { hint: FROM_INSPECT, file });
  }
  if (!isObject(raw))
    throw new UserError(`${file} is not a pipeline graph: expected a JSON object.`, {
      hint: FROM_INSPECT,
      file,
    });
  if (raw.schema !== GRAPH_SCHEMA) {
    const found = raw.schema === undefined ? "no schema" : `schema ${JSON.stringify(raw.schema)}`;
    throw new UserError(`${file} is not a ${GRAPH_SCHEMA} graph (${found}).`, { hint: FROM_INSPECT, file });
  }
  const fail = (what: string): never => {
    throw new UserError(`${file}: ${what}`, { hint: FROM_INSPECT, file });
  };

  if (!Array.isArray(raw.nodes)) fail("'nodes' must be a list of nodes.");
  const nodes = (raw.nodes as unknown[]).map((n, i) => parseNode(n, i, fail));
  const importErrors = parseImportErrors(raw.pipeline_import_errors);
  if (nodes.length === 0) {
    const pipeline = typeof raw.pipeline === "string" ? `'${raw.pipeline}' ` : "";
    if (importErrors.length > 0) {
      // Every module of the pipeline raised on import: say which, not only that it is empty.
      throw new UserError(
        `${file}: the pipeline ${pipeline}has no nodes because its pipeline modules failed to import: ${describeImportErrors(importErrors)}.`,
        {
          hint: "Fix the import errors (run `kedro registry list` locally to see them).",
          file,
          reason: "pipeline-import",
        },
      );
    }
    throw new UserError(`${file}: the pipeline ${pipeline}has no nodes; there is nothing to deploy.`, {
      hint: "Check the pipeline name (--pipeline) and that the pipeline registry returns nodes for it.",
      file,
    });
  }
  const seen = new Set<string>();
  for (const n of nodes) {
    if (seen.has(n.name)) fail(`two nodes are named '${n.name}'; node names must be unique.`);
    seen.add(n.name);
  }

  const graph: PipelineGraph = { schema: GRAPH_SCHEMA, nodes };
  if (raw.project !== undefined) graph.project = parseProject(raw.project, fail);
  if (raw.pipeline !== undefined) graph.pipeline = stringField(raw.pipeline, "'pipeline'", fail);
  if (raw.env !== undefined && raw.env !== null) graph.env = stringField(raw.env, "'env'", fail);
  if (raw.datasets !== undefined) graph.datasets = parseDatasets(raw.datasets, fail);
  if (raw.parameters !== undefined) graph.parameters = stringList(raw.parameters, "'parameters'", fail);
  if (typeof raw.catalog_root === "string") graph.catalog_root = raw.catalog_root;
  if (typeof raw.node_index_file === "string") graph.node_index_file = raw.node_index_file;
  // Advisory, like the runtime extra: what pre-flight builds its fixes from.
  if (isObject(raw.catalog_entries)) {
    const entries: NonNullable<PipelineGraph["catalog_entries"]> = {};
    for (const [name, item] of Object.entries(raw.catalog_entries)) {
      if (!isObject(item) || !isObject(item.entry)) continue;
      entries[name] = {
        entry: item.entry,
        ...(typeof item.pattern === "string" ? { pattern: item.pattern } : {}),
        ...(typeof item.filepath === "string" ? { filepath: item.filepath } : {}),
      };
    }
    graph.catalog_entries = entries;
  }
  const runtime = parseRuntime(raw.runtime);
  if (runtime !== undefined) graph.runtime = runtime;
  if (Array.isArray(raw.warnings))
    graph.warnings = raw.warnings.filter((w): w is string => typeof w === "string");
  if (raw.pipeline_import_errors !== undefined) graph.pipeline_import_errors = importErrors;

  try {
    producersOf(graph);
    topologicalOrder(graph);
  } catch (error) {
    if (error instanceof UserError) {
      throw new UserError(`${file}: ${error.message}`, { ...(error.hint ? { hint: error.hint } : {}), file });
    }
    throw error;
  }
  return graph;
}

function parseNode(raw: unknown, index: number, fail: (what: string) => never): GraphNode {
  const where = `node ${index + 1}`;
  if (!isObject(raw)) return fail(`${where} is not an object.`);
  if (typeof raw.name !== "string" || raw.name.trim() === "") return fail(`${where} has no 'name'.`);
  const name = raw.name;
  const named = `node '${name}'`;
  const namespace = raw.namespace === undefined || raw.namespace === null ? null : raw.namespace;
  if (namespace !== null && typeof namespace !== "string")
    return fail(`${named}: 'namespace' must be a string or null.`);
  return {
    name,
    namespace,
    tags: raw.tags === undefined ? [] : stringList(raw.tags, `${named}: 'tags'`, fail),
    inputs: requiredList(raw.inputs, `${named}: 'inputs'`, fail),
    outputs: requiredList(raw.outputs, `${named}: 'outputs'`, fail),
  };
}

/** The runtime extra is advisory: a malformed one is dropped, never an error. */
function parseRuntime(raw: unknown): RuntimeProfile | undefined {
  if (!isObject(raw) || typeof raw.python !== "string" || typeof raw.kedro !== "string") return undefined;
  const records = (value: unknown, keys: string[]): Record<string, string>[] =>
    Array.isArray(value)
      ? value.filter(
          (item): item is Record<string, string> =>
            isObject(item) && keys.every((key) => typeof item[key] === "string"),
        )
      : [];
  return {
    python: raw.python,
    kedro: raw.kedro,
    imports: records(raw.imports, ["distribution", "version", "module", "by"]).map((item) => ({
      distribution: item["distribution"] ?? "",
      version: item["version"] ?? "",
      module: item["module"] ?? "",
      by: item["by"] ?? "",
    })),
    data_requirements: records(raw.data_requirements, ["requirement", "why"]).map((item) => ({
      requirement: item["requirement"] ?? "",
      why: item["why"] ?? "",
    })),
  };
}

function parseProject(raw: unknown, fail: (what: string) => never): ProjectInfo {
  if (!isObject(raw) || typeof raw.name !== "string" || typeof raw.package !== "string") {
    return fail("'project' must be an object with string 'name' and 'package'.");
  }
  const project: ProjectInfo = { name: raw.name, package: raw.package };
  if (typeof raw.kedro_version === "string") project.kedro_version = raw.kedro_version;
  return project;
}

function parseDatasets(raw: unknown, fail: (what: string) => never): Record<string, DatasetInfo> {
  if (!isObject(raw)) return fail("'datasets' must be an object mapping dataset names to {type, ephemeral}.");
  const datasets: Record<string, DatasetInfo> = {};
  for (const [name, info] of Object.entries(raw)) {
    if (
      !isObject(info) ||
      typeof info.ephemeral !== "boolean" ||
      (info.type !== undefined && typeof info.type !== "string") ||
      (info.storage !== undefined && info.storage !== null && typeof info.storage !== "string")
    ) {
      return fail(`dataset '${name}' must be {"type": string, "ephemeral": boolean, "storage"?: string}.`);
    }
    const dataset: DatasetInfo = {
      type: typeof info.type === "string" ? info.type : "",
      ephemeral: info.ephemeral,
    };
    if (typeof info.storage === "string") dataset.storage = info.storage;
    datasets[name] = dataset;
    if (typeof info.storage === "string") datasets[name].storage = info.storage;
  }
  return datasets;
}

/** Lenient like the runtime extra, but nothing that names a module is dropped. */
function parseImportErrors(raw: unknown): PipelineImportError[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((e: unknown) =>
    isObject(e) && typeof e.module === "string"
      ? [{ module: e.module, error: typeof e.error === "string" ? e.error : "" }]
      : [],
  );
}

/** `a.b (ZeroDivisionError: division by zero), c.d`: one line for messages. */
export function describeImportErrors(errors: readonly PipelineImportError[]): string {
  return errors.map((e) => (e.error ? `${e.module} (${e.error})` : e.module)).join(", ");
}

function requiredList(raw: unknown, what: string, fail: (what: string) => never): string[] {
  if (raw === undefined) return fail(`${what} is missing.`);
  return stringList(raw, what, fail);
}

function stringList(raw: unknown, what: string, fail: (what: string) => never): string[] {
  if (!Array.isArray(raw) || !raw.every((x) => typeof x === "string"))
    return fail(`${what} must be a list of strings.`);
  return [...raw];
}

function stringField(raw: unknown, what: string, fail: (what: string) => never): string {
  if (typeof raw !== "string") return fail(`${what} must be a string.`);
  return raw;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
