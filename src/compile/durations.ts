import { UserError } from "../errors.js";

const HINT =
  'Expected a JSON object of seconds per node name, e.g. {"data_science.train_model_node": 120.5}.';

/**
 * Reads duration hints: seconds per Kedro node name, either as the whole
 * object or under a `durations` key (so a benchmark graph or a past-run
 * summary can be passed as is).
 */
export function parseDurations(jsonText: string, file: string): Record<string, number> {
  let raw: unknown;
  try {
    raw = JSON.parse(jsonText);
  } catch (error) {
    throw new UserError(`${file} is not JSON: ${(error as Error).message}`, { hint: HINT, file });
  }
  if (isObject(raw) && isObject(raw.durations)) raw = raw.durations;
  if (!isObject(raw)) throw new UserError(`${file}: durations must be a JSON object.`, { hint: HINT, file });
  const durations: Record<string, number> = {};
  for (const [node, seconds] of Object.entries(raw)) {
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) {
      throw new UserError(
        `${file}: the duration of '${node}' must be a number of seconds >= 0, not ${JSON.stringify(seconds)}.`,
        {
          hint: HINT,
          file,
        },
      );
    }
    durations[node] = seconds;
  }
  return durations;
}

/**
 * Durations per node for the compiler: unknown names are reported, and nodes
 * without a hint get the median of the others (all 1 s if there are none).
 */
export function durationsFor(
  nodes: readonly string[],
  durations: Readonly<Record<string, number>>,
): { seconds: Map<string, number>; warnings: string[] } {
  const known = new Set(nodes);
  const warnings: string[] = [];
  const unknown = Object.keys(durations)
    .filter((n) => !known.has(n))
    .sort();
  if (unknown.length > 0) {
    const shown = unknown
      .slice(0, 5)
      .map((n) => `'${n}'`)
      .join(", ");
    warnings.push(
      `The durations name ${unknown.length} node(s) not in this pipeline (${shown}${unknown.length > 5 ? ", ..." : ""}); they are ignored.`,
    );
  }
  const given = nodes.filter((n) => Object.hasOwn(durations, n));
  const values = given.map((n) => durations[n] as number).sort((a, b) => a - b);
  const median =
    values.length === 0
      ? 1
      : ((values[(values.length - 1) >> 1] as number) + (values[values.length >> 1] as number)) / 2;
  const missing = nodes.length - given.length;
  if (missing > 0 && given.length > 0) {
    warnings.push(
      `${missing} node(s) have no duration hint; they are assumed to take ${median} s (the median).`,
    );
  }
  const seconds = new Map(
    nodes.map((n) => [n, Object.hasOwn(durations, n) ? (durations[n] as number) : median]),
  );
  return { seconds, warnings };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
