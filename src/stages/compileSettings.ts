import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDurations, parseFunctionOverrides, type CompileOptions } from "../compile/index.js";
import { parseSharingSetting } from "../compile/functionConfig.js";
import { Input } from "../constants.js";
import { UserError } from "../errors.js";
import type { PipelineGraph } from "../graph/types.js";
import { confLocation } from "../kedro/confTree.js";
import type { Options } from "../options.js";

/**
 * The compiler's options from the run's options and the project's files:
 * `function-config` (default `conf/<env>/sfn.yml` when present) and `durations`.
 */
export function compileOptionsFrom(
  options: Options,
  projectPath?: string,
  graph?: PipelineGraph,
): CompileOptions {
  const compile: CompileOptions = {
    stateMachineName: options.stateMachineName || "kedro-pipeline",
    groupBy: options.groupBy,
    structure: options.structure,
    functionDefaults: {
      memoryMb: options.memoryMb,
      timeoutSeconds: options.timeoutSeconds,
      ephemeralStorageMb: options.ephemeralStorageMb,
      architecture: options.architecture,
      environment: handlerEnvironment(options, graph, projectPath),
      ...(options.defaultRunner === "ecs" ? { runner: "ecs" as const } : {}),
    },
    ecs: {
      cluster: options.ecsCluster,
      subnets: options.ecsSubnets,
      securityGroups: options.ecsSecurityGroups,
      assignPublicIp: options.ecsAssignPublicIp,
    },
  };
  if (options.functionPrefix) compile.functionPrefix = options.functionPrefix;
  const configFile = functionConfigFile(options, projectPath);
  const configText = configFile ? readInput(configFile, Input.FunctionConfig) : undefined;
  if (configFile && configText !== undefined)
    compile.overrides = parseFunctionOverrides(configText, configFile);
  // The input, when set, wins over sfn.yml's `functions.sharing`; neither: one function per node.
  const sharing =
    options.functionSharing ||
    (configFile && configText !== undefined ? parseSharingSetting(configText, configFile) : undefined);
  if (sharing === "by-settings") compile.functionSharing = sharing;
  if (options.durationsFile) {
    compile.durations = parseDurations(
      readInput(options.durationsFile, Input.Durations),
      options.durationsFile,
    );
  }
  return compile;
}

function functionConfigFile(options: Options, projectPath?: string): string | undefined {
  if (options.functionConfigFile) return options.functionConfigFile;
  if (projectPath === undefined) return undefined;
  const conventional = join(projectPath, "conf", options.kedroEnv, "sfn.yml");
  return existsSync(conventional) ? conventional : undefined;
}

function readInput(file: string, input: Input): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new UserError(`Input '${input}': cannot read '${file}': ${(error as Error).message}.`);
  }
}

/** What the handler in the image reads (python/kedro_sfn/handler.py). */
function handlerEnvironment(
  options: Options,
  graph?: PipelineGraph,
  projectPath?: string,
): Record<string, string> {
  const environment: Record<string, string> = { KEDRO_ENV: options.kedroEnv };
  if (options.pipeline !== "__default__") environment["KEDRO_SFN_PIPELINE"] = options.pipeline;
  if (graph?.project?.package) environment["KEDRO_SFN_PACKAGE"] = graph.project.package;
  if (options.confSource.startsWith("s3://")) {
    // The content-addressed folder the deploy uploads to: the conf's hash is part of the plan's.
    environment["KEDRO_SFN_CONF_SOURCE"] =
      projectPath === undefined ? options.confSource : confLocation(options.confSource, projectPath);
  }
  // Run-scoped data: the handler keys objects <this>/<run id>/<dataset>/ (python/kedro_sfn/handler.py).
  if (options.dataLocation && options.stateMachineName) {
    environment["KEDRO_SFN_DATA_LOCATION"] = `${options.dataLocation}/${options.stateMachineName}`;
  }
  return environment;
}
