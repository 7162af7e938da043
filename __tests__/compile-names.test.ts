import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { UserError } from "../src/errors.js";
import {
  functionNames,
  functionPrefixOf,
  shortHash,
  StateNames,
  taskStateNames,
} from "../src/compile/names.js";

const item = (label: string) => ({ label, identity: label });

describe("function names", () => {
  it("read like the node names", () => {
    expect(functionNames("spaceflights", [item("data_science.train_model_node"), item("report")])).toEqual([
      "spaceflights-data_science-train_model_node",
      "spaceflights-report",
    ]);
  });

  it("hash what sanitising would lose, and shorten long names keeping both ends", () => {
    const [odd, long] = functionNames("sm", [
      item("train: model(x) -> y"),
      item(`ns.${"very_long_segment_".repeat(6)}end_node`),
    ]);
    expect(odd).toBe(`sm-train__model_x__-__y-${shortHash("train: model(x) -> y")}`);
    expect(long).toMatch(/^sm-ns-very_long_.*_end_node-[0-9a-f]{8}$/);
    expect(long?.length).toBe(64);
  });

  it("never collide, case included, and hash only the names that would", () => {
    const names = functionNames("p", [item("a.b"), item("a-b"), item("A-B"), item("c")]);
    expect(names[3]).toBe("p-c");
    expect(names.slice(0, 3).every((n) => /^p-a-b-[0-9a-f]{8}$/i.test(n))).toBe(true);
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(4);
  });

  it("are stable: a node's name does not depend on its neighbours unless they collide", () => {
    const alone = functionNames("p", [item("x.y")]);
    const withOthers = functionNames("p", [item("z"), item("x.y"), item("w")]);
    expect(withOthers[1]).toBe(alone[0]);
  });

  it("always fit Lambda's rules", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 120 }), { minLength: 1, maxLength: 30 }),
        (labels) => {
          const unique = [...new Set(labels)];
          const names = functionNames("my-machine", unique.map(item));
          for (const n of names) expect(n).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
          expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(unique.length);
        },
      ),
    );
  });

  it("take a Lambda-safe prefix, and refuse one that leaves no room", () => {
    expect(functionPrefixOf("my.state machine")).toBe("my-state-machine");
    expect(() => functionPrefixOf("x".repeat(41))).toThrow(UserError);
    expect(() => functionPrefixOf("...")).toThrow(/no letters or digits/);
  });
});

describe("state names", () => {
  it("keep node names, and stay unique within the limit", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 150 }), { minLength: 1, maxLength: 30 }),
        (labels) => {
          const unique = [...new Set(labels)];
          const names = taskStateNames(unique.map(item), 73);
          for (const n of names) expect(n.length).toBeLessThanOrEqual(73);
          expect(new Set(names).size).toBe(unique.length);
        },
      ),
    );
    expect(taskStateNames([item("data_science.train_model_node")], 73)).toEqual([
      "data_science.train_model_node",
    ]);
  });

  it("hand out further names that avoid every name taken", () => {
    const names = new StateNames(["Prepare input"]);
    const a = names.allocate("Prepare input", "x");
    const b = names.allocate("Prepare input", "x");
    expect(a).toMatch(/^Prepare input [0-9a-f]{8}$/);
    expect(b).not.toBe(a);
    expect(names.allocate("P".repeat(200), "y").length).toBeLessThanOrEqual(80);
  });
});
