import type { AslDefinition, FunctionSpec } from "../compile/types.js";
import { UserError } from "../errors.js";
import {
  bindChildMachines,
  bindDefinition,
  readableDefinition,
  shortFunctionReference,
  type TaskBinding,
} from "./bind.js";
import { keptChildVersions } from "./children.js";
import { stableStringify } from "../canonicalJson.js";
import { sha256Hex } from "./canonical.js";
import {
  BOOKKEEPING_TAGS,
  desiredHash,
  functionHashes,
  imageDigestHex,
  stateMachineTags,
  Tag,
  type FunctionHashes,
} from "./desired.js";
import { diffJson } from "./diff.js";
import { bindTaskDefinition, plannedTaskDefinitionArn, planTaskDefinition } from "./taskDefinitions.js";
import { DEFAULT_KEEP_VERSIONS, planOldVersions } from "./versions.js";
import { STATE_MACHINE_ALIAS } from "../constants.js";
import {
  PLAN_SCHEMA,
  type BoundTask,
  type DeployedFunction,
  type DeployedLogging,
  type DeployedState,
  type DeployedStateMachine,
  type DesiredDeployment,
  type FieldChange,
  type FunctionPlan,
  type FunctionStep,
  type Plan,
  type PlanSummary,
  type AliasPlan,
  type SchedulePlan,
  type StateMachinePlan,
  type TaskDefinitionPlan,
} from "./types.js";
import { planSchedule } from "./schedulePlan.js";

export interface PlanOptions {
  /** Delete functions of nodes that left the pipeline (after the state machine stops using them). */
  prune?: boolean;
  /** Shown with the plan, e.g. why AWS was not read. */
  note?: string | null;
  region?: string | null;
  /** State machine versions kept after the cutover (`keep-versions`), the new one included. */
  keepVersions?: number;
}

/** Placeholder for a version the apply has yet to publish. */
export const NEW_VERSION = "new";

/**
 * Desired vs deployed -> what to do. Pure: the same inputs give the same plan and hash.
 * `deployed` null means nothing is deployed (or AWS could not be read: say why in `note`).
 */
export function planDeployment(
  desired: DesiredDeployment,
  deployed: DeployedState | null,
  options: PlanOptions = {},
): Plan {
  refuseForeignFunctions(desired, deployed);
  const prune = options.prune ?? false;
  const managed = new Map((deployed?.functions ?? []).map((fn) => [fn.functionName, fn]));
  const tasks = deployed?.stateMachine?.tasks ?? {};
  const specs = [...desired.compiled.functions].sort((a, b) => compare(a.functionName, b.functionName));
  const wanted = new Set(specs.map((spec) => spec.functionName));

  const functions: FunctionPlan[] = specs.map((spec) =>
    planFunction(spec, desired, managed.get(spec.functionName), tasks[spec.functionName]),
  );
  const retained: string[] = [];
  for (const fn of deployed?.functions ?? []) {
    if (wanted.has(fn.functionName)) continue;
    if (!prune) {
      retained.push(fn.functionName);
      continue;
    }
    const task = tasks[fn.functionName];
    functions.push({
      functionName: fn.functionName,
      action: "delete",
      steps: ["delete"],
      stateName: null,
      nodes: task?.nodes ?? [],
      changes: [],
      specHash: null,
      functionArn: fn.functionArn,
      currentVersionArn: task?.versionArn ?? null,
      revisionId: fn.revisionId,
    });
  }
  functions.sort((a, b) => compare(a.functionName, b.functionName));
  retained.sort(compare);

  const taskDefinition = planTaskDefinition(desired, deployed?.taskDefinition);
  const stateMachine = planStateMachine(desired, deployed, functions, taskDefinition);
  stateMachine.alias = planAlias(stateMachine, deployed);
  const oldVersions = planOldVersions(deployed, functions, stateMachine, {
    keep: options.keepVersions ?? DEFAULT_KEEP_VERSIONS,
    imageUri: desired.imageUri,
  });
  const machineArn = deployed?.stateMachine?.arn;
  const schedule = planSchedule(
    desired.stateMachineName,
    desired.schedule,
    deployed?.schedule,
    machineArn ? `${machineArn}:${STATE_MACHINE_ALIAS}` : null,
  );
  const planWithoutHash: Omit<Plan, "hash"> = {
    schema: PLAN_SCHEMA,
    stateMachineName: desired.stateMachineName,
    region: options.region ?? deployed?.region ?? null,
    basis: deployed ? "deployed" : "nothing-deployed",
    note: options.note ?? null,
    imageUri: desired.imageUri,
    desiredHash: desiredHash(desired),
    prune,
    functions,
    retained,
    stateMachine,
    oldVersions,
    ...(taskDefinition ? { taskDefinition } : {}),
    ...(schedule ? { schedule } : {}),
    summary: summarize(functions, stateMachine, taskDefinition, schedule),
  };
  return { ...planWithoutHash, hash: planHash(planWithoutHash) };
}

/** sha256 of the canonical plan, leaving out the hash itself and the revision ids (locks, not intent). */
export function planHash(plan: Omit<Plan, "hash"> | Plan): string {
  const functions = plan.functions.map((fn) => ({ ...fn, revisionId: null }));
  return sha256Hex(stableStringify({ ...plan, hash: undefined, functions }));
}

/** The plan as canonical JSON (the `plan-json` output). */
export function planJson(plan: Plan): string {
  return stableStringify(plan);
}

function refuseForeignFunctions(desired: DesiredDeployment, deployed: DeployedState | null): void {
  const foreign = deployed?.foreign ?? [];
  const first = foreign[0];
  if (!first) return;
  const owner = (entry: { owner: string | null }): string =>
    entry.owner
      ? `belongs to state machine "${entry.owner}" (tag ${Tag.stateMachine})`
      : "is not managed by kedro-sfn";
  const others =
    foreign.length > 1
      ? ` (and ${foreign.length - 1} more: ${foreign
          .slice(1)
          .map((f) => f.functionName)
          .join(", ")})`
      : "";
  throw new UserError(
    `Lambda function "${first.functionName}" already exists and ${owner(first)}; refusing to take it over for state machine "${desired.stateMachineName}"${others}.`,
    {
      hint: "Choose another state-machine-name (function names derive from it), or delete or rename the existing function if nothing uses it.",
    },
  );
}

/**
 * What one desired function needs, from what a list call shows of it and the Task bound to it.
 * Steps run in this order: code, tags, config (which rewrites the Description marker: it records
 * what is done, so it goes last), publish.
 */
export function planFunction(
  spec: FunctionSpec,
  desired: DesiredDeployment,
  deployed: DeployedFunction | undefined,
  bound: BoundTask | undefined,
): FunctionPlan {
  const hashes = functionHashes(spec, desired);
  const base = {
    functionName: spec.functionName,
    stateName: spec.stateName,
    nodes: spec.nodes,
    specHash: hashes.spec,
    functionArn: deployed?.functionArn ?? null,
    currentVersionArn: bound?.versionArn ?? null,
    revisionId: deployed?.revisionId ?? null,
  };
  if (!deployed) return { ...base, action: "create", steps: ["create"], changes: [] };

  const codeCurrent = isCodeCurrent(deployed, spec, desired);
  const configCurrent = deployed.marker?.config === hashes.config;
  const tagsCurrent = deployed.marker?.tags === hashes.tags;
  // A version is current when $LATEST is right and the state machine invokes a version built from it.
  const versionCurrent = codeCurrent && configCurrent && bound?.specHash === hashes.spec;
  const steps: FunctionStep[] = [];
  if (!codeCurrent) steps.push("code");
  if (!tagsCurrent) steps.push("tags");
  if (!configCurrent || !tagsCurrent) steps.push("config");
  if (!versionCurrent) steps.push("publish");
  const action = !codeCurrent ? "update-code" : steps.length > 0 ? "update-config" : "noop";
  return {
    ...base,
    ...(deployed.source === "bound" && steps.length > 0 ? { unread: true as const } : {}),
    action,
    steps,
    changes: fieldChanges(
      deployed,
      spec,
      desired,
      hashes,
      { codeCurrent, configCurrent, tagsCurrent },
      bound,
    ),
  };
}

/** For image functions Lambda reports the image digest as CodeSha256 (moto does too, given the image in its ECR). */
function isCodeCurrent(deployed: DeployedFunction, spec: FunctionSpec, desired: DesiredDeployment): boolean {
  const digest = imageDigestHex(desired.imageUri);
  return digest !== null && deployed.codeSha256 === digest && deployed.architecture === spec.architecture;
}

function fieldChanges(
  deployed: DeployedFunction,
  spec: FunctionSpec,
  desired: DesiredDeployment,
  hashes: FunctionHashes,
  current: { codeCurrent: boolean; configCurrent: boolean; tagsCurrent: boolean },
  bound: BoundTask | undefined,
): FieldChange[] {
  const changes: FieldChange[] = [];
  const add = (field: string, before: string | number | null, after: string | number | null): void => {
    if (before !== after) changes.push({ field, before, after });
  };
  if (!current.codeCurrent) {
    const digest = imageDigestHex(desired.imageUri);
    add(
      "image",
      deployed.codeSha256 ? `sha256:${deployed.codeSha256.slice(0, 12)}` : null,
      digest ? `sha256:${digest.slice(0, 12)}` : desired.imageUri,
    );
    add("architecture", deployed.architecture, spec.architecture);
  }
  if (!current.configCurrent) {
    const before = changes.length;
    add("memoryMb", deployed.memoryMb, spec.memoryMb);
    add("timeoutSeconds", deployed.timeoutSeconds, spec.timeoutSeconds);
    add("ephemeralStorageMb", deployed.ephemeralStorageMb, spec.ephemeralStorageMb);
    add("role", deployed.role, desired.lambdaRoleArn);
    const keys = [
      ...new Set([...Object.keys(deployed.environment), ...Object.keys(spec.environment)]),
    ].sort();
    for (const key of keys)
      add(`environment.${key}`, deployed.environment[key] ?? null, spec.environment[key] ?? null);
    // The node list is not in the listing (and moto ignores ephemeral storage): the hash says what changed.
    if (changes.length === before) add("settings", deployed.marker?.config ?? null, hashes.config);
  }
  if (!current.tagsCurrent) add("tags", deployed.marker?.tags ?? null, hashes.tags);
  if (changes.length === 0 && bound?.specHash !== hashes.spec) {
    // $LATEST is already right but the state machine does not invoke a version of it: an earlier
    // deploy stopped between updating the function and switching the state machine.
    add(
      "version",
      bound ? shortFunctionReference(bound.versionArn) : null,
      `${spec.functionName}:${NEW_VERSION}`,
    );
  }
  return changes;
}

function planStateMachine(
  desired: DesiredDeployment,
  deployed: DeployedState | null,
  functions: FunctionPlan[],
  taskDefinition: TaskDefinitionPlan | undefined,
): StateMachinePlan {
  const current = deployed?.stateMachine ?? null;
  const { definition, children } = desiredDefinition(
    desired,
    functions,
    taskDefinition ? plannedTaskDefinitionArn(taskDefinition) : null,
    current?.children,
  );
  const name = desired.stateMachineName;
  if (!current) {
    return {
      name,
      arn: null,
      action: "create",
      steps: ["create"],
      currentVersionArn: null,
      changes: [],
      definitionChanges: [],
      ...(children ? { children } : {}),
    };
  }
  const changes: FieldChange[] = [];
  const add = (field: string, before: string | boolean | null, after: string | boolean | null): void => {
    if (before !== after) changes.push({ field, before, after });
  };
  const logging = desiredLogging(desired);
  add("roleArn", current.roleArn, desired.stateMachineRoleArn);
  add("logging.level", current.logging.level, logging.level);
  add("logging.logGroupArn", current.logging.logGroupArn, logging.logGroupArn);
  add("logging.includeExecutionData", current.logging.includeExecutionData, logging.includeExecutionData);
  add("tracing", current.tracing, desired.tracing);
  const settingsChanged = changes.length > 0;
  // The commit and version tags move with every deploy that changes something: not a reason to deploy.
  const wantedTags = stateMachineTags(desired);
  const tagKeys = [...new Set([...Object.keys(current.tags), ...Object.keys(wantedTags)])]
    .filter((key) => !BOOKKEEPING_TAGS.has(key) && !key.startsWith("aws:"))
    .sort();
  for (const key of tagKeys) add(`tags.${key}`, current.tags[key] ?? null, wantedTags[key] ?? null);
  const tagsChanged = changes.some((change) => change.field.startsWith("tags."));

  const same = stableStringify(current.definition) === stableStringify(definition);
  const definitionChanges = same
    ? []
    : diffJson(readableDefinition(current.definition), readableDefinition(definition));
  // The version it runs is read from the versions themselves; the tag only mirrors it (and is
  // left stale by a deploy killed between publishing and tagging).
  const tagged = current.tags[Tag.version] ?? null;
  const currentVersionArn = current.versions ? (current.currentVersionArn ?? null) : tagged;
  const unpublished = current.versions !== undefined && currentVersionArn === null;
  if (unpublished) add("version", tagged, NEW_VERSION);
  const steps: StateMachinePlan["steps"] = [];
  if (!same || settingsChanged || unpublished) steps.push("update");
  else if (tagsChanged || tagged !== currentVersionArn) steps.push("tags");
  if (steps[0] === "tags" && tagged !== currentVersionArn)
    changes.push({ field: `tags.${Tag.version}`, before: tagged, after: currentVersionArn });
  return {
    name,
    arn: current.arn,
    action: steps.length > 0 ? "update" : "noop",
    steps,
    currentVersionArn,
    changes,
    definitionChanges,
    ...(children ? { children } : {}),
  };
}

/**
 * The `live` alias follows the deploy: to the version it publishes, else to the version the state
 * machine runs. So a deploy after a rollback points it back at the version its inputs describe
 * (one alias update, no new version when that version still exists). An alias not read (a
 * DeployedState made without it) is taken to follow the state machine.
 */
function planAlias(stateMachine: StateMachinePlan, deployed: DeployedState | null): AliasPlan {
  const publishes = stateMachine.steps.includes("create") || stateMachine.steps.includes("update");
  // Nothing deployed: the alias comes with the state machine.
  const alias = deployed?.stateMachine ? deployed.stateMachine.alias : null;
  const target = publishes
    ? `${stateMachine.name}:${NEW_VERSION}`
    : (stateMachine.currentVersionArn ?? `${stateMachine.name}:${NEW_VERSION}`);
  const base = { name: STATE_MACHINE_ALIAS, targetVersionArn: target };
  if (alias === undefined)
    return {
      ...base,
      action: publishes ? "update" : "noop",
      currentVersionArn: stateMachine.currentVersionArn,
    };
  if (alias === null) return { ...base, action: "create", currentVersionArn: null };
  const action = !publishes && alias.versionArn === target ? "noop" : "update";
  return { ...base, action, currentVersionArn: alias.versionArn };
}

/**
 * The definition the plan expects to deploy: known versions for unchanged functions, placeholders
 * for new ones, the task definition revision; for a split pipeline, each child start bound to the
 * version it keeps (see keptChildVersions) or `<child>:new`.
 */
function desiredDefinition(
  desired: DesiredDeployment,
  functions: FunctionPlan[],
  taskDefinitionArn: string | null,
  deployedChildren: DeployedStateMachine["children"],
): { definition: AslDefinition; children?: StateMachinePlan["children"] } {
  const bindings = new Map<string, TaskBinding>();
  for (const fn of functions) {
    if (fn.action === "delete" || fn.specHash === null) continue;
    const keepsVersion =
      !fn.steps.includes("publish") && !fn.steps.includes("create") && fn.currentVersionArn;
    const functionArn = keepsVersion ? (fn.currentVersionArn as string) : `${fn.functionName}:${NEW_VERSION}`;
    bindings.set(fn.functionName, { functionArn, specHash: fn.specHash });
  }
  const definition = bindTaskDefinition(
    bindDefinition(desired.compiled.definition, bindings),
    taskDefinitionArn,
  );
  if (!desired.compiled.children) return { definition };
  const children = keptChildVersions(
    desired.compiled.children,
    bindings,
    taskDefinitionArn,
    { roleArn: desired.stateMachineRoleArn, logging: desiredLogging(desired), tracing: desired.tracing },
    deployedChildren,
  );
  const versions = new Map(
    children.map((child) => [child.name, child.versionArn ?? `${child.name}:${NEW_VERSION}`]),
  );
  return { definition: bindChildMachines(definition, versions), children };
}

/** Logging as AWS reports it, for comparison and for the API call. */
export function desiredLogging(desired: DesiredDeployment): DeployedLogging {
  const logging = desired.logging;
  if (!logging || logging.level === "OFF")
    return { level: "OFF", logGroupArn: null, includeExecutionData: false };
  const arn = logging.logGroupArn ?? null;
  return {
    level: logging.level,
    logGroupArn: arn && !arn.endsWith(":*") ? `${arn}:*` : arn,
    includeExecutionData: logging.includeExecutionData ?? false,
  };
}

function summarize(
  functions: FunctionPlan[],
  stateMachine: StateMachinePlan,
  taskDefinition?: TaskDefinitionPlan,
  schedule?: SchedulePlan,
): PlanSummary {
  const count = (predicate: (fn: FunctionPlan) => boolean): number => functions.filter(predicate).length;
  const scheduled = (action: SchedulePlan["action"]): number => (schedule?.action === action ? 1 : 0);
  const toCreate =
    count((fn) => fn.action === "create") +
    (stateMachine.action === "create" ? 1 : 0) +
    (taskDefinition?.action === "create" ? 1 : 0) +
    scheduled("create");
  // An alias that moves while the state machine stays (after a rollback) updates the state machine.
  const aliasMoves = stateMachine.action === "noop" && (stateMachine.alias?.action ?? "noop") !== "noop";
  const machineUpdates = stateMachine.action === "update" || aliasMoves;
  const toUpdate =
    count((fn) => fn.action === "update-code" || fn.action === "update-config") +
    (machineUpdates ? 1 : 0) +
    (taskDefinition?.action === "update" ? 1 : 0) +
    scheduled("update");
  const toDelete = count((fn) => fn.action === "delete") + scheduled("delete");
  const unchanged =
    count((fn) => fn.action === "noop") +
    (stateMachine.action === "noop" && !aliasMoves ? 1 : 0) +
    (taskDefinition?.action === "noop" ? 1 : 0) +
    scheduled("noop");
  return { toCreate, toUpdate, toDelete, unchanged, hasChanges: toCreate + toUpdate + toDelete > 0 };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
