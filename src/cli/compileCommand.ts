import { stableStringify } from "../canonicalJson.js";
import { compilePipeline } from "../compile/index.js";
import { compileOptionsFrom } from "../stages/compileSettings.js";
import type { PipelineGraph } from "../graph/types.js";
import type { Options } from "../options.js";

/** `kedro-sfn compile`: the definition as byte-stable JSON; warnings go to `warn`. */
export function compileCommand(
  graph: PipelineGraph,
  options: Options,
  warn: (message: string) => void,
): string {
  const compiled = compilePipeline(graph, compileOptionsFrom(options));
  for (const w of compiled.warnings) warn(w);
  return `${stableStringify(compiled.definition, 2)}\n`;
}
