import { createHash } from "node:crypto";

/**
 * JSON with object keys sorted at every level, so equal data gives equal text.
 * `undefined` members are dropped, as JSON.stringify does.
 */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : sortKeys(item)));
  if (value !== null && typeof value === "object") {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member !== undefined) sorted[key] = sortKeys(member);
    }
    return sorted;
  }
  return value;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A short content hash of canonical JSON: enough to tell two specs apart, short enough for a Description. */
export function shortHash(value: unknown, length = 16): string {
  return sha256Hex(stableStringify(value)).slice(0, length);
}
