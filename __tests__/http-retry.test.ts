/**
 * Registry HTTP and GitHub calls retry rate limits, server errors and connection resets with
 * backoff, against real local HTTP servers: one that fails twice (a 503, then a reset socket)
 * before answering, GitHub's fake failing twice with 502, and a secondary rate limit (403 with
 * retry-after). Answers that another attempt cannot change are not retried.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DEFAULT_HTTP_RETRY, retryDelayMs, type RetryPolicy } from "../src/backoff.js";
import { createGitHubClient } from "../src/github/client.js";
import { RegistryClient } from "../src/image/registry.js";
import { FakeGithub } from "./harness/fakeGithub.js";

/** Real waits are recorded, not slept: the test checks the backoff grows without taking seconds. */
function recordingPolicy(): RetryPolicy & { waits: number[] } {
  const waits: number[] = [];
  return {
    ...DEFAULT_HTTP_RETRY,
    waits,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  };
}

type Handler = (req: IncomingMessage, res: ServerResponse, attempt: number) => void;
let server: Server | undefined;

async function serve(handler: Handler): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  server = createServer((req, res) => {
    requests.push(`${req.method ?? ""} ${req.url ?? ""}`);
    handler(req, res, requests.length);
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

const MANIFEST = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: `sha256:${"c".repeat(64)}`,
      size: 2,
    },
    layers: [],
  }),
);
const DIGEST = `sha256:${createHash("sha256").update(MANIFEST).digest("hex")}`;

describe("the registry client", () => {
  it("retries a 503 and a reset connection, then reads the manifest", async () => {
    const { url, requests } = await serve((_req, res, attempt) => {
      if (attempt === 1) {
        res.writeHead(503, { "retry-after": "1" });
        res.end("busy");
      } else if (attempt === 2) {
        res.socket?.destroy(); // a connection reset mid-request
      } else {
        res.writeHead(200, { "content-type": "application/vnd.oci.image.manifest.v1+json" });
        res.end(MANIFEST);
      }
    });
    const policy = recordingPolicy();
    const client = new RegistryClient({ host: url.slice(7), url }, "team/app", undefined, fetch, policy);
    const manifest = await client.getManifest(DIGEST);
    expect(manifest.digest).toBe(DIGEST);
    expect(requests).toEqual(Array<string>(3).fill(`GET /v2/team/app/manifests/${DIGEST}`));
    // The 503's retry-after (1 s), then the backoff's second step (between half and all of 2 x base).
    expect(policy.waits[0]).toBe(1000);
    expect(policy.waits[1]).toBeGreaterThanOrEqual(DEFAULT_HTTP_RETRY.baseDelayMs);
    expect(policy.waits[1]).toBeLessThanOrEqual(2 * DEFAULT_HTTP_RETRY.baseDelayMs);
  });

  it("gives up after the policy's attempts with the registry's last answer; a 404 is not retried", async () => {
    const { url, requests } = await serve((req, res) => {
      res.writeHead(req.url?.includes("missing") ? 404 : 502);
      res.end("bad gateway");
    });
    const client = new RegistryClient(
      { host: url.slice(7), url },
      "app",
      undefined,
      fetch,
      recordingPolicy(),
    );
    await expect(client.getManifest("latest")).rejects.toThrow(
      /could not read manifest app:latest: HTTP 502: bad gateway/,
    );
    expect(requests).toHaveLength(DEFAULT_HTTP_RETRY.attempts);
    await expect(client.headManifest("missing")).resolves.toBeUndefined();
    expect(requests).toHaveLength(DEFAULT_HTTP_RETRY.attempts + 1);
  });
});

describe("the GitHub client", () => {
  let fake: FakeGithub | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  it("retries two 502s from GitHub and lists the comments", async () => {
    fake = await new FakeGithub().start();
    fake.addPullRequest("org", "repo", 7);
    fake.fail("GET", /\/comments$/, 502, "Bad Gateway", 2);
    const policy = recordingPolicy();
    const octokit = createGitHubClient("ghs_fake", fake.url, policy);
    const listed = await octokit?.rest.issues.listComments({ owner: "org", repo: "repo", issue_number: 7 });
    expect(listed?.status).toBe(200);
    expect(fake.count("GET", /\/comments$/)).toBe(3);
    expect(policy.waits).toHaveLength(2);
  });

  it("waits out a secondary rate limit (403 with retry-after) but not a permission 403", async () => {
    const { url, requests } = await serve((req, res, attempt) => {
      if (req.url?.startsWith("/user")) {
        res.writeHead(403, { "content-type": "application/json" });
        return res.end(JSON.stringify({ message: "Resource not accessible by integration" }));
      }
      if (attempt === 1) {
        res.writeHead(403, { "content-type": "application/json", "retry-after": "3" });
        return res.end(JSON.stringify({ message: "You have exceeded a secondary rate limit." }));
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end("[]");
    });
    const policy = recordingPolicy();
    const octokit = createGitHubClient("ghs_fake", url, policy);
    await octokit?.rest.issues.listComments({ owner: "org", repo: "repo", issue_number: 7 });
    expect(policy.waits).toEqual([3000]);
    await expect(octokit?.rest.users.getAuthenticated()).rejects.toMatchObject({ status: 403 });
    expect(requests.filter((r) => r.startsWith("GET /user"))).toHaveLength(1);
  });

  it("caps the wait a server asks for", () => {
    expect(retryDelayMs(DEFAULT_HTTP_RETRY, 1, "3600")).toBe(DEFAULT_HTTP_RETRY.maxDelayMs);
  });
});
