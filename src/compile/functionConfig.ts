/** Reads the per-function settings file (YAML) into overrides; functions.ts applies them to nodes. */
import { parse as parseYaml } from "yaml";
import { UserError } from "../errors.js";
import { parseFunctionSharing, type FunctionSharing } from "./sharing.js";
import type { Architecture, FunctionSettings, Runner } from "./types.js";

export type { FunctionSettings };

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

export const ARCHITECTURES: readonly Architecture[] = ["x86_64", "arm64"];
export const RUNNERS: readonly Runner[] = ["lambda", "ecs"];
const SETTING_KEYS: Record<string, keyof FunctionSettings> = {
  memory: "memoryMb",
  timeout: "timeoutSeconds",
  ephemeral_storage: "ephemeralStorageMb",
  architecture: "architecture",
  environment: "environment",
  runner: "runner",
  cpu: "cpu",
};
const SELECTOR_KEYS = ["node", "namespace", "tag", "regex"] as const;

const FORMAT_HINT = `Expected, e.g.:
functions:
  defaults: { memory: 1024, timeout: 300 }
  sharing: by-settings               # optional: nodes with equal settings share one function
  overrides:
    - node: data_science.train_model_node
      memory: 4096
    - namespace: data_processing     # or tag: heavy, or regex: "^reporting\\\\."
      timeout: 600
    - tag: long                      # runs on ECS Fargate: no 15-minute limit
      runner: ecs
      cpu: 2048
      memory: 8192
      timeout: 7200`;

/**
 * Reads function settings from YAML (a project's `conf/<env>/sfn.yml`, or an
 * action input): `defaults` (applied to every node) and `overrides` selected by
 * node name, top-level namespace, tag or regex, under a top-level `functions`
 * key or at the top level. Values are checked against Lambda's limits later,
 * once it is known which nodes they reach.
 */
export function parseFunctionOverrides(yamlText: string, file: string): FunctionOverride[] {
  const fail = (what: string): never => {
    throw new UserError(`${file}: ${what}`, { hint: FORMAT_HINT, file });
  };
  const section = functionsSection(yamlText, file, fail);
  if (section === null) return [];
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

/**
 * `sharing: per-node | by-settings` beside `defaults` and `overrides` (src/compile/sharing.ts);
 * undefined when the file does not say. The `function-sharing` input, when set, wins.
 */
export function parseSharingSetting(yamlText: string, file: string): FunctionSharing | undefined {
  const fail = (what: string): never => {
    throw new UserError(`${file}: ${what}`, { hint: FORMAT_HINT, file });
  };
  const value = functionsSection(yamlText, file, fail)?.sharing;
  return value === undefined || value === null ? undefined : parseFunctionSharing(value, `${file}: sharing`);
}

/** The mapping holding `defaults`, `overrides` and `sharing` (under `functions:` or at the top); null for an empty file. */
function functionsSection(
  yamlText: string,
  file: string,
  fail: (what: string) => never,
): Record<string, unknown> | null {
  let doc: unknown;
  try {
    doc = parseYaml(yamlText);
  } catch (error) {
    throw new UserError(`${file} is not valid YAML: ${(error as Error).message}`, { file });
  }
  if (doc === null || doc === undefined) return null;
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
    if (key !== "defaults" && key !== "overrides" && key !== "sharing")
      fail(`unknown key '${key}' (expected 'defaults', 'overrides' or 'sharing').`);
  }
  return section;
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
    } else if (field === "runner") {
      if (typeof value !== "string" || !RUNNERS.includes(value as Runner)) {
        fail(`${source}: runner must be ${RUNNERS.join(" or ")}, not ${JSON.stringify(value)}.`);
      }
      settings.runner = value as Runner;
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
          `${source}: ${key} must be a whole number (${key === "timeout" ? "seconds" : key === "cpu" ? "CPU units, 1024 = 1 vCPU" : "MB"}), not ${JSON.stringify(value)}.`,
        );
      }
      settings[field] = value;
    }
  }
  return settings;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
