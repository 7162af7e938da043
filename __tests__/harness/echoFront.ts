/**
 * A fast Lambda front for moto (FACTS.md: MOTO_PORT on a small HTTP front): answers every Lambda
 * invoke itself, echoing the payload (no container per node, so thousands of Tasks run in
 * seconds), or with a Python error for the functions in `failing`; forwards everything else to
 * moto. moto's Step Functions engine calls this front for Lambda tasks and for the Step Functions
 * calls of `startExecution.sync:2` (both go to localhost:MOTO_PORT).
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

export interface EchoFront {
  port: number;
  /** Function names whose invokes fail with KeyError 'engines'. */
  failing: Set<string>;
  /** Function name -> milliseconds its invokes take (a node with a time of its own). */
  slow: Map<string, number>;
  /** Lambda invokes answered so far. */
  invokes(): number;
  /** Starts serving, forwarding non-Lambda requests to `motoEndpoint`. */
  listen(motoEndpoint: () => string): Promise<void>;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function echoFront(): Promise<EchoFront> {
  const port = await freePort();
  const failing = new Set<string>();
  const slow = new Map<string, number>();
  let invokes = 0;
  let server: Server | undefined;
  let moto: () => string = () => "";

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? "");
    if (req.method === "POST" && invoke) {
      invokes++;
      const raw = decodeURIComponent(invoke[1] as string);
      const fn = raw.startsWith("arn:") ? (raw.split(":")[6] as string) : (raw.split(":")[0] as string);
      const headers: Record<string, string> = { "Content-Type": "application/json" };
      let reply: string;
      const delayMs = slow.get(fn);
      if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (failing.has(fn)) {
        headers["X-Amz-Function-Error"] = "Unhandled";
        reply = JSON.stringify({ errorType: "KeyError", errorMessage: "'engines'", stackTrace: [] });
      } else reply = body.toString() || "{}";
      res.writeHead(200, { ...headers, "Content-Length": Buffer.byteLength(reply) });
      res.end(reply);
      return;
    }
    const target = new URL(moto());
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => {
      res.writeHead(502);
      res.end();
    });
    upstream.end(body);
  };

  return {
    port,
    failing,
    slow,
    invokes: () => invokes,
    async listen(motoEndpoint) {
      moto = motoEndpoint;
      server = createServer((req, res) => void handle(req, res));
      await new Promise<void>((resolve) => server?.listen(port, "127.0.0.1", resolve));
    },
    async close() {
      server?.closeAllConnections();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    },
  };
}
