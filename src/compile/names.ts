import { createHash } from "node:crypto";
import { UserError } from "../errors.js";

export const MAX_FUNCTION_NAME = 64;
export const MAX_STATE_NAME = 80;
/** Longest function prefix, so that every function keeps a readable part of its node's name. */
export const MAX_FUNCTION_PREFIX = 40;
const HASH_LENGTH = 8;

export interface Nameable {
  /** What the name should read like (a node name, a namespace, ...). */
  label: string;
  /** What the name stands for, in full (e.g. the task's node names): the hash is taken of this. */
  identity: string;
}

/** First 8 hex digits of the SHA-256 of `text`: a short, stable fingerprint. */
export function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, HASH_LENGTH);
}

/** A Lambda-safe version of a state machine name, used as the default function prefix. */
export function functionPrefixOf(name: string, input = "function-prefix"): string {
  const prefix = name.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "");
  if (prefix === "") {
    throw new UserError(
      `The ${input} '${name}' has no letters or digits to start Lambda function names with.`,
      {
        hint: `Set ${input} to a short name made of letters, digits, '-' and '_'.`,
      },
    );
  }
  if (prefix.length > MAX_FUNCTION_PREFIX) {
    throw new UserError(
      `The ${input} '${prefix}' is ${prefix.length} characters; at most ${MAX_FUNCTION_PREFIX} leave room for node names in 64-character Lambda names.`,
      { hint: `Set ${input} to a shorter name.` },
    );
  }
  return prefix;
}

/**
 * Lambda function names `${prefix}-${readable}` (<= 64, [A-Za-z0-9_-]). Dots
 * become '-'; anything else Lambda rejects becomes '_'. When that loses
 * information, when the name must be shortened, or when two names would be
 * equal (ignoring case), the name ends in a hash of the full identity, so names
 * stay stable across deploys and never collide.
 */
export function functionNames(prefix: string, items: readonly Nameable[]): string[] {
  const budget = MAX_FUNCTION_NAME - prefix.length - 1;
  return uniqueNames(items, (item, hashed) => {
    let lossy = false;
    const readable = item.label.replace(/[^A-Za-z0-9_.-]/g, () => {
      lossy = true;
      return "_";
    });
    const body = readable.replace(/\./g, "-");
    if (!hashed && !lossy && body.length <= budget) return `${prefix}-${body}`;
    return `${prefix}-${elide(body, budget - HASH_LENGTH - 1, "_")}-${shortHash(item.identity)}`;
  });
}

/**
 * Task state names (<= `maxLength`, unique): the label itself, with control
 * characters and runs of blanks turned into one space; shortened or hashed
 * like function names when needed.
 */
export function taskStateNames(items: readonly Nameable[], maxLength: number): string[] {
  return uniqueNames(items, (item, hashed) => {
    const readable = stateText(item.label);
    const lossy = readable !== item.label;
    if (!hashed && !lossy && readable.length <= maxLength) return readable;
    return `${elide(readable, maxLength - HASH_LENGTH - 1, "...")} ${shortHash(item.identity)}`;
  });
}

/** Hands out further state names (Parallel, Pass, Fail) that avoid every name taken so far. */
export class StateNames {
  private readonly taken = new Set<string>();

  constructor(initial: Iterable<string>) {
    for (const name of initial) this.taken.add(name);
  }

  allocate(preferred: string, identity: string): string {
    const readable = stateText(preferred);
    let name = readable.length <= MAX_STATE_NAME ? readable : "";
    if (name === "" || this.taken.has(name)) {
      name = `${elide(readable, MAX_STATE_NAME - HASH_LENGTH - 1, "...")} ${shortHash(identity)}`;
    }
    for (let extra = 1; this.taken.has(name); extra++) {
      name = `${elide(readable, MAX_STATE_NAME - HASH_LENGTH - 4, "...")} ${shortHash(`${identity}#${extra}`)}-${extra}`;
    }
    this.taken.add(name);
    return name;
  }
}

function stateText(label: string): string {
  // eslint-disable-next-line no-control-regex
  const text = label.replace(/[\u0000-\u001f\u007f\s]+/g, " ").trim();
  return text === "" ? "task" : text;
}

/** Keeps the start and the end (usually the most telling part of a node name). */
function elide(text: string, length: number, joiner: string): string {
  if (text.length <= length) return text;
  const room = Math.max(2, length - joiner.length);
  const head = Math.ceil(room * 0.4);
  return `${text.slice(0, head)}${joiner}${text.slice(text.length - (room - head))}`;
}

function uniqueNames(
  items: readonly Nameable[],
  nameOf: (item: Nameable, hashed: boolean) => string,
): string[] {
  const hashed = items.map(() => false);
  let names = items.map((item) => nameOf(item, false));
  for (let round = 0; round < 3; round++) {
    const byKey = new Map<string, number[]>();
    names.forEach((name, i) => {
      const key = name.toLowerCase();
      byKey.set(key, [...(byKey.get(key) ?? []), i]);
    });
    const clashes = [...byKey.values()].filter((ids) => ids.length > 1).flat();
    if (clashes.length === 0) return names;
    for (const i of clashes) hashed[i] = true;
    names = items.map((item, i) => nameOf(item, hashed[i] ?? false));
  }
  const dupes = names.filter((n, i) => names.findIndex((m) => m.toLowerCase() === n.toLowerCase()) !== i);
  throw new Error(`internal: names still collide after hashing: ${dupes.join(", ")}`);
}

/** `name`, `name:alias` or `arn:aws:lambda:region:acct:function:name[:version]` -> the function name. */
export function functionNameOf(reference: string): string {
  if (reference.startsWith("arn:")) return reference.split(":")[6] ?? reference;
  return reference.split(":")[0] ?? reference;
}
