import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local stand-in for the GitHub REST endpoints the action calls, served over
 * HTTP so Octokit's real request, error and pagination code runs against it:
 * GET /user, issue comments (list with Link headers, create, update, delete)
 * and the pull requests of a commit. Limits and errors follow GitHub's.
 */

export const BODY_MAX_CHARS = 65_536;

export interface FakeComment {
  id: number;
  key: string;
  body: string;
  login: string;
  created_at: string;
  updated_at: string;
}

export interface FakePullRequest {
  number: number;
  state: "open" | "closed";
  merged_at: string | null;
  merge_commit_sha: string | null;
  title: string;
  base: { ref: string };
  head: { ref: string; sha: string };
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  status: number;
}

interface Fault {
  method: string;
  path: RegExp;
  status: number;
  message: string;
  times: number;
}

export interface FakeGithubOptions {
  /** Login of the token; null makes GET /user answer 403 as for the Actions token. Default null. */
  login?: string | null;
  /** Writes answer 403, as with a fork's read-only token. */
  readOnly?: boolean;
}

export class FakeGithub {
  url = "";
  readonly requests: RecordedRequest[] = [];
  readonly comments = new Map<number, FakeComment>();
  readonly pullsByCommit = new Map<string, FakePullRequest[]>();
  readonly issues = new Set<string>();
  login: string | null;
  readOnly: boolean;
  private nextId = 1000;
  private clock = Date.parse("2025-01-01T00:00:00Z");
  private faults: Fault[] = [];
  /** Runs before each request is answered: lets a test act as a concurrent run. */
  beforeRequest: ((method: string, path: string) => void) | undefined;
  private server: Server | undefined;

  constructor(options: FakeGithubOptions = {}) {
    this.login = options.login ?? null;
    this.readOnly = options.readOnly ?? false;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.server?.close((e) => (e ? reject(e) : resolve())));
  }

  /** The login comments are written as: the token's, or the Actions bot's. */
  get author(): string {
    return this.login ?? "github-actions[bot]";
  }

  addPullRequest(owner: string, repo: string, number: number): void {
    this.issues.add(`${owner}/${repo}#${number}`);
  }

  /** Seeds a comment as if written earlier, by `login` (default: the token's identity). */
  addComment(owner: string, repo: string, number: number, body: string, login = this.author): FakeComment {
    this.addPullRequest(owner, repo, number);
    const at = this.tick();
    const comment = {
      id: this.nextId++,
      key: `${owner}/${repo}#${number}`,
      body,
      login,
      created_at: at,
      updated_at: at,
    };
    this.comments.set(comment.id, comment);
    return comment;
  }

  commentsOn(owner: string, repo: string, number: number): FakeComment[] {
    const key = `${owner}/${repo}#${number}`;
    return [...this.comments.values()].filter((c) => c.key === key).sort((a, b) => a.id - b.id);
  }

  /** The next `times` matching requests answer `status` with `message`. */
  fail(method: string, path: RegExp, status: number, message: string, times = 1): void {
    this.faults.push({ method, path, status, message, times });
  }

  count(method: string, path: RegExp): number {
    return this.requests.filter((r) => r.method === method && path.test(r.path)).length;
  }

  private tick(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const method = req.method ?? "GET";
    const raw = await readBody(req);
    const send = (status: number, data?: unknown, headers: Record<string, string> = {}): void => {
      this.requests.push({ method, path: url.pathname, query: url.search, status });
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
      res.end(data === undefined ? "" : JSON.stringify(data));
    };
    const error = (status: number, message: string, extra: Record<string, unknown> = {}): void =>
      send(status, { message, documentation_url: "https://docs.github.com/rest", ...extra });

    if (!req.headers.authorization) return error(401, "Requires authentication");
    this.beforeRequest?.(method, url.pathname);
    const fault = this.faults.find((f) => f.method === method && f.path.test(url.pathname) && f.times > 0);
    if (fault) {
      fault.times--;
      return error(fault.status, fault.message);
    }

    let m: RegExpMatchArray | null;
    if (method === "GET" && url.pathname === "/user") {
      if (this.login === null) return error(403, "Resource not accessible by integration");
      return send(200, { login: this.login, id: 1, type: "User" });
    }
    if ((m = url.pathname.match(/^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/))) {
      const [owner, repo, number] = [m[1] ?? "", m[2] ?? "", Number(m[3])];
      const key = `${owner}/${repo}#${number}`;
      if (!this.issues.has(key)) return error(404, "Not Found");
      if (method === "GET") {
        const all = this.commentsOn(owner, repo, number).map((c) => this.render(c));
        return this.sendPage(url, all, send);
      }
      if (method === "POST") {
        if (this.readOnly) return error(403, "Resource not accessible by integration");
        const body = parseBody(raw);
        const invalid = validateBody(body);
        if (invalid) return error(422, "Validation Failed", invalid);
        return send(201, this.render(this.addComment(owner, repo, number, body as string)));
      }
    }
    if ((m = url.pathname.match(/^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/))) {
      const comment = this.comments.get(Number(m[3]));
      if (!comment) return error(404, "Not Found");
      if (this.readOnly && method !== "GET") return error(403, "Resource not accessible by integration");
      if (method === "PATCH") {
        const body = parseBody(raw);
        const invalid = validateBody(body);
        if (invalid) return error(422, "Validation Failed", invalid);
        comment.body = body as string;
        comment.updated_at = this.tick();
        return send(200, this.render(comment));
      }
      if (method === "DELETE") {
        this.comments.delete(comment.id);
        return send(204);
      }
      if (method === "GET") return send(200, this.render(comment));
    }
    if (
      method === "GET" &&
      (m = url.pathname.match(/^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/pulls$/))
    ) {
      const pulls = (this.pullsByCommit.get(m[3] ?? "") ?? []).map((p) => ({
        ...p,
        html_url: `https://github.com/${m?.[1]}/${m?.[2]}/pull/${p.number}`,
      }));
      return this.sendPage(url, pulls, send);
    }
    return error(404, "Not Found");
  }

  /** Pages as GitHub does: `per_page` (default 30, at most 100), `page`, and a Link header. */
  private sendPage(
    url: URL,
    items: unknown[],
    send: (status: number, data: unknown, headers?: Record<string, string>) => void,
  ): void {
    const perPage = Math.min(100, Number(url.searchParams.get("per_page") ?? 30) || 30);
    const page = Math.max(1, Number(url.searchParams.get("page") ?? 1) || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (p: number, rel: string): string => {
      const target = new URL(url.toString());
      target.searchParams.set("per_page", String(perPage));
      target.searchParams.set("page", String(p));
      return `<${target.toString()}>; rel="${rel}"`;
    };
    const rels: string[] = [];
    if (page < last) rels.push(link(page + 1, "next"), link(last, "last"));
    if (page > 1) rels.push(link(1, "first"), link(page - 1, "prev"));
    send(
      200,
      items.slice((page - 1) * perPage, page * perPage),
      rels.length ? { link: rels.join(", ") } : {},
    );
  }

  private render(c: FakeComment): Record<string, unknown> {
    const [repoPath, number] = c.key.split("#");
    return {
      id: c.id,
      node_id: `IC_${c.id}`,
      body: c.body,
      user: { login: c.login, id: 1, type: c.login.endsWith("[bot]") ? "Bot" : "User" },
      created_at: c.created_at,
      updated_at: c.updated_at,
      html_url: `https://github.com/${repoPath}/pull/${number}#issuecomment-${c.id}`,
      issue_url: `${this.url}/repos/${repoPath}/issues/${number}`,
      author_association: "MEMBER",
    };
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseBody(raw: string): unknown {
  try {
    return (JSON.parse(raw) as { body?: unknown }).body;
  } catch {
    return undefined;
  }
}

/** GitHub counts the limit in characters (code points). */
function validateBody(body: unknown): Record<string, unknown> | undefined {
  if (typeof body !== "string" || body === "") {
    return { errors: [{ resource: "IssueComment", code: "missing_field", field: "body" }] };
  }
  if ([...body].length > BODY_MAX_CHARS) {
    return {
      errors: [
        {
          resource: "IssueComment",
          code: "custom",
          field: "body",
          message: `body is too long (maximum is ${BODY_MAX_CHARS} characters)`,
        },
      ],
    };
  }
  return undefined;
}
