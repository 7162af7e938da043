import { describe, expect, it } from "@jest/globals";
import { Input } from "../src/constants.js";
import { UserError } from "../src/errors.js";
import { parseOptions } from "../src/options.js";
import { resolveMode } from "../src/job.js";

const read =
  (values: Partial<Record<Input, string>>) =>
  (name: Input): string =>
    values[name] ?? "";

describe("parseOptions", () => {
  it("keeps data-location as an s3:// URL without a trailing slash, and names the input when it is not one", () => {
    expect(parseOptions(read({})).dataLocation).toBe("");
    expect(parseOptions(read({ [Input.DataLocation]: "s3://runs-bucket/kedro/" })).dataLocation).toBe(
      "s3://runs-bucket/kedro",
    );
    expect(() => parseOptions(read({ [Input.DataLocation]: "/tmp/runs" }))).toThrow(/Input 'data-location'/);
  });

  it("applies the documented defaults", () => {
    const o = parseOptions(read({ [Input.StateMachineName]: "spaceflights" }));
    expect(o).toMatchObject({
      projectPath: ".",
      pipeline: "__default__",
      kedroEnv: "aws",
      python: "python3",
      mode: "auto",
      functionPrefix: "spaceflights",
      groupBy: [],
      structure: "dag",
      memoryMb: 1024,
      timeoutSeconds: 900,
      architecture: "x86_64",
      prune: false,
      startExecution: false,
      commentOnPr: "true",
    });
  });

  it.each([
    [Input.Mode, "yolo", /'mode' must be one of auto, plan, deploy/],
    [Input.Prune, "yes", /'prune' must be true or false/],
    [Input.MemorySize, "64", /'memory-size' must be between 128 and 10240/],
    [Input.Timeout, "1000", /'timeout' must be between 1 and 900/],
    [Input.Timeout, "ten", /'timeout' must be a whole number/],
    [Input.GroupBy, "namespace,colour", /'group-by' must be one of namespace, memory/],
    [Input.ExecutionInput, "{not json", /'execution-input' is not valid JSON/],
    [Input.ExecutionInput, "[1]", /'execution-input' must be a JSON object/],
    [Input.ExecutionInput, '{"params": 3}', /"params" must be an object/],
    [Input.StateMachineName, "has space", /'state-machine-name' is not a valid Step Functions name/],
    [Input.StateMachineName, "x".repeat(81), /'state-machine-name' is not a valid/],
  ])("names the input at fault: %s=%s", (input, value, message) => {
    expect(() => parseOptions(read({ [input]: value }))).toThrow(UserError);
    expect(() => parseOptions(read({ [input]: value }))).toThrow(message);
  });

  it("keeps 10 state machine versions by default, and refuses fewer kept images than kept versions", () => {
    expect(parseOptions(read({}))).toMatchObject({ keepVersions: 10, keepImages: 30 });
    expect(parseOptions(read({ [Input.KeepVersions]: "3", [Input.KeepImages]: "3" }))).toMatchObject({
      keepVersions: 3,
      keepImages: 3,
    });
    const fewer = (): unknown => parseOptions(read({ [Input.KeepVersions]: "40" }));
    expect(fewer).toThrow(UserError);
    expect(fewer).toThrow("Input 'keep-images' (30) must be at least 'keep-versions' (40)");
    expect(() => parseOptions(read({ [Input.KeepVersions]: "1001" }))).toThrow(
      /'keep-versions' must be between 1 and 1000/,
    );
  });

  it("parses combined grouping, sorted and deduplicated", () => {
    expect(parseOptions(read({ [Input.GroupBy]: "memory, namespace,memory" })).groupBy).toEqual([
      "memory",
      "namespace",
    ]);
    expect(parseOptions(read({ [Input.GroupBy]: "none" })).groupBy).toEqual([]);
  });
});

describe("resolveMode", () => {
  it("plans on pull requests and deploys elsewhere", () => {
    expect(resolveMode("auto", "pull_request")).toBe("plan");
    expect(resolveMode("auto", "pull_request_target")).toBe("plan");
    expect(resolveMode("auto", "push")).toBe("deploy");
    expect(resolveMode("auto", "workflow_dispatch")).toBe("deploy");
    expect(resolveMode("plan", "push")).toBe("plan");
  });
});
