import { createHash } from "node:crypto";
import { stableStringify as sortedJson } from "../compile/index.js";

/** Compact canonical JSON (sorted keys): equal data gives equal text, for hashing. */
export function stableStringify(value: unknown): string {
  return sortedJson(value, 0);
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A short content hash of canonical JSON: enough to tell two specs apart, short enough for a Description. */
export function shortHash(value: unknown, length = 16): string {
  return sha256Hex(stableStringify(value)).slice(0, length);
}
