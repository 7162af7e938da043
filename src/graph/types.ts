/** The `kedro-sfn/graph@1` contract: the only thing Python hands to TypeScript. */
export const GRAPH_SCHEMA = "kedro-sfn/graph@1";

export interface GraphNode {
  name: string;
  namespace: string | null;
  tags: string[];
  inputs: string[];
  outputs: string[];
}

export interface DatasetInfo {
  type: string;
  ephemeral: boolean;
  /**
   * Protocol of the dataset's path ("s3", "gcs", ...), "local" for a plain
   * path (one Lambda's own disk), absent when the dataset has no path.
   */
  storage?: string;
}

/** How the env's catalog defines a dataset: what pre-flight's fixes are made from. */
export interface CatalogEntryInfo {
  /** The entry as written (credentials dropped): the explicit one, or the factory pattern's. */
  entry: Record<string, unknown>;
  /** The factory pattern that makes this dataset, when no explicit entry does. */
  pattern?: string;
  /** The resolved filepath (or path), factory patterns and globals applied. */
  filepath?: string;
}

export interface ProjectInfo {
  name: string;
  package: string;
  kedro_version?: string;
}

/** A distribution the project's code or a dataset class imports, as the inspecting interpreter had it. */
export interface ImportedDistribution {
  distribution: string;
  version: string;
  module: string;
  /** Who imports it: a project file (relative to the project) or "dataset type X". */
  by: string;
}

/** A requirement the catalog certainly needs (a kedro-datasets extra, an fsspec protocol package). */
export interface DataRequirement {
  requirement: string;
  why: string;
}

/** What the image must provide, read off the interpreter that inspected the project (graph extra). */
export interface RuntimeProfile {
  python: string;
  kedro: string;
  imports: ImportedDistribution[];
  data_requirements: DataRequirement[];
}

export interface PipelineGraph {
  schema: typeof GRAPH_SCHEMA;
  project?: ProjectInfo;
  pipeline?: string;
  env?: string;
  /** Kedro's topological order. */
  nodes: GraphNode[];
  /** Absent in benchmark graphs: every dataset then counts as persistent. */
  datasets?: Record<string, DatasetInfo>;
  parameters?: string[];
  /** Absent in benchmark graphs and graphs from older helpers. */
  runtime?: RuntimeProfile;
  /** What the inspector could not be sure of: find_pipelines() notes, dataset classes that do not import. */
  warnings?: string[];
  /** Pipeline modules find_pipelines() skipped because they raised on import: the pipeline lacks their nodes. */
  pipeline_import_errors?: PipelineImportError[];
  /** Datasets the env's catalog defines (entry or pattern): absent from older helpers. */
  catalog_entries?: Record<string, CatalogEntryInfo>;
  /** Where the env's catalog keeps shared data (`s3://bucket/prefix`), null when nowhere. */
  catalog_root?: string | null;
  /**
   * The node index the inspector wrote from the registry it loaded (`--node-index`): the image
   * build puts it in the image instead of importing the registry again. Absent when not asked.
   */
  node_index_file?: string;
}

export interface PipelineImportError {
  /** The module, e.g. `spaceflights.pipelines.reporting`. */
  module: string;
  /** The exception's last traceback line (`ZeroDivisionError: division by zero`); empty when Kedro gave none. */
  error: string;
}
