import { setTimeout as sleep } from "node:timers/promises";

/**
 * Lambda's control plane (every call but GetFunction) allows about 15 requests per second per
 * account. The limiter keeps one below that, leaving room for clock jitter between us and AWS.
 */
export const LAMBDA_CONTROL_PLANE_PER_SECOND = 14;

export interface RateLimiter {
  /** Resolves when one more call may start. */
  acquire(): Promise<void>;
}

export interface RateLimiterOptions {
  perSecond: number;
  /** Window length; calls started within any window never exceed perSecond. */
  windowMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * A sliding-window limiter: at most `perSecond` starts in any window, granted in call order.
 * A sliding window (rather than a token bucket with a burst) never exceeds the rate over any
 * second, which is how AWS counts.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const windowMs = options.windowMs ?? 1000;
  const now = options.now ?? Date.now;
  const wait = options.sleep ?? ((ms: number) => sleep(ms));
  const starts: number[] = [];
  let queue: Promise<void> = Promise.resolve();

  const grant = async (): Promise<void> => {
    for (;;) {
      const time = now();
      while (starts.length > 0 && (starts[0] ?? 0) <= time - windowMs) starts.shift();
      if (starts.length < options.perSecond) {
        starts.push(time);
        return;
      }
      await wait((starts[0] ?? time) + windowMs - time);
    }
  };

  return {
    acquire(): Promise<void> {
      const turn = queue.then(grant);
      queue = turn.catch(() => undefined);
      return turn;
    },
  };
}

/**
 * Runs `task` over `items` with at most `concurrency` in flight. On the first failure no new item
 * starts; items already running finish (so nothing is left half-done), then the first error is
 * thrown. Results keep the order of `items`.
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      const index = next;
      next += 1;
      try {
        results[index] = await task(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
  return results;
}
