import { describe, expect, it } from "@jest/globals";
import { parseArgs } from "../src/cli/args.js";

const known = new Set([
  "project-path",
  "kedro-env",
  "pipeline",
  "wait-for-execution",
  "graph",
  "json",
  "prune",
]);

describe("parseArgs", () => {
  it("maps short spellings onto input names and reads --flag=value", () => {
    const { command, flags } = parseArgs(
      ["inspect", "--project", "p", "--env=base", "--pipeline", "dp"],
      known,
    );
    expect(command).toBe("inspect");
    expect(Object.fromEntries(flags)).toEqual({ "project-path": "p", "kedro-env": "base", pipeline: "dp" });
  });

  it("treats switches without a value as true", () => {
    const { flags } = parseArgs(["run", "--wait", "--json", "--prune", "false"], known);
    expect(Object.fromEntries(flags)).toEqual({ "wait-for-execution": "true", json: "true", prune: "false" });
  });

  it("names an unknown flag and a missing value", () => {
    expect(() => parseArgs(["inspect", "--colour", "red"], known)).toThrow(
      /Unknown flag --colour for 'kedro-sfn inspect'/,
    );
    expect(() => parseArgs(["inspect", "--pipeline"], known)).toThrow(/--pipeline needs a value/);
    expect(() => parseArgs(["inspect", "stray"], known)).toThrow(/Unexpected argument 'stray'/);
  });
});
