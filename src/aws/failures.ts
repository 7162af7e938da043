import { UserError, errorMessage } from "../errors.js";
import { Input } from "../constants.js";

/** The SDK's error name (`ResourceNotFoundException`), or "" for non-AWS errors. */
export function awsErrorName(error: unknown): string {
  if (error && typeof error === "object" && "name" in error && typeof error.name === "string")
    return error.name;
  return "";
}

export function isAwsError(error: unknown, ...names: string[]): boolean {
  return names.includes(awsErrorName(error));
}

const EXPIRED = new Set([
  "ExpiredTokenException",
  "ExpiredToken",
  "RequestExpired",
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
]);

/** No credentials anywhere in the SDK's chain (not: credentials AWS rejects). */
export function isMissingCredentials(error: unknown): boolean {
  return (
    awsErrorName(error) === "CredentialsProviderError" ||
    /Could not load credentials from any providers/i.test(errorMessage(error))
  );
}

export interface FailureContext {
  /** What we were doing, e.g. `update function spaceflights-train`. */
  doing: string;
  lambdaRoleArn?: string;
  stateMachineRoleArn?: string;
  stateMachineName?: string;
  /** The call sent a state machine definition: an unreadable 400 is most likely a rejected one. */
  sentDefinition?: boolean;
  /** The input that named the resource (a missing bucket is that input's to fix). */
  input?: string;
  /** The S3 bucket the call used. */
  bucket?: string;
}

const THROTTLED = new Set([
  "ThrottlingException",
  "Throttling",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "ProvisionedThroughputExceededException",
]);

/** Throttled after the SDK's own retries (it retries these with backoff before giving up). */
export function isThrottled(error: unknown): boolean {
  return THROTTLED.has(awsErrorName(error)) || httpStatusOf(error) === 429;
}

function httpStatusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

function attemptsOf(error: unknown): string {
  const attempts = (error as { $metadata?: { attempts?: number } } | null)?.$metadata?.attempts;
  return typeof attempts === "number" && attempts > 1 ? ` after ${attempts} attempts` : "";
}

/**
 * Turns AWS errors a user can act on into UserErrors that name the input or resource at fault;
 * everything else is wrapped with context and the AWS message kept.
 */
export function explainAwsError(error: unknown, context: FailureContext): Error {
  if (error instanceof UserError) return error;
  const name = awsErrorName(error);
  const message = errorMessage(error);
  if (isMissingCredentials(error)) {
    return new UserError(`No AWS credentials: could not ${context.doing}.`, {
      hint: "Add aws-actions/configure-aws-credentials before this step (or set AWS credentials for the command line).",
      cause: error,
    });
  }
  if (EXPIRED.has(name)) {
    return new UserError(
      `AWS rejected the credentials while trying to ${context.doing}: ${name}: ${message}`,
      {
        hint: "The session has probably expired: re-run the job, or raise role-duration-seconds in aws-actions/configure-aws-credentials.",
        cause: error,
      },
    );
  }
  if (
    context.sentDefinition &&
    name === "AccessDeniedException" &&
    /assume the provided role/i.test(message)
  ) {
    return new UserError(
      `Input '${Input.StateMachineRoleArn}': Step Functions cannot use role ${context.stateMachineRoleArn ?? "(unknown)"}: ${message}`,
      {
        hint: "Check that the role exists in this account and trusts states.amazonaws.com (docs/iam/state-machine-role.json).",
        cause: error,
      },
    );
  }
  if (name === "AccessDeniedException" || name === "AccessDenied") {
    return new UserError(`AWS denied access while trying to ${context.doing}: ${message}`, {
      hint: "Compare the deploy role's policy with docs/iam/deploy-role.json.",
      cause: error,
    });
  }
  if (name === "InvalidParameterValueException" && /role/i.test(message)) {
    return new UserError(
      `Input '${Input.LambdaRoleArn}': Lambda cannot use role ${context.lambdaRoleArn ?? "(unknown)"}: ${message}`,
      {
        hint: "Check that the role exists in this account and trusts lambda.amazonaws.com (docs/iam/lambda-execution-role.json).",
        cause: error,
      },
    );
  }
  if (name === "InvalidArn" && /role/i.test(message)) {
    return new UserError(
      `Input '${Input.StateMachineRoleArn}': Step Functions cannot use role ${context.stateMachineRoleArn ?? "(unknown)"}: ${message}`,
      {
        hint: "Check that the role exists in this account and trusts states.amazonaws.com (docs/iam/state-machine-role.json).",
        cause: error,
      },
    );
  }
  if (name === "InvalidName") {
    return new UserError(
      `Input '${Input.StateMachineName}': AWS rejected "${context.stateMachineName ?? ""}": ${message}`,
      { cause: error },
    );
  }
  if (name === "InvalidLoggingConfiguration") {
    return new UserError(`Input '${Input.LogGroupArn}': AWS rejected the logging configuration: ${message}`, {
      hint: "The log group must exist, and the state machine role needs the log delivery permissions in docs/iam/state-machine-role.json.",
      cause: error,
    });
  }
  if (isThrottled(error)) {
    return new UserError(
      `AWS kept throttling the request to ${context.doing}${attemptsOf(error)} (${name || "HTTP 429"}: ${message}).`,
      {
        hint: "The account's API quota is in use (another deploy, or many functions at once): re-run the job later; nothing half-done is lost, the next deploy finishes what this one started.",
        cause: error,
      },
    );
  }
  if (name === "NoSuchBucket") {
    const where = context.input ? `Input '${context.input}': ` : "";
    return new UserError(
      `${where}the S3 bucket "${context.bucket ?? "?"}" does not exist: could not ${context.doing}.`,
      {
        hint: "Create the bucket in this account (the action does not create buckets), or fix the bucket name.",
        cause: error,
      },
    );
  }
  if (name === "InvalidDefinition") {
    const states = offendingStates(message);
    const where =
      states.length > 0
        ? ` (state${states.length > 1 ? "s" : ""} ${states.map((s) => `"${s}"`).join(", ")})`
        : "";
    return new UserError(`AWS rejected the state machine definition${where}: ${message}`, {
      hint: "This is a compiler bug unless the pipeline uses a feature Step Functions lacks: please report it with the plan output.",
      cause: error,
    });
  }
  const status = httpStatusOf(error);
  if (context.sentDefinition && status === 400) {
    // Emulators answer with an error body the SDK cannot parse; AWS itself says InvalidDefinition.
    return new UserError(
      `AWS rejected the state machine definition or settings (HTTP 400; the error body could not be read: ${message}).`,
      {
        hint: "Check the definition with the plan output; this is a compiler bug unless the pipeline uses a feature Step Functions lacks.",
        cause: error,
      },
    );
  }
  if (status !== undefined && status >= 500) {
    return new UserError(
      `AWS failed to ${context.doing}${attemptsOf(error)}: HTTP ${status}${name ? ` ${name}` : ""}: ${message}`,
      {
        hint: "An AWS-side error that outlasted the retries: re-run the job; the next deploy finishes what this one started.",
        cause: error,
      },
    );
  }
  return new Error(`Could not ${context.doing}: ${name ? `${name}: ` : ""}${message}`, { cause: error });
}

/** State names in a Step Functions validation message (`... at /States/train/Next`). */
export function offendingStates(message: string): string[] {
  const names = new Set<string>();
  for (const match of message.matchAll(/\/States\/([^/\s'",]+)/g))
    if (match[1]) names.add(match[1].replace(/~1/g, "/").replace(/~0/g, "~"));
  for (const match of message.matchAll(/(?:state|State) ['"]([^'"]+)['"]/g))
    if (match[1]) names.add(match[1]);
  return [...names];
}
