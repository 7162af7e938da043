/**
 * `pipeline: a,b` and `pipeline: all`: the input read, the derived names, and the job in plan
 * mode on a pull request with the example's two pipelines (real inspection, one Python start-up,
 * no AWS credentials: plans against nothing deployed) posting one sticky comment with a section
 * per state machine through Octokit's real HTTP path to the local fake of GitHub's API.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Input } from "../src/constants.js";
import { UserError } from "../src/errors.js";
import { parseMarker } from "../src/github/marker.js";
import { buildPlanComment } from "../src/github/stickyComment.js";
import { runJob } from "../src/job.js";
import { parseOptions, type Options } from "../src/options.js";
import { planGroupOf } from "../src/report/planGroup.js";
import { checkDerivedNames, optionsForPipeline, parsePipelineSelection } from "../src/stages/pipelines.js";
import { FakeGithub } from "./harness/fakeGithub.js";
import { noChanges } from "./harness/planViewFixtures.js";
import { EXAMPLE, PYTHON } from "./harness/python.js";
import { recordingIO } from "./harness/jobIO.js";

function options(values: Partial<Record<Input, string>>): Options {
  return parseOptions((name) => values[name] ?? "");
}

describe("the pipeline input", () => {
  it("reads one name as today, several in order, and all", () => {
    expect(parsePipelineSelection("")).toEqual({ several: false, name: "__default__" });
    expect(parsePipelineSelection("data_science")).toEqual({ several: false, name: "data_science" });
    expect(parsePipelineSelection(" b , a ")).toEqual({ several: true, names: ["b", "a"] });
    expect(parsePipelineSelection("all")).toEqual({ several: true, names: "all" });
  });

  it.each([
    ["a,,b", /'pipeline': 'a,,b' has an empty entry/],
    ["a,", /empty entry/],
    ["a,b,a", /'a' listed more than once/],
    ["all,a", /'all' cannot be listed with other names/],
  ])("refuses %s naming the input", (raw, message) => {
    expect(() => parsePipelineSelection(raw)).toThrow(UserError);
    expect(() => parsePipelineSelection(raw)).toThrow(message);
  });

  it("derives one state machine and one function prefix per pipeline", () => {
    const base = options({ [Input.StateMachineName]: "sf", [Input.Label]: "prod" });
    const derived = optionsForPipeline(base, "data_science");
    expect(derived).toMatchObject({
      pipeline: "data_science",
      stateMachineName: "sf-data_science",
      // The default prefix (the state machine name) of the derived name.
      functionPrefix: "sf-data_science",
      label: "",
    });
    const prefixed = optionsForPipeline({ ...base, functionPrefix: "team" }, "a.b c");
    expect(prefixed).toMatchObject({ stateMachineName: "sf-a-b-c", functionPrefix: "team-a-b-c" });
    expect(() => checkDerivedNames(base, ["a.b", "a-b"])).toThrow(
      /'a.b' and 'a-b' would get the same state machine name 'sf-a-b'/,
    );
  });

  it("puts several plans under one marker whose hash covers all of them", () => {
    const a = { ...noChanges(), target: "sf-a", planHash: "1".repeat(64) };
    const b = { ...noChanges(), target: "sf-b", planHash: "2".repeat(64) };
    const group = planGroupOf("sf", ["a", "b"], [a, b]);
    const body = buildPlanComment(group).body;
    const parsed = parseMarker(body);
    expect(parsed.state === "ok" && parsed.marker).toMatchObject({ target: "sf", planHash: group.planHash });
    const other = planGroupOf("sf", ["a", "b"], [a, { ...b, planHash: "3".repeat(64) }]);
    expect(other.planHash).not.toBe(group.planHash);
    expect(planGroupOf("sf", ["b", "a"], [b, a]).planHash).not.toBe(group.planHash);
  });

  it("fits several sections into a small comment by dropping detail, never the marker", () => {
    const views = ["a", "b", "c"].map((p) => {
      const view = noChanges();
      return { ...view, target: `sf-${p}`, stateMachine: { ...view.stateMachine, name: `sf-${p}` } };
    });
    const group = planGroupOf("sf", ["a", "b", "c"], views);
    const full = buildPlanComment(group);
    expect(full.level).toBe("full");
    for (const maxBytes of [full.bytes - 1, 3_000, 900]) {
      const fitted = buildPlanComment(group, maxBytes);
      expect(fitted.bytes).toBeLessThanOrEqual(maxBytes);
      expect(fitted.level).not.toBe("full");
      const marker = parseMarker(fitted.body);
      expect(marker.state === "ok" && marker.marker.planHash).toBe(group.planHash);
      for (const p of ["a", "b", "c"]) expect(fitted.body).toContain(`\`sf-${p}\``);
    }
  });
});

let fake: FakeGithub;
const saved = { ...process.env };

function pullRequestEvent(): string {
  const file = join(mkdtempSync(join(tmpdir(), "event-")), "event.json");
  const repo = { id: 1, full_name: "org/repo" };
  writeFileSync(
    file,
    JSON.stringify({
      number: 8,
      pull_request: { number: 8, head: { sha: "a".repeat(40), repo }, base: { repo } },
      repository: repo,
    }),
  );
  return file;
}

function planOptions(pipeline: string): Options {
  return options({
    [Input.ProjectPath]: EXAMPLE,
    [Input.Python]: PYTHON,
    [Input.Pipeline]: pipeline,
    [Input.StateMachineName]: "spaceflights",
    [Input.EcrRepository]: "spaceflights",
    [Input.GithubToken]: "ghs_fake_token",
  });
}

describe("plan mode with several pipelines", () => {
  beforeAll(async () => {
    fake = await new FakeGithub().start();
    fake.addPullRequest("org", "repo", 8);
    for (const key of Object.keys(process.env)) if (key.startsWith("AWS_")) delete process.env[key];
    Object.assign(process.env, {
      GITHUB_EVENT_NAME: "pull_request",
      GITHUB_REPOSITORY: "org/repo",
      GITHUB_API_URL: fake.url,
      GITHUB_SHA: "b".repeat(40),
      GITHUB_EVENT_PATH: pullRequestEvent(),
      AWS_CONFIG_FILE: "/nonexistent",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
    });
  });

  afterAll(async () => {
    process.env = saved;
    await fake.close();
  });

  it("plans one state machine per pipeline in one comment with a section each", async () => {
    const recorded = recordingIO();
    const result = await runJob(planOptions("data_processing,data_science"), recorded);
    expect(result.failure).toBeUndefined();
    expect(result.pipelines?.map((p) => [p.pipeline, p.stateMachineName, p.state])).toEqual([
      ["data_processing", "spaceflights-data_processing", "planned"],
      ["data_science", "spaceflights-data_science", "planned"],
    ]);
    // One inspection (one Python start-up) for both; each pipeline compiled on its own.
    expect(result.timings.filter(([name]) => name.startsWith("inspect"))).toHaveLength(1);
    expect(result.timings.map(([name]) => name)).toContain("compile (data_science)");
    // 3 functions + the state machine each.
    expect(recorded.outputs.get("to-create")).toBe("8");
    const perPipeline = JSON.parse(recorded.outputs.get("pipelines") ?? "{}") as Record<
      string,
      Record<string, unknown>
    >;
    expect(Object.keys(perPipeline)).toEqual(["data_processing", "data_science"]);
    expect(perPipeline["data_science"]?.["to-create"]).toBe("4");
    expect(perPipeline["data_science"]?.["state-machine-name"]).toBe("spaceflights-data_science");
    const graphs = JSON.parse(recorded.outputs.get("graph") ?? "{}") as Record<string, { nodes: unknown[] }>;
    expect(graphs["data_processing"]?.nodes).toHaveLength(3);

    const comments = fake.commentsOn("org", "repo", 8);
    expect(comments).toHaveLength(1);
    const body = comments[0]?.body ?? "";
    const marker = parseMarker(body);
    expect(marker.state === "ok" && marker.marker.target).toBe("spaceflights");
    expect(marker.state === "ok" && marker.marker.planHash).toBe(recorded.outputs.get("plan-hash"));
    expect(body).toContain("### kedro-sfn plan for `spaceflights`");
    expect(body).toContain("2 pipelines");
    expect(body).toContain("### kedro-sfn plan for `spaceflights-data_processing`");
    expect(body).toContain("### kedro-sfn plan for `spaceflights-data_science`");
    // Function names per state machine: the prefixes differ, so they never collide.
    expect(body).toContain("spaceflights-data_science-data_science-train_model_node");
    expect(result.summary).toContain("### Pipeline `data_processing` → `spaceflights-data_processing`");
    expect(result.summary).toContain("### Pipeline `data_science` → `spaceflights-data_science`");

    // all = both, in the registry's order: the same plan, the same comment (updated in place).
    const again = recordingIO();
    await runJob(planOptions("all"), again);
    expect(again.outputs.get("plan-hash")).toBe(recorded.outputs.get("plan-hash"));
    expect(fake.commentsOn("org", "repo", 8)).toHaveLength(1);
  }, 180_000);

  it("refuses a pipeline that does not exist, naming the input and the registered ones", async () => {
    const result = await runJob(planOptions("data_science,reporting"), recordingIO());
    // As for one unknown pipeline: the inspector finds it out.
    expect(result.failure?.reason).toBe("inspect-failed");
    expect(result.failure?.message).toContain("no pipeline named 'reporting'");
    expect(result.failure?.message).toContain("Pipelines: __default__, data_processing, data_science.");
    expect(result.failure?.hint).toContain("'pipeline'");
    expect(result.pipelines).toBeUndefined();
  }, 120_000);

  it("refuses duplicates before the project is imported", async () => {
    const recorded = recordingIO();
    const result = await runJob(planOptions("data_science,data_science"), recorded);
    expect(result.failure?.reason).toBe("bad-input");
    expect(result.failure?.message).toBe("Input 'pipeline': 'data_science' listed more than once.");
    expect(recorded.infos.some((l) => l.startsWith("Inspected "))).toBe(false);
  });
});
