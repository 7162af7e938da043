import { describe, expect, it } from "@jest/globals";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { catalogEntryLines, lineOfDataset } from "../src/kedro/catalogLines.js";

function catalog(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "catalog-")), "catalog.yml");
  writeFileSync(file, text);
  return file;
}

describe("catalogEntryLines", () => {
  it("gives each top-level dataset its 1-based line, transcoded spellings included", () => {
    const file = catalog(
      [
        "# raw data",
        "companies:",
        "  type: pandas.CSVDataset",
        "  filepath: s3://bucket/companies.csv",
        "",
        "model_input_table@spark:",
        "  type: spark.SparkDataset",
        '"{name}_plot":',
        "  type: plotly.JSONDataset",
      ].join("\n"),
    );
    const lines = catalogEntryLines(file);
    expect(lines.get("companies")).toBe(2);
    expect(lineOfDataset(lines, "model_input_table")).toBe(6);
    expect(lineOfDataset(lines, "model_input_table@pandas")).toBe(6);
    expect(lines.get("{name}_plot")).toBe(8);
    expect(lineOfDataset(lines, "shuttles")).toBeUndefined();
  });

  it("gives no lines for a missing or broken file (the annotation names the file alone)", () => {
    expect(catalogEntryLines("/nonexistent/catalog.yml").size).toBe(0);
    expect(catalogEntryLines(catalog("a: [unclosed\n")).size).toBe(0);
  });
});
