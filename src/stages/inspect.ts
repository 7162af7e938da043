import { compilePipeline } from "../compile/index.js";
import type { CompiledPipeline } from "../compile/types.js";
import { compileOptionsFrom } from "./compileSettings.js";
import { Output } from "../constants.js";
import { preflight, type Finding } from "../graph/preflight.js";
import { refuseUnpackagedEnv } from "../image/package.js";
import type { PipelineGraph } from "../graph/types.js";
import { catalogEntryLines, lineOfDataset } from "../kedro/catalogLines.js";
import { catalogFile, inspectProject } from "../kedro/inspect.js";
import { stage, type JobContext } from "./context.js";

/** What every mode does first: inspect, compile, and the pre-flight check. */
export interface Inspected {
  graph: PipelineGraph;
  compiled: CompiledPipeline;
  findings: Finding[];
}

export async function inspectAndCompile(
  ctx: Pick<JobContext, "options" | "io" | "timings">,
): Promise<Inspected> {
  const { options, io } = ctx;
  // Before inspecting: plan and deploy alike, the Lambdas can never run an env that is not packaged.
  refuseUnpackagedEnv(options.kedroEnv);
  const graph = await stage(ctx, "inspect", () => inspectProject(options));
  io.info(`Inspected ${graph.nodes.length} nodes and ${Object.keys(graph.datasets ?? {}).length} datasets.`);
  io.setOutput(Output.Graph, JSON.stringify(graph));

  const compiled = await stage(ctx, "compile", () =>
    compilePipeline(graph, compileOptionsFrom(options, options.projectPath, graph)),
  );
  for (const w of compiled.warnings) io.warning(w);
  for (const m of compiled.merges)
    io.info(`Merged into ${m.functionName}: ${m.nodes.join(", ")} (${m.reason}).`);
  io.info(`Compiled ${compiled.functions.length} Lambda function(s).`);

  const taskOf = new Map<string, string>();
  for (const fn of compiled.functions) for (const node of fn.nodes) taskOf.set(node, fn.functionName);
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
