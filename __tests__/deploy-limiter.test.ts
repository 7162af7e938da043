/** The client-side limiter and the bounded pool the apply uses (fake clock: instant). */
import { describe, expect, it } from "@jest/globals";
import { ListFunctionsCommand, GetFunctionCommand } from "@aws-sdk/client-lambda";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createAwsClients, iamActionOf, isReadOperation } from "../src/aws/clients.js";
import { createRateLimiter, mapWithConcurrency, type RateLimiter } from "../src/aws/limiter.js";

function fakeClock() {
  let time = 0;
  return {
    now: () => time,
    sleep: (ms: number) => {
      time += ms;
      return Promise.resolve();
    },
  };
}

describe("createRateLimiter", () => {
  it("starts at most perSecond calls in any one-second window, in call order", async () => {
    const clock = fakeClock();
    const limiter = createRateLimiter({ perSecond: 14, ...clock });
    const starts: number[] = [];
    await Promise.all(
      Array.from({ length: 100 }, (_, index) =>
        limiter.acquire().then(() => starts.push(index === starts.length ? clock.now() : -1)),
      ),
    );
    expect(starts).not.toContain(-1);
    for (let i = 14; i < starts.length; i += 1)
      expect((starts[i] ?? 0) - (starts[i - 14] ?? 0)).toBeGreaterThanOrEqual(1000);
    // 100 calls at 14/s: the last starts after floor(99/14) = 7 windows.
    expect(starts[99]).toBe(7000);
  });

  it("does not wait while under the rate", async () => {
    const clock = fakeClock();
    const limiter = createRateLimiter({ perSecond: 5, ...clock });
    for (let i = 0; i < 5; i += 1) await limiter.acquire();
    expect(clock.now()).toBe(0);
  });
});

describe("mapWithConcurrency", () => {
  it("keeps order and never exceeds the bound", async () => {
    let running = 0;
    let peak = 0;
    const results = await mapWithConcurrency([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 5 * (8 - item)));
      running -= 1;
      return item * 10;
    });
    expect(results).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(peak).toBe(3);
  });

  it("starts nothing new after a failure, lets running items finish, then throws the first error", async () => {
    const finished: number[] = [];
    const attempt = mapWithConcurrency([1, 2, 3, 4, 5], 2, async (item) => {
      if (item === 1) throw new Error("one failed");
      await new Promise((resolve) => setTimeout(resolve, 10));
      finished.push(item);
      return item;
    });
    await expect(attempt).rejects.toThrow("one failed");
    expect(finished).toEqual([2]);
  });
});

describe("client factory", () => {
  it("names IAM actions, including the ones that differ from the API", () => {
    expect(iamActionOf("LambdaClient", "UpdateFunctionCodeCommand").iamAction).toBe(
      "lambda:UpdateFunctionCode",
    );
    expect(iamActionOf("SFNClient", "UpdateStateMachineCommand").iamAction).toBe("states:UpdateStateMachine");
    expect(iamActionOf("S3Client", "ListObjectsV2Command").iamAction).toBe("s3:ListBucket");
    expect(isReadOperation("ListTags")).toBe(true);
    expect(isReadOperation("TagResource")).toBe(false);
  });

  it("paces Lambda control-plane calls through the limiter, but not GetFunction", async () => {
    const acquired: string[] = [];
    const limiter: RateLimiter = { acquire: () => Promise.resolve(void acquired.push("token")) };
    const operations: string[] = [];
    const clients = await createAwsClients({
      region: "eu-west-1",
      endpoint: "http://127.0.0.1:9", // nothing listens: the recorder sees the attempt fail
      credentials: { accessKeyId: "x", secretAccessKey: "y" },
      lambdaLimiter: limiter,
      maxAttempts: 1,
      recorders: [{ record: (call) => void operations.push(`${call.iamAction}:${call.ok}`) }],
    });
    try {
      await expect(clients.lambda.send(new ListFunctionsCommand({}))).rejects.toThrow();
      await expect(clients.lambda.send(new GetFunctionCommand({ FunctionName: "f" }))).rejects.toThrow();
    } finally {
      clients.destroy();
    }
    expect(acquired).toHaveLength(1);
    expect(operations).toEqual(["lambda:ListFunctions:false", "lambda:GetFunction:false"]);
  });

  it("takes the endpoint from AWS_ENDPOINT_URL through the SDK itself", async () => {
    const paths: string[] = [];
    const server = createServer((request, response) => {
      paths.push(`${request.method} ${request.url}`);
      response.writeHead(200, { "Content-Type": "application/json" }).end('{"Functions": []}');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const saved = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const clients = await createAwsClients({
        region: "eu-west-1",
        credentials: { accessKeyId: "x", secretAccessKey: "y" },
      });
      await clients.lambda.send(new ListFunctionsCommand({ MaxItems: 50 }));
      clients.destroy();
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL;
      else process.env.AWS_ENDPOINT_URL = saved;
      server.close();
    }
    expect(paths).toEqual(["GET /2015-03-31/functions?MaxItems=50"]);
  });
});
