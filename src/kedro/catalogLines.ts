import { readFileSync } from "node:fs";
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";

/**
 * The line (1-based) of each top-level entry in a Kedro catalog file, so an
 * annotation lands on the dataset it is about. A file that is missing or does
 * not parse gives no lines: the annotation then points at the file alone.
 */
export function catalogEntryLines(file: string): Map<string, number> {
  const lines = new Map<string, number>();
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return lines;
  }
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  if (doc.errors.length > 0 || !isMap(doc.contents)) return lines;
  for (const item of doc.contents.items) {
    if (!isScalar(item.key) || item.key.range === undefined || item.key.range === null) continue;
    lines.set(String(item.key.value), counter.linePos(item.key.range[0]).line);
  }
  return lines;
}

/** The entry's line for `dataset`, also when the catalog spells it transcoded (`name@pandas`). */
export function lineOfDataset(lines: ReadonlyMap<string, number>, dataset: string): number | undefined {
  const exact = lines.get(dataset);
  if (exact !== undefined) return exact;
  for (const [key, line] of lines) if (key.split("@")[0] === dataset.split("@")[0]) return line;
  return undefined;
}
