/**
 * Hand-made CompiledPipelines and DesiredDeployments for plan/deploy tests: the shape the
 * compiler produces (Task states invoking arn:aws:states:::lambda:invoke with the plain
 * function name), without depending on the compiler.
 */
import { compilePipeline } from "../../src/compile/index.js";
import type { AslState, CompiledPipeline, FunctionSpec } from "../../src/compile/types.js";
import { GRAPH_SCHEMA, type PipelineGraph } from "../../src/graph/types.js";
import {
  bindDefinition,
  boundTasks,
  desiredLogging,
  functionDescription,
  functionHashes,
  parseFunctionDescription,
  stateMachineTags,
} from "../../src/plan/index.js";
import type { DeployedState, DesiredDeployment } from "../../src/plan/types.js";

/** The function settings tests compile with unless they say otherwise. */
export const FUNCTION_DEFAULTS = {
  memoryMb: 1024,
  timeoutSeconds: 900,
  ephemeralStorageMb: 512,
  architecture: "x86_64",
  environment: {},
} as const;

export const SPACEFLIGHTS_NODES = [
  "data_processing.preprocess_companies_node",
  "data_processing.preprocess_shuttles_node",
  "data_processing.create_model_input_table_node",
  "data_science.split_data_node",
  "data_science.train_model_node",
  "data_science.evaluate_model_node",
];

/** The spaceflights example's graph, as `kedro-sfn inspect` reports it. */
export function spaceflightsGraph(): PipelineGraph {
  const node = (name: string, inputs: string[], outputs: string[]) => ({
    name,
    namespace: name.split(".")[0] ?? null,
    tags: [],
    inputs,
    outputs,
  });
  return {
    schema: GRAPH_SCHEMA,
    project: { name: "spaceflights", package: "spaceflights" },
    pipeline: "__default__",
    nodes: [
      node("data_processing.preprocess_companies_node", ["companies"], ["preprocessed_companies"]),
      node("data_processing.preprocess_shuttles_node", ["shuttles"], ["preprocessed_shuttles"]),
      node(
        "data_processing.create_model_input_table_node",
        ["preprocessed_shuttles", "preprocessed_companies", "reviews"],
        ["model_input_table"],
      ),
      node(
        "data_science.split_data_node",
        ["model_input_table", "params:model_options"],
        ["X_train", "X_test", "y_train", "y_test"],
      ),
      node("data_science.train_model_node", ["X_train", "y_train"], ["regressor"]),
      node("data_science.evaluate_model_node", ["regressor", "X_test", "y_test"], ["metrics"]),
    ],
    parameters: ["model_options"],
  };
}

export interface SpaceflightsOptions {
  memoryByNode?: Record<string, number>;
  /** Old node name -> new one (edges come from datasets, so the pipeline keeps its shape). */
  renameNodes?: Record<string, string>;
}

/** The example compiled by the real compiler (one function per node, DAG structure). */
export function compiledSpaceflights(
  stateMachineName: string,
  options: SpaceflightsOptions = {},
): CompiledPipeline {
  const graph = spaceflightsGraph();
  graph.nodes = graph.nodes.map((node) => ({ ...node, name: options.renameNodes?.[node.name] ?? node.name }));
  const memoryByNode = options.memoryByNode ?? {};
  const compiled = compilePipeline(graph, {
    stateMachineName,
    groupBy: [],
    structure: "dag",
    functionDefaults: FUNCTION_DEFAULTS,
  });
  const functions = compiled.functions.map((fn) => ({
    ...fn,
    memoryMb: fn.nodes.reduce((memory, node) => memoryByNode[node] ?? memory, fn.memoryMb),
  }));
  return { definition: compiled.definition, functions, warnings: compiled.warnings, merges: compiled.merges };
}

export interface PipelineOptions {
  /** Function name prefix (default the state machine name). */
  prefix: string;
  memoryMb?: number;
  /** Per-node overrides by node name. */
  overrides?: Record<string, Partial<Pick<FunctionSpec, "memoryMb" | "timeoutSeconds" | "environment">>>;
}

/** A function name for a node, as the compiler would: short, AWS-safe. */
export function functionNameFor(prefix: string, node: string): string {
  return `${prefix}-${node.replace(/[^A-Za-z0-9_-]/g, "_")}`.slice(0, 64);
}

function task(fn: FunctionSpec, next: string | null): AslState {
  return {
    Type: "Task",
    Resource: "arn:aws:states:::lambda:invoke",
    Parameters: {
      FunctionName: fn.functionName,
      Payload: { nodes: fn.nodes, "run_id.$": "$$.Execution.Name", "params.$": "$.params" },
    },
    ResultPath: null,
    ...(next ? { Next: next } : { End: true }),
  };
}

/**
 * One function per node. Up to 8 nodes: a chain. More: a Parallel state of chains of 10, so
 * binding walks nested branches as it must for real pipelines.
 */
export function compiledPipeline(nodes: string[], options: PipelineOptions): CompiledPipeline {
  const functions: FunctionSpec[] = nodes.map((node) => ({
    functionName: functionNameFor(options.prefix, node),
    stateName: node.slice(0, 80),
    nodes: [node],
    memoryMb: options.memoryMb ?? 1024,
    timeoutSeconds: 900,
    ephemeralStorageMb: 512,
    architecture: "x86_64",
    environment: { KEDRO_ENV: "aws", KEDRO_SFN_NODES: node },
    ...options.overrides?.[node],
  }));
  const chain = (specs: FunctionSpec[]): Record<string, AslState> =>
    Object.fromEntries(
      specs.map((fn, index) => [fn.stateName, task(fn, specs[index + 1]?.stateName ?? null)]),
    );
  let definition: CompiledPipeline["definition"];
  if (functions.length <= 8) {
    definition = { StartAt: functions[0]?.stateName ?? "", States: chain(functions) };
  } else {
    const branches = [];
    for (let start = 0; start < functions.length; start += 10) {
      const part = functions.slice(start, start + 10);
      branches.push({ StartAt: part[0]?.stateName ?? "", States: chain(part) });
    }
    definition = {
      StartAt: "pipeline",
      States: { pipeline: { Type: "Parallel", Branches: branches, ResultPath: null, End: true } },
    };
  }
  return {
    definition,
    functions: [...functions].sort((a, b) => (a.functionName < b.functionName ? -1 : 1)),
    warnings: [],
    merges: [],
  };
}

export function nodeNames(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `pipeline.node_${String(index).padStart(3, "0")}`);
}

export interface DesiredOptions {
  stateMachineName: string;
  imageUri: string;
  lambdaRoleArn: string;
  stateMachineRoleArn: string;
  nodes?: string[];
  compiled?: CompiledPipeline;
  commitSha?: string;
  memoryMb?: number;
  overrides?: PipelineOptions["overrides"];
  tags?: Record<string, string>;
}

export function desiredDeployment(options: DesiredOptions): DesiredDeployment {
  const compiled =
    options.compiled ??
    compiledPipeline(options.nodes ?? SPACEFLIGHTS_NODES, {
      prefix: options.stateMachineName,
      ...(options.memoryMb !== undefined ? { memoryMb: options.memoryMb } : {}),
      ...(options.overrides ? { overrides: options.overrides } : {}),
    });
  return {
    stateMachineName: options.stateMachineName,
    compiled,
    imageUri: options.imageUri,
    lambdaRoleArn: options.lambdaRoleArn,
    stateMachineRoleArn: options.stateMachineRoleArn,
    tags: options.tags ?? { team: "data" },
    commitSha: options.commitSha ?? "0123456789abcdef0123456789abcdef01234567",
    tracing: false,
    project: "spaceflights",
  };
}

/** What AWS looks like right after `target` was applied, every function at `version`. */
export function deployedStateFor(
  target: DesiredDeployment,
  version = 1,
  region = "eu-west-1",
): DeployedState {
  const digest = /sha256:([0-9a-f]{64})$/.exec(target.imageUri)?.[1] ?? "";
  const account = target.lambdaRoleArn.split(":")[4] ?? "123456789012";
  const arn = (name: string): string => `arn:aws:lambda:${region}:${account}:function:${name}`;
  const functions = target.compiled.functions.map((spec) => {
    const hashes = functionHashes(spec, target);
    return {
      functionName: spec.functionName,
      functionArn: arn(spec.functionName),
      revisionId: `rev-${spec.functionName}`,
      marker: parseFunctionDescription(functionDescription(target.stateMachineName, hashes, spec.nodes)),
      codeSha256: digest,
      architecture: spec.architecture,
      memoryMb: spec.memoryMb,
      timeoutSeconds: spec.timeoutSeconds,
      ephemeralStorageMb: spec.ephemeralStorageMb,
      environment: spec.environment,
      role: target.lambdaRoleArn,
    };
  });
  const bindings = new Map(
    target.compiled.functions.map((spec) => [
      spec.functionName,
      { functionArn: `${arn(spec.functionName)}:${version}`, specHash: functionHashes(spec, target).spec },
    ]),
  );
  const definition = bindDefinition(target.compiled.definition, bindings);
  const machineArn = `arn:aws:states:${region}:${account}:stateMachine:${target.stateMachineName}`;
  return {
    region,
    functions,
    foreign: [],
    stateMachine: {
      arn: machineArn,
      name: target.stateMachineName,
      definition,
      roleArn: target.stateMachineRoleArn,
      logging: desiredLogging(target),
      tracing: target.tracing,
      tags: { ...stateMachineTags(target), "kedro-sfn:version": `${machineArn}:3` },
      tasks: boundTasks(definition),
    },
  };
}
