/**
 * `pipeline: a,b` or `pipeline: all`: which pipelines one step deploys, and the options each
 * one's state machine is planned and deployed with. One pipeline keeps every name as before.
 */
import { Input } from "../constants.js";
import { UserError } from "../errors.js";
import type { Options } from "../options.js";

/** Every registered pipeline but `__default__` (which usually is their sum). */
export const ALL_PIPELINES = "all";

/** One name (today's single pipeline), several names in the order given, or `all`. */
export type PipelineSelection = { several: false; name: string } | { several: true; names: string[] | "all" };

const HINT =
  `Set '${Input.Pipeline}' to one registered pipeline, several separated by commas ` +
  `('data_processing,data_science'), or '${ALL_PIPELINES}' (every one but __default__).`;

/** The `pipeline` input read: empty entries, duplicates and `all` among names are refused. */
export function parsePipelineSelection(raw: string): PipelineSelection {
  const text = raw.trim();
  if (!text.includes(",")) {
    if (text === ALL_PIPELINES) return { several: true, names: ALL_PIPELINES };
    return { several: false, name: text || "__default__" };
  }
  const names = text.split(",").map((name) => name.trim());
  if (names.some((name) => name === "")) {
    throw new UserError(`Input '${Input.Pipeline}': '${raw}' has an empty entry.`, { hint: HINT });
  }
  if (names.includes(ALL_PIPELINES)) {
    throw new UserError(`Input '${Input.Pipeline}': '${ALL_PIPELINES}' cannot be listed with other names.`, {
      hint: HINT,
    });
  }
  const twice = names.filter((name, i) => names.indexOf(name) !== i);
  if (twice.length > 0) {
    throw new UserError(
      `Input '${Input.Pipeline}': ${[...new Set(twice)].map((n) => `'${n}'`).join(", ")} listed more than once.`,
      { hint: HINT },
    );
  }
  return { several: true, names };
}

/**
 * The options one pipeline of several deploys with. Names are derived so that every state machine
 * owns its own functions (the marker and prune work per state machine, so a node two pipelines
 * share gets a function in each): `state-machine-name` -> `<name>-<pipeline>`, an explicit
 * `function-prefix` -> `<prefix>-<pipeline>` (else the default prefix of the derived name),
 * `data-location` keyed by the derived name as for any state machine. The pipeline's name has
 * every character a state machine or function name cannot hold turned into `-`.
 */
export function optionsForPipeline(options: Options, pipeline: string): Options {
  const part = namePart(pipeline);
  return {
    ...options,
    pipeline,
    stateMachineName: options.stateMachineName ? `${options.stateMachineName}-${part}` : "",
    functionPrefix: options.functionPrefix ? `${options.functionPrefix}-${part}` : "",
    // The plan comment is one for all of them, under the step's own label (see planGroup).
    label: "",
  };
}

/** Derived names must differ: `a.b` and `a-b` would share a state machine. */
export function checkDerivedNames(options: Options, pipelines: readonly string[]): void {
  const byName = new Map<string, string[]>();
  for (const pipeline of pipelines) {
    const name = optionsForPipeline(options, pipeline).stateMachineName;
    byName.set(name.toLowerCase(), [...(byName.get(name.toLowerCase()) ?? []), pipeline]);
  }
  const clash = [...byName.values()].find((group) => group.length > 1);
  if (clash) {
    throw new UserError(
      `Input '${Input.Pipeline}': the pipelines ${clash.map((p) => `'${p}'`).join(" and ")} would get the same state machine name ` +
        `'${optionsForPipeline(options, clash[0] as string).stateMachineName}'.`,
      { hint: "Deploy them in separate steps with their own 'state-machine-name'." },
    );
  }
}

function namePart(pipeline: string): string {
  return pipeline.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "") || "pipeline";
}
