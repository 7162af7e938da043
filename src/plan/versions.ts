import { imageDigestHex } from "./desired.js";
import type { DeployedState, FunctionPlan, OldVersionsPlan, StateMachinePlan } from "./types.js";

/**
 * A state machine version's description: the commit, the plan, and the image every Task of the
 * version runs (a deploy converges every function to one image before the switch), so a later
 * cleanup knows which images kept versions run without reading each function version.
 */
export function stateMachineVersionDescription(
  commitSha: string,
  planHash: string,
  imageUri: string,
): string {
  const digest = imageDigestHex(imageUri);
  return `kedro-sfn commit ${commitSha} plan ${planHash.slice(0, 12)}${digest ? ` image ${digest}` : ""}`;
}

/** The image digest (hex) a version description records, or null. */
export function versionImageDigest(description: string | undefined): string | null {
  return /(?:^| )image ([0-9a-f]{64})(?: |$)/.exec(description ?? "")?.[1] ?? null;
}

/** `keep-versions` when not given: state machine versions kept, the newest included. */
export const DEFAULT_KEEP_VERSIONS = 10;

/**
 * Which versions the cutover leaves unused: state machine versions beyond the newest `keep`
 * (the one this deploy publishes counted), and function versions that no kept state machine
 * version invokes. Step Functions allows 1,000 versions per state machine, so without this the
 * 1,001st deploy fails. Each function's newest version stays (a deploy may bind it again rather
 * than publish its twin), and nothing is deleted from what was not read: when a kept version's
 * definition could not be read, no function version is deleted at all.
 */
export function planOldVersions(
  deployed: DeployedState | null,
  functions: readonly FunctionPlan[],
  stateMachine: StateMachinePlan,
  options: { keep: number; imageUri: string },
): OldVersionsPlan {
  const { keep } = options;
  const machine = deployed?.stateMachine;
  const none: OldVersionsPlan = { keep, stateMachineVersions: [], functionVersions: [], keptImages: null };
  if (!machine?.versions) return none;
  const publishes = stateMachine.steps.includes("update") || stateMachine.steps.includes("create");
  const keptCount = Math.max(0, publishes ? keep - 1 : keep);
  const rollback = rollbackProtected(machine, stateMachine, publishes);
  const kept = machine.versions.filter((version, index) => index < keptCount || rollback.has(version.arn));
  const stateMachineVersions = machine.versions
    .filter((version) => !kept.includes(version))
    .filter((version) => publishes || version.arn !== stateMachine.currentVersionArn)
    .map((version) => version.arn);

  if (kept.some((version) => version.functionVersionArns === null))
    return { keep, stateMachineVersions, functionVersions: [], keptImages: null };
  const inUse = new Set<string>(kept.flatMap((version) => version.functionVersionArns ?? []));
  // What the state machine invokes now, published as a version or not (until the switch).
  for (const task of Object.values(machine.tasks)) inUse.add(task.versionArn);
  for (const fn of functions) if (fn.currentVersionArn) inUse.add(fn.currentVersionArn);
  const deleting = new Set(functions.filter((fn) => fn.action === "delete").map((fn) => fn.functionName));
  const functionVersions: string[] = [];
  const images = new Map<string, string | undefined>();
  for (const fn of deployed?.functions ?? []) {
    for (const version of fn.versions ?? []) images.set(version.arn, version.codeSha256);
    // A function deleted whole takes its versions with it.
    if (deleting.has(fn.functionName) || !fn.versions) continue;
    const newest = fn.versions.reduce((max, version) => Math.max(max, version.version), 0);
    for (const version of fn.versions)
      if (version.version !== newest && !inUse.has(version.arn)) functionVersions.push(version.arn);
  }
  return {
    keep,
    stateMachineVersions,
    functionVersions: functionVersions.sort(byVersionArn),
    keptImages: keptImages(inUse, images, options.imageUri),
  };
}

/**
 * Versions kept whatever `keep` says: the one the alias routes to now, and the one a rollback after
 * this deploy goes back to (the newest before the version the alias is left on). With them, the
 * function versions they invoke stay too (they count as kept).
 */
function rollbackProtected(
  machine: NonNullable<DeployedState["stateMachine"]>,
  stateMachine: StateMachinePlan,
  publishes: boolean,
): Set<string> {
  const keep = new Set<string>();
  const aliased = machine.alias?.versionArn;
  if (aliased) keep.add(aliased);
  const target = publishes ? null : stateMachine.currentVersionArn;
  if (target) keep.add(target);
  const targetNumber = target ? Number(target.slice(target.lastIndexOf(":") + 1)) : Number.POSITIVE_INFINITY;
  const previous = (machine.versions ?? []).find((version) => version.version < targetNumber);
  if (previous) keep.add(previous.arn);
  return keep;
}

/** The digests of every image a kept function version runs, or null if one is not known. */
function keptImages(
  inUse: ReadonlySet<string>,
  images: ReadonlyMap<string, string | undefined>,
  imageUri: string,
): string[] | null {
  const digests = new Set<string>();
  const desired = imageDigestHex(imageUri);
  if (!desired) return null;
  digests.add(`sha256:${desired}`);
  for (const arn of inUse) {
    const digest = images.get(arn);
    if (!digest || !/^[0-9a-f]{64}$/.test(digest)) return null;
    digests.add(`sha256:${digest}`);
  }
  return [...digests].sort();
}

/** By function, then by version number (not as text: 10 after 9). */
function byVersionArn(a: string, b: string): number {
  const split = (arn: string): [string, number] => {
    const at = arn.lastIndexOf(":");
    return [arn.slice(0, at), Number(arn.slice(at + 1))];
  };
  const [nameA, numberA] = split(a);
  const [nameB, numberB] = split(b);
  return nameA < nameB ? -1 : nameA > nameB ? 1 : numberA - numberB;
}
