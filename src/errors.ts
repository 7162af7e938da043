/**
 * A mistake the user can fix. The message says what is wrong and where; `hint`
 * says what to do. Entry points print these without a stack trace.
 */
export class UserError extends Error {
  readonly hint: string | undefined;
  /** Where the problem is, when it points at a file (for annotations). */
  readonly file: string | undefined;
  /** The `failure-reason` when it is not the stage's own (see failureReason.ts). */
  readonly reason: string | undefined;

  constructor(
    message: string,
    options: { hint?: string; file?: string; cause?: unknown; reason?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "UserError";
    this.hint = options.hint;
    this.file = options.file;
    this.reason = options.reason;
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The text shown to a user: message plus hint, without a stack for UserError. */
export function describeError(error: unknown): string {
  if (error instanceof UserError) return error.hint ? `${error.message}\n${error.hint}` : error.message;
  if (error instanceof Error) return error.stack ?? error.message;
  return String(error);
}
