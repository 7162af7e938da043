import { lambdaTasksOf } from "../compile/lambdaTasks.js";
import { compilePipeline } from "../compile/index.js";
import type { CompiledPipeline } from "../compile/types.js";
import { compileOptionsFrom } from "./compileSettings.js";
import { Input, Output } from "../constants.js";
import { UserError } from "../errors.js";
import { describeImportErrors } from "../graph/parse.js";
import { preflight, type Finding } from "../graph/preflight.js";
import { refuseUnpackagedEnv } from "../image/package.js";
import type { PipelineGraph } from "../graph/types.js";
import { catalogEntryLines, lineOfDataset } from "../kedro/catalogLines.js";
import { catalogFile, inspectProject } from "../kedro/inspect.js";
import { logName } from "../report/escape.js";
import { stage, warn, type JobContext } from "./context.js";

/** What every mode does first: inspect, compile, and the pre-flight check. */
export interface Inspected {
  graph: PipelineGraph;
  compiled: CompiledPipeline;
  findings: Finding[];
  /** What learned durations did to the structure (learnDurations.ts); absent when not read. */
  structureNote?: string;
}

/** `inspected`: the graph already read (several pipelines are inspected in one Python call). */
export async function inspectAndCompile(
  ctx: Pick<JobContext, "options" | "io" | "timings" | "warnings">,
  inspected?: PipelineGraph,
): Promise<Inspected> {
  const { options, io } = ctx;
  // Before inspecting: plan and deploy alike, the Lambdas can never run an env that is not packaged.
  refuseUnpackagedEnv(options.kedroEnv);
  const graph =
    inspected ?? (await stage(ctx, "inspect", () => inspectProject({ ...options, nodeIndex: true })));
  io.info(`Inspected ${graph.nodes.length} nodes and ${Object.keys(graph.datasets ?? {}).length} datasets.`);
  io.setOutput(Output.Graph, JSON.stringify(graph));
  for (const w of graph.warnings ?? []) warn(ctx, `Inspecting the project: ${w}`);
  checkPipelineImports(ctx, graph);

  const compiled = await stage(ctx, "compile", () =>
    compilePipeline(graph, compileOptionsFrom(options, options.projectPath, graph)),
  );
  for (const w of compiled.warnings) warn(ctx, w);
  for (const m of compiled.merges)
    io.info(`Merged into ${m.functionName}: ${m.nodes.map(logName).join(", ")} (${logName(m.reason)}).`);
  const lambdaTasks = lambdaTasksOf(compiled);
  io.info(
    compiled.tasks
      ? `Compiled ${compiled.functions.length} shared Lambda function(s) for ${lambdaTasks.length} Task(s).`
      : `Compiled ${compiled.functions.length} Lambda function(s).`,
  );

  // By Task: nodes of two Tasks sharing a function still pass data between invocations.
  const taskOf = new Map<string, string>();
  for (const task of lambdaTasks) for (const node of task.nodes) taskOf.set(node, task.stateName);
  // The same location compileSettings hands the Lambdas (KEDRO_SFN_DATA_LOCATION).
  const dataLocation =
    options.dataLocation && options.stateMachineName
      ? { dataLocation: `${options.dataLocation}/${options.stateMachineName}` }
      : {};
  const findings = preflight(graph, { env: options.kedroEnv, taskOf, ...dataLocation });
  annotateFindings(ctx, findings);
  io.setOutput(Output.Findings, JSON.stringify(findings));
  return { graph, compiled, findings };
}

/**
 * A pipeline module that raised on import is skipped by find_pipelines(), so the
 * pipeline silently lacks its nodes: that fails the step unless the input allows it.
 */
function checkPipelineImports(
  ctx: Pick<JobContext, "options" | "io" | "warnings">,
  graph: PipelineGraph,
): void {
  const skipped = graph.pipeline_import_errors ?? [];
  if (skipped.length === 0) return;
  const what = `find_pipelines() skipped ${skipped.length} pipeline module(s) that failed to import: ${describeImportErrors(skipped)}`;
  if (ctx.options.allowPipelineImportErrors) {
    warn(ctx, `${what}. Going on without their nodes: '${Input.AllowPipelineImportErrors}' is true.`);
    return;
  }
  throw new UserError(`${what}; the pipeline would lack their nodes.`, {
    hint:
      `Fix the import errors (\`kedro registry list\` shows them with the traceback), or set ` +
      `'${Input.AllowPipelineImportErrors}: true' to deploy the pipeline without those modules.`,
    reason: "pipeline-import",
  });
}

/** One annotation per finding, on the dataset's line of the catalog when it has an entry there. */
function annotateFindings(ctx: Pick<JobContext, "options" | "io">, findings: Finding[]): void {
  if (findings.length === 0) return;
  const catalog = catalogFile(ctx.options.projectPath, ctx.options.kedroEnv);
  const lines = catalogEntryLines(catalog);
  for (const f of findings) {
    if (f.severity === "info") {
      ctx.io.info(f.message);
      continue;
    }
    const line = lineOfDataset(lines, f.dataset);
    const where = { title: `kedro-sfn: ${f.dataset}`, file: catalog, ...(line ? { startLine: line } : {}) };
    const text = `${f.message}\nAdd to ${f.file}:\n${f.catalogEntry}`;
    if (f.severity === "error") ctx.io.error(text, where);
    else ctx.io.warning(text, where);
  }
}
