import { createHash } from "node:crypto";
import { stableStringify } from "../canonicalJson.js";

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A short content hash of canonical JSON: enough to tell two specs apart, short enough for a Description. */
export function shortHash(value: unknown, length = 16): string {
  return sha256Hex(stableStringify(value)).slice(0, length);
}
