import type {
  FinalizeHandler,
  FinalizeHandlerArguments,
  MetadataBearer,
  MiddlewareStack,
} from "@smithy/types";
import { ATTEMPT_MIDDLEWARE } from "./clients.js";

/** Thrown inside the SDK's retry loop to stop it: the call it would repeat already took effect. */
class AlreadyDone extends Error {
  constructor(readonly result: string) {
    super("The call being retried already took effect.");
    this.name = "AlreadyDone";
  }
}

export type OnceResult<T> = { sent: T; already?: undefined } | { sent?: undefined; already: string };

/**
 * Sends a call that creates something (a version) so that the SDK's own retry of it, after a
 * response that was lost on the way back, cannot create it twice: before every attempt but the
 * first, `check` looks whether the earlier attempt already did it, and if so the retrying stops
 * with what it made (its ARN). Throttled or failed attempts that did nothing are retried as usual.
 */
export async function sendOnce<Input extends object, Output extends MetadataBearer>(
  command: { middlewareStack: MiddlewareStack<Input, Output> },
  send: () => Promise<Output>,
  check: () => Promise<string | null>,
): Promise<OnceResult<Output>> {
  let attempts = 0;
  command.middlewareStack.addRelativeTo(
    (next: FinalizeHandler<Input, Output>) => async (args: FinalizeHandlerArguments<Input>) => {
      attempts += 1;
      if (attempts > 1) {
        const done = await check();
        if (done) throw new AlreadyDone(done);
      }
      return next(args);
    },
    { relation: "before", toMiddleware: ATTEMPT_MIDDLEWARE, name: "kedroSfnSendOnce", override: true },
  );
  try {
    return { sent: await send() };
  } catch (error) {
    if (error instanceof AlreadyDone) return { already: error.result };
    throw error;
  }
}
