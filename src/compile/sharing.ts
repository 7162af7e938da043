/**
 * Shared functions (`function-sharing: by-settings`): Lambda Tasks whose functions would be
 * configured alike run on one function, so its containers stay warm from node to node and a
 * code change updates a handful of functions instead of one per node. Each node keeps its own
 * Task state (its Payload.nodes); only Parameters.FunctionName is shared.
 */
import { stableStringify } from "../canonicalJson.js";
import { UserError } from "../errors.js";
import { MAX_FUNCTION_NAME, shortHash } from "./names.js";
import type { FunctionSettings } from "./types.js";

export type FunctionSharing = "per-node" | "by-settings";
export const FUNCTION_SHARINGS: readonly FunctionSharing[] = ["per-node", "by-settings"];

/**
 * Everything of a function's configuration that differs between the functions of one
 * deployment: memory, timeout, storage, architecture, environment. The role, the image and its
 * command are the deployment's (one of each for all functions), so they never split a group.
 */
export function sharingKey(settings: FunctionSettings): string {
  return stableStringify({
    memoryMb: settings.memoryMb,
    timeoutSeconds: settings.timeoutSeconds,
    ephemeralStorageMb: settings.ephemeralStorageMb,
    architecture: settings.architecture,
    environment: settings.environment,
  });
}

/**
 * `<prefix>-shared-<memory>mb-<hash of the settings>`: the same settings give the same name on
 * every deploy (whatever nodes come and go), and the memory says at a glance which one it is.
 * A 40-character prefix (MAX_FUNCTION_PREFIX) and 10,240 MB still fit Lambda's 64 characters.
 */
export function sharedFunctionName(prefix: string, settings: FunctionSettings): string {
  const name = `${prefix}-shared-${settings.memoryMb}mb-${shortHash(sharingKey(settings))}`;
  if (name.length > MAX_FUNCTION_NAME) {
    // Unreachable with a checked prefix and memory; a clear error beats a name AWS refuses.
    throw new Error(`internal: shared function name ${name} is longer than ${MAX_FUNCTION_NAME}`);
  }
  return name;
}

/** The value of the `function-sharing` input or of `functions.sharing` in sfn.yml, checked. */
export function parseFunctionSharing(value: unknown, where: string): FunctionSharing {
  if (typeof value === "string" && (FUNCTION_SHARINGS as readonly string[]).includes(value))
    return value as FunctionSharing;
  throw new UserError(
    `${where} must be one of ${FUNCTION_SHARINGS.join(", ")}; got ${JSON.stringify(value)}.`,
    {
      hint: "per-node (the default): one Lambda function per node. by-settings: nodes with the same memory, timeout, storage, architecture and environment share one function.",
    },
  );
}
