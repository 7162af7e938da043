/**
 * Runtime parameters the project does not define: Kedro accepts them as new
 * parameters, so a typo silently runs with the default. Returns warnings, one
 * line each. `params` keys may be dotted (`model_options.test_size`) or nested
 * objects; a key is known when it or one of its parents is a project parameter.
 */
export function checkParams(
  executionInput: string,
  knownParameterKeys: readonly string[] | undefined,
): string[] {
  if (knownParameterKeys === undefined) return [];
  let params: unknown;
  try {
    params = (JSON.parse(executionInput) as Record<string, unknown> | null)?.["params"];
  } catch {
    return []; // options already rejected text that is not JSON
  }
  if (typeof params !== "object" || params === null || Array.isArray(params)) return [];
  const known = new Set(knownParameterKeys);
  const isKnown = (path: string): boolean => {
    const parts = path.split(".");
    if (parts.some((_, i) => known.has(parts.slice(0, i + 1).join(".")))) return true;
    return knownParameterKeys.some((k) => k.startsWith(`${path}.`));
  };
  const unknown = leafPaths(params as Record<string, unknown>).filter((p) => !isKnown(p));
  if (unknown.length === 0) return [];
  const list =
    unknown.length > 20
      ? `${unknown.slice(0, 20).join(", ")} and ${unknown.length - 20} more`
      : unknown.join(", ");
  const knownList = knownParameterKeys.length > 0 ? [...knownParameterKeys].sort().join(", ") : "none";
  return [
    `Input 'execution-input': params not defined in the project's parameters: ${list}. ` +
      `Kedro adds them as new parameters, so a misspelt key leaves the configured value in place. ` +
      `Project parameters: ${knownList}.`,
  ];
}

function leafPaths(object: Record<string, unknown>, prefix = ""): string[] {
  return Object.entries(object).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    if (
      typeof value === "object" &&
      value !== null &&
      !Array.isArray(value) &&
      Object.keys(value).length > 0
    ) {
      return leafPaths(value as Record<string, unknown>, path);
    }
    return [path];
  });
}

/**
 * Compiled Tasks pass `"params.$": "$.params"`, and Step Functions fails a Task
 * whose path is missing from its input (States.Runtime): an input without
 * `params` gets an empty object. Input that has it is sent as the user wrote it.
 */
export function withParams(executionInput: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(executionInput || "{}");
  } catch {
    return executionInput;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return executionInput;
  if ("params" in parsed) return executionInput;
  return JSON.stringify({ ...parsed, params: {} });
}
