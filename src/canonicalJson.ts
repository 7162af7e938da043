/** Object keys sorted at every depth (arrays keep their order): equal data, equal text. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/**
 * Canonical JSON, the one spelling used for hashes, comparisons, markers and
 * definitions: keys sorted, compact by default (deeply nested Parallel states
 * make the indented form several times larger); `indent` 2 for files people read.
 */
export function stableStringify(value: unknown, indent = 0): string {
  return JSON.stringify(sortKeys(value), null, indent);
}
