/**
 * A throttled history page against a real SFN client and a loopback server:
 * the SDK's own retry strategy absorbs it (aws-sdk-client-mock, used in
 * runHistory.test.ts, would bypass that retry, so this lives in its own file).
 */
import { describe, expect, test } from "@jest/globals";
import { SFNClient } from "@aws-sdk/client-sfn";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { readExecutionHistory } from "../src/run/history.js";

const ARN = "arn:aws:states:eu-west-1:123456789012:execution:spaceflights:run-1";

/** Two events as the wire carries them (timestamps in epoch seconds). */
const EVENTS = [
  { id: 1, type: "ExecutionStarted", timestamp: 1_767_000_000 },
  { id: 2, type: "ExecutionSucceeded", timestamp: 1_767_000_001, previousEventId: 1 },
];

describe("paging GetExecutionHistory through the SDK's retry", () => {
  test("a throttled page is retried by the SDK's own retry, not by a loop of ours", async () => {
    let calls = 0;
    const server = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        calls++;
        const throttled = calls <= 2;
        response.writeHead(throttled ? 400 : 200, { "Content-Type": "application/x-amz-json-1.0" });
        response.end(
          JSON.stringify(
            throttled ? { __type: "ThrottlingException", message: "Rate exceeded" } : { events: EVENTS },
          ),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const real = new SFNClient({
      region: "us-east-1",
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts: 4,
    });
    try {
      const events = await readExecutionHistory(real, ARN);
      expect(events.map((e) => e.type)).toEqual(["ExecutionStarted", "ExecutionSucceeded"]);
      expect(calls).toBe(3);
    } finally {
      real.destroy();
      server.close();
    }
  });
});
