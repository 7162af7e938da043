import { stableStringify } from "../canonicalJson.js";
import type { DefinitionChange } from "./types.js";

/**
 * Structural differences between two JSON documents, as JSON Pointer paths in a stable order.
 * Objects are compared key by key; arrays of plain values as a whole (a node list reads better
 * that way), other arrays item by item.
 */
export function diffJson(before: unknown, after: unknown, path = ""): DefinitionChange[] {
  if (stableStringify(before) === stableStringify(after)) return [];
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => {
      const child = `${path}/${escapePointer(key)}`;
      if (!(key in after)) return [{ path: child, kind: "removed" as const, before: before[key] }];
      if (!(key in before)) return [{ path: child, kind: "added" as const, after: after[key] }];
      return diffJson(before[key], after[key], child);
    });
  }
  if (Array.isArray(before) && Array.isArray(after) && !(allPlain(before) && allPlain(after))) {
    const changes: DefinitionChange[] = [];
    for (let index = 0; index < Math.max(before.length, after.length); index += 1) {
      const child = `${path}/${index}`;
      if (index >= after.length) changes.push({ path: child, kind: "removed", before: before[index] });
      else if (index >= before.length) changes.push({ path: child, kind: "added", after: after[index] });
      else changes.push(...diffJson(before[index], after[index], child));
    }
    return changes;
  }
  return [{ path: path || "/", kind: "changed", before, after }];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function allPlain(values: unknown[]): boolean {
  return values.every((value) => value === null || typeof value !== "object");
}

function escapePointer(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}
