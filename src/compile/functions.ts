import { parse as parseYaml } from "yaml";
import { UserError } from "../errors.js";
import { topNamespace } from "../graph/grouping.js";
import type { GraphNode } from "../graph/types.js";
import type { Architecture } from "./types.js";

/** Per-function Lambda settings. */
export interface FunctionSettings {
  memoryMb: number;
  timeoutSeconds: number;
  ephemeralStorageMb: number;
  architecture: Architecture;
  environment: Record<string, string>;
}

export type OverrideSelector =
  | { kind: "all" }
  | { kind: "namespace"; values: string[] }
  | { kind: "tag"; values: string[] }
  | { kind: "regex"; pattern: string; regex: RegExp }
  | { kind: "node"; values: string[] };

export interface FunctionOverride {
  selector: OverrideSelector;
  settings: Partial<FunctionSettings>;
  /** Where it was written, for messages: e.g. "conf/aws/sfn.yml overrides[2] (tag: heavy)". */
  source: string;
}

export const LAMBDA_LIMITS = {
  memoryMb: { min: 128, max: 10240 },
  timeoutSeconds: { min: 1, max: 900 },
  ephemeralStorageMb: { min: 512, max: 10240 },
  environmentBytes: 4096,
} as const;

const ARCHITECTURES: readonly Architecture[] = ["x86_64", "arm64"];
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
const SETTING_KEYS: Record<string, keyof FunctionSettings> = {
  memory: "memoryMb",
  timeout: "timeoutSeconds",
  ephemeral_storage: "ephemeralStorageMb",
  architecture: "architecture",
  environment: "environment",
};
const SELECTOR_KEYS = ["node", "namespace", "tag", "regex"] as const;

const FORMAT_HINT = `Expected, e.g.:
functions:
  defaults: { memory: 1024, timeout: 300 }
  overrides:
    - node: data_science.train_model_node
      memory: 4096
    - namespace: data_processing     # or tag: heavy, or regex: "^reporting\\\\."
      timeout: 600`;

/**
 * Reads function settings from YAML (a project's `conf/<env>/sfn.yml`, or an
 * action input): `defaults` (applied to every node) and `overrides` selected by
 * node name, top-level namespace, tag or regex, under a top-level `functions`
 * key or at the top level. Values are checked against Lambda's limits later,
 * once it is known which nodes they reach.
 */
export function parseFunctionOverrides(yamlText: string, file: string): FunctionOverride[] {
  let doc: unknown;
  try {
    doc = parseYaml(yamlText);
  } catch (error) {
    throw new UserError(`${file} is not valid YAML: ${(error as Error).message}`, { file });
  }
  if (doc === null || doc === undefined) return [];
  const fail = (what: string): never => {
    throw new UserError(`${file}: ${what}`, { hint: FORMAT_HINT, file });
  };
  if (!isObject(doc)) return fail("expected a mapping with 'defaults' and/or 'overrides'.");
  let section: Record<string, unknown>;
  if ("functions" in doc) {
    if (!isObject(doc.functions))
      return fail("'functions' must be a mapping with 'defaults' and/or 'overrides'.");
    section = doc.functions;
  } else {
    section = doc;
  }
  for (const key of Object.keys(section)) {
    if (key !== "defaults" && key !== "overrides")
      fail(`unknown key '${key}' (expected 'defaults' or 'overrides').`);
  }
  const overrides: FunctionOverride[] = [];
  if (section.defaults !== undefined && section.defaults !== null) {
    if (!isObject(section.defaults)) fail("'defaults' must be a mapping of settings.");
    const source = `${file} defaults`;
    overrides.push({
      selector: { kind: "all" },
      settings: parseSettings(section.defaults as Record<string, unknown>, source, fail),
      source,
    });
  }
  if (section.overrides !== undefined && section.overrides !== null) {
    if (!Array.isArray(section.overrides)) fail("'overrides' must be a list.");
    (section.overrides as unknown[]).forEach((entry, i) => {
      const where = `${file} overrides[${i}]`;
      if (!isObject(entry)) fail(`overrides[${i}] must be a mapping.`);
      const e = entry as Record<string, unknown>;
      const selectors = SELECTOR_KEYS.filter((k) => k in e);
      if (selectors.length !== 1)
        fail(`overrides[${i}] needs exactly one of ${SELECTOR_KEYS.join(", ")}; found ${selectors.length}.`);
      const kind = selectors[0] as (typeof SELECTOR_KEYS)[number];
      const raw = e[kind];
      let selector: OverrideSelector;
      let describe: string;
      if (kind === "regex") {
        if (typeof raw !== "string") return fail(`overrides[${i}].regex must be a string.`);
        let regex: RegExp;
        try {
          regex = new RegExp(raw);
        } catch (error) {
          return fail(`overrides[${i}].regex is not a valid regular expression: ${(error as Error).message}`);
        }
        selector = { kind, pattern: raw, regex };
        describe = `regex: ${raw}`;
      } else {
        const values = typeof raw === "string" ? [raw] : raw;
        if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === "string")) {
          return fail(`overrides[${i}].${kind} must be a name or a list of names.`);
        }
        selector = { kind, values };
        describe = `${kind}: ${values.join(", ")}`;
      }
      const settings = Object.fromEntries(Object.entries(e).filter(([k]) => k !== kind));
      const source = `${where} (${describe})`;
      overrides.push({ selector, settings: parseSettings(settings, source, fail), source });
    });
  }
  return overrides;
}

function parseSettings(
  raw: Record<string, unknown>,
  source: string,
  fail: (what: string) => never,
): Partial<FunctionSettings> {
  const settings: Partial<FunctionSettings> = {};
  for (const [key, value] of Object.entries(raw)) {
    const field = SETTING_KEYS[key];
    if (field === undefined) {
      fail(`${source}: unknown setting '${key}' (expected ${Object.keys(SETTING_KEYS).join(", ")}).`);
      continue;
    }
    if (field === "architecture") {
      if (typeof value !== "string" || !ARCHITECTURES.includes(value as Architecture)) {
        fail(`${source}: architecture must be ${ARCHITECTURES.join(" or ")}, not ${JSON.stringify(value)}.`);
      }
      settings.architecture = value as Architecture;
    } else if (field === "environment") {
      if (!isObject(value)) return fail(`${source}: environment must be a mapping of names to values.`);
      const env: Record<string, string> = {};
      for (const [name, v] of Object.entries(value)) {
        if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
          return fail(`${source}: environment variable ${name} must be a plain value.`);
        }
        env[name] = String(v);
      }
      settings.environment = env;
    } else {
      if (typeof value !== "number" || !Number.isInteger(value)) {
        fail(
          `${source}: ${key} must be a whole number (${key === "timeout" ? "seconds" : "MB"}), not ${JSON.stringify(value)}.`,
        );
      }
      settings[field] = value;
    }
  }
  return settings;
}

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
  };
  return names[key] ?? key;
}

function checkLimits({ settings, from }: NodeSettings, who: string): void {
  const range = (key: "memoryMb" | "ephemeralStorageMb", what: string): void => {
    const { min, max } = LAMBDA_LIMITS[key];
    const value = settings[key];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new UserError(`${who}: ${what} ${value} MB is outside Lambda's limits (${min}-${max} MB).`, {
        hint: `Set by ${from[key] ?? "the defaults"}.`,
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
        hint: `Set by ${from.timeoutSeconds ?? "the defaults"}. Split the node into shorter steps, or lower its timeout to 900 s or less.`,
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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
