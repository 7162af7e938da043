import { UserError } from "../errors.js";
import { topNamespace } from "../graph/grouping.js";
import type { GraphNode } from "../graph/types.js";
import { fargateSize } from "./ecs.js";
import {
  ARCHITECTURES,
  type FunctionOverride,
  type FunctionSettings,
  type OverrideSelector,
} from "./functionConfig.js";

export const LAMBDA_LIMITS = {
  memoryMb: { min: 128, max: 10240 },
  timeoutSeconds: { min: 1, max: 900 },
  ephemeralStorageMb: { min: 512, max: 10240 },
  environmentBytes: 4096,
} as const;

/**
 * Which settings reach each function: defaults, then overrides by precedence,
 * merged per task and checked against Lambda's limits. Reading the YAML those
 * overrides come from is functionConfig.ts.
 */

/** Lambda sets these itself; a function may not. */
const RESERVED_ENVIRONMENT = new Set([
  "_HANDLER",
  "_X_AMZN_TRACE_ID",
  "AWS_DEFAULT_REGION",
  "AWS_REGION",
  "AWS_EXECUTION_ENV",
  "AWS_LAMBDA_FUNCTION_NAME",
  "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
  "AWS_LAMBDA_FUNCTION_VERSION",
  "AWS_LAMBDA_INITIALIZATION_TYPE",
  "AWS_LAMBDA_LOG_GROUP_NAME",
  "AWS_LAMBDA_LOG_STREAM_NAME",
  "AWS_ACCESS_KEY",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_LAMBDA_RUNTIME_API",
  "LAMBDA_TASK_ROOT",
  "LAMBDA_RUNTIME_DIR",
]);

/** Most specific last: a node override beats a regex, a regex a tag, a tag a namespace, all beat defaults. */
const PRECEDENCE: OverrideSelector["kind"][] = ["all", "namespace", "tag", "regex", "node"];

export function matches(selector: OverrideSelector, node: GraphNode): boolean {
  switch (selector.kind) {
    case "all":
      return true;
    case "node":
      return selector.values.includes(node.name);
    case "namespace": {
      const top = topNamespace(node.namespace);
      return top !== null && selector.values.includes(top);
    }
    case "tag":
      return node.tags.some((t) => selector.values.includes(t));
    case "regex":
      return selector.regex.test(node.name);
  }
}

/** Settings of one node and, per setting, which override decided it (for messages). */
interface NodeSettings {
  settings: FunctionSettings;
  from: Partial<Record<keyof FunctionSettings, string>>;
}

/**
 * Resolves each task's settings: defaults, then overrides from least to most
 * specific; within one level, two overrides giving one node different values
 * are a conflict. A task running several nodes takes the largest memory,
 * timeout and storage among them; architectures must agree; environments merge.
 */
export function resolveFunctionSettings(
  tasks: readonly { nodes: readonly GraphNode[]; functionName: string }[],
  defaults: FunctionSettings,
  overrides: readonly FunctionOverride[],
  defaultsSource = "the function defaults",
): { settings: FunctionSettings[]; warnings: string[] } {
  const used = overrides.map(() => false);
  const settings = tasks.map((t) => {
    const perNode = t.nodes.map((node) => {
      const resolved = resolveNode(node, defaults, overrides, used, defaultsSource);
      checkLimits(resolved, `Node '${node.name}' (function ${t.functionName})`);
      return resolved;
    });
    return combine(perNode, t.nodes, t.functionName);
  });
  const warnings: string[] = [];
  const names = new Set(tasks.flatMap((t) => t.nodes.map((n) => n.name)));
  const spaces = new Set(tasks.flatMap((t) => t.nodes.map((n) => topNamespace(n.namespace))));
  overrides.forEach((o, i) => {
    if (o.selector.kind === "all") return;
    if (!used[i]) {
      warnings.push(`${o.source} matches no node in this pipeline; it has no effect.`);
      return;
    }
    const known = o.selector.kind === "node" ? names : o.selector.kind === "namespace" ? spaces : undefined;
    if (known === undefined || !("values" in o.selector)) return;
    const unknown = o.selector.values.filter((v) => !known.has(v));
    if (unknown.length > 0) {
      warnings.push(
        `${o.source} names ${o.selector.kind === "node" ? "nodes" : "namespaces"} not in this pipeline: ${unknown.join(", ")}.`,
      );
    }
  });
  return { settings, warnings };
}

function resolveNode(
  node: GraphNode,
  defaults: FunctionSettings,
  overrides: readonly FunctionOverride[],
  used: boolean[],
  defaultsSource: string,
): NodeSettings {
  const settings: FunctionSettings = { ...defaults, environment: { ...defaults.environment } };
  const from: NodeSettings["from"] = {
    memoryMb: defaultsSource,
    timeoutSeconds: defaultsSource,
    ephemeralStorageMb: defaultsSource,
    architecture: defaultsSource,
    runner: defaultsSource,
    cpu: defaultsSource,
  };
  for (const kind of PRECEDENCE) {
    const level: { key: string; value: unknown; source: string }[] = [];
    overrides.forEach((o, i) => {
      if (o.selector.kind !== kind || !matches(o.selector, node)) return;
      used[i] = true;
      for (const [key, value] of Object.entries(o.settings)) {
        if (key === "environment") {
          for (const [name, v] of Object.entries(value as Record<string, string>))
            level.push({ key: `environment.${name}`, value: v, source: o.source });
        } else {
          level.push({ key, value, source: o.source });
        }
      }
    });
    const chosen = new Map<string, { value: unknown; source: string }>();
    for (const entry of level) {
      const earlier = chosen.get(entry.key);
      if (earlier !== undefined && earlier.value !== entry.value) {
        throw new UserError(
          `Conflicting settings for node '${node.name}': ${earlier.source} sets ${settingName(entry.key)} to ${String(earlier.value)}, ${entry.source} sets it to ${String(entry.value)}.`,
          {
            hint: "Make the overrides agree, or select the node more specifically (a node override beats regex, tag and namespace ones).",
          },
        );
      }
      chosen.set(entry.key, entry);
    }
    for (const [key, { value, source }] of chosen) {
      if (key.startsWith("environment.")) {
        settings.environment[key.slice("environment.".length)] = value as string;
      } else {
        (settings as unknown as Record<string, unknown>)[key] = value;
        from[key as keyof FunctionSettings] = source;
      }
    }
  }
  return { settings, from };
}

function settingName(key: string): string {
  const names: Record<string, string> = {
    memoryMb: "memory",
    timeoutSeconds: "timeout",
    ephemeralStorageMb: "ephemeral_storage",
    architecture: "architecture",
    runner: "runner",
  };
  return names[key] ?? key;
}

function checkLimits(node: NodeSettings, who: string): void {
  if (node.settings.runner === "ecs") checkEcsLimits(node, who);
  else checkLambdaLimits(node, who);
  checkEnvironment(node, who);
}

/** ECS: a Fargate size, a timeout of at least a second; Lambda's 15 minutes and 10 GB do not apply. */
function checkEcsLimits({ settings, from }: NodeSettings, who: string): void {
  fargateSize(
    settings.cpu,
    settings.memoryMb,
    who,
    settings.cpu === undefined
      ? (from.memoryMb ?? "the defaults")
      : `${from.cpu ?? "the defaults"} (cpu) and ${from.memoryMb ?? "the defaults"} (memory)`,
  );
  if (!Number.isInteger(settings.timeoutSeconds) || settings.timeoutSeconds < 1) {
    throw new UserError(
      `${who}: timeout ${settings.timeoutSeconds} s must be a whole number of seconds, at least 1.`,
      {
        hint: `Set by ${from.timeoutSeconds ?? "the defaults"}.`,
      },
    );
  }
}

/** What names the second runner in a Lambda limit's error: the one-line fix for a long or big node. */
const ECS_FIX =
  "or run it on ECS Fargate: add `runner: ecs` to its entry in sfn.yml (no 15-minute or 10 GB limit)";

function checkLambdaLimits({ settings, from }: NodeSettings, who: string): void {
  if (settings.cpu !== undefined) {
    throw new UserError(
      `${who}: cpu ${settings.cpu} applies to ECS Fargate tasks only; Lambda sizes CPU by memory.`,
      {
        hint: `Set by ${from.cpu ?? "the defaults"}. Remove it, or add \`runner: ecs\` next to it.`,
      },
    );
  }
  const range = (key: "memoryMb" | "ephemeralStorageMb", what: string): void => {
    const { min, max } = LAMBDA_LIMITS[key];
    const value = settings[key];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new UserError(`${who}: ${what} ${value} MB is outside Lambda's limits (${min}-${max} MB).`, {
        hint: `Set by ${from[key] ?? "the defaults"}.${value > max && key === "memoryMb" ? ` Lower it, ${ECS_FIX}.` : ""}`,
      });
    }
  };
  range("memoryMb", "memory");
  range("ephemeralStorageMb", "ephemeral storage");
  const timeout = settings.timeoutSeconds;
  if (!Number.isInteger(timeout) || timeout < LAMBDA_LIMITS.timeoutSeconds.min) {
    throw new UserError(`${who}: timeout ${timeout} s must be a whole number of seconds, at least 1.`, {
      hint: `Set by ${from.timeoutSeconds ?? "the defaults"}.`,
    });
  }
  if (timeout > LAMBDA_LIMITS.timeoutSeconds.max) {
    throw new UserError(
      `${who} needs more than 15 minutes (timeout ${timeout} s); a Lambda function runs at most ${LAMBDA_LIMITS.timeoutSeconds.max} s.`,
      {
        hint: `Set by ${from.timeoutSeconds ?? "the defaults"}. Split the node into shorter steps, lower its timeout to 900 s or less, ${ECS_FIX}.`,
      },
    );
  }
  if (!ARCHITECTURES.includes(settings.architecture)) {
    throw new UserError(
      `${who}: architecture '${String(settings.architecture)}' must be ${ARCHITECTURES.join(" or ")}.`,
      {
        hint: `Set by ${from.architecture ?? "the defaults"}.`,
      },
    );
  }
}

function checkEnvironment({ settings }: NodeSettings, who: string): void {
  let bytes = 0;
  for (const [name, value] of Object.entries(settings.environment)) {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) {
      throw new UserError(`${who}: environment variable name '${name}' is not valid for Lambda.`, {
        hint: "Names start with a letter and contain only letters, digits and '_'.",
      });
    }
    if (RESERVED_ENVIRONMENT.has(name)) {
      throw new UserError(`${who}: environment variable ${name} is reserved by Lambda.`, {
        hint: "Choose another name.",
      });
    }
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  }
  if (bytes > LAMBDA_LIMITS.environmentBytes) {
    throw new UserError(
      `${who}: environment variables take ${bytes} bytes; Lambda allows ${LAMBDA_LIMITS.environmentBytes}.`,
      {
        hint: "Move large values to configuration files or parameters.",
      },
    );
  }
}

function combine(
  perNode: NodeSettings[],
  nodes: readonly GraphNode[],
  functionName: string,
): FunctionSettings {
  const first = perNode[0] as NodeSettings;
  const result: FunctionSettings = { ...first.settings, environment: {} };
  const envFrom: Record<string, string> = {};
  perNode.forEach(({ settings }, i) => {
    const node = (nodes[i] as GraphNode).name;
    result.memoryMb = Math.max(result.memoryMb, settings.memoryMb);
    result.timeoutSeconds = Math.max(result.timeoutSeconds, settings.timeoutSeconds);
    result.ephemeralStorageMb = Math.max(result.ephemeralStorageMb, settings.ephemeralStorageMb);
    if ((settings.runner ?? "lambda") !== (result.runner ?? "lambda")) {
      throw new UserError(
        `Task ${functionName} groups nodes '${(nodes[0] as GraphNode).name}' (runner ${result.runner ?? "lambda"}) and '${node}' (runner ${settings.runner ?? "lambda"}): one task runs on one runner.`,
        { hint: "Route the nodes of one group to the same runner in sfn.yml, or group them differently." },
      );
    }
    if (settings.cpu !== undefined) result.cpu = Math.max(result.cpu ?? 0, settings.cpu);
    if (settings.architecture !== result.architecture) {
      throw new UserError(
        `Function ${functionName} runs nodes '${(nodes[0] as GraphNode).name}' (${result.architecture}) and '${node}' (${settings.architecture}): one function has one architecture.`,
        { hint: "Give the nodes of one group the same architecture, or group them differently." },
      );
    }
    for (const [name, value] of Object.entries(settings.environment)) {
      const earlier = result.environment[name];
      if (earlier !== undefined && earlier !== value) {
        throw new UserError(
          `Function ${functionName} runs nodes '${envFrom[name] ?? ""}' and '${node}', which set environment variable ${name} differently.`,
          { hint: "Give the nodes of one group the same environment, or group them differently." },
        );
      }
      result.environment[name] = value;
      envFrom[name] ??= node;
    }
  });
  return result;
}
