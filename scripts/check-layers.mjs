#!/usr/bin/env node
// The house rules of DESIGN.md, checked on the import graph of src/ so a new stage cannot
// quietly break them: no import cycles; pure stages (graph, compile, plan, report) import no
// `@actions/*` and no AWS SDK; `aws/` and `report/` never import each other
// and `report/` imports no `github/`; nothing below the
// entry points imports an entry point. Type-only imports count too: a cycle of types is still
// a cycle of modules for a reader. Exit 1 with every violation listed.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "src");
const PURE = ["graph", "compile", "plan", "report"];
const ENTRY = ["main.ts", "index.ts", "cli/"];
const FORBIDDEN_IN_PURE = [/^@actions\//, /^@aws-sdk\//, /^@smithy\//, /^@octokit\//];
// [from, to] pairs that must never appear: report/ renders, github/ and aws/ do the talking.
const NEVER = [
  ["aws", "report"],
  ["report", "aws"],
  ["report", "github"],
];

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|(?:^|[\s;])import\s*["']([^"']+)["']/g;

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [path] : [];
  });
}

function importsOf(file) {
  const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
  return [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3]);
}

const files = sources(ROOT);
const rel = (f) => relative(ROOT, f);
const top = (r) => (r.includes("/") ? r.slice(0, r.indexOf("/")) : r);
const graph = new Map();
const problems = [];

for (const file of files) {
  const from = rel(file);
  const local = [];
  for (const spec of importsOf(file)) {
    if (spec.startsWith(".")) {
      local.push(rel(resolve(dirname(file), spec.replace(/\.js$/, ".ts"))));
    } else if (PURE.includes(top(from)) && FORBIDDEN_IN_PURE.some((re) => re.test(spec))) {
      problems.push(`${from}: a pure stage imports ${spec} (DESIGN.md: pure stages touch no network)`);
    }
  }
  graph.set(from, local);
  for (const to of local) {
    for (const [a, b] of NEVER) {
      if (top(from) === a && top(to) === b) problems.push(`${from} imports ${to}: ${a}/ never imports ${b}/`);
    }
    const isEntry = (r) => ENTRY.some((e) => (e.endsWith("/") ? r.startsWith(e) : r === e));
    if (isEntry(to) && !isEntry(from)) problems.push(`${from} imports the entry point ${to}`);
  }
}

// Tarjan's strongly connected components: every component with more than one module is a cycle.
let counter = 0;
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
function visit(v) {
  index.set(v, counter);
  low.set(v, counter++);
  stack.push(v);
  onStack.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!graph.has(w)) continue;
    if (!index.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
  }
  if (low.get(v) !== index.get(v)) return;
  const component = [];
  let w;
  do {
    w = stack.pop();
    onStack.delete(w);
    component.push(w);
  } while (w !== v);
  if (component.length > 1) problems.push(`import cycle: ${component.sort().join(" -> ")}`);
}
for (const v of graph.keys()) if (!index.has(v)) visit(v);

if (problems.length > 0) {
  for (const p of problems) console.error(p);
  console.error(`check-layers: ${problems.length} problem(s) in ${files.length} modules`);
  process.exit(1);
}
console.log(`check-layers: ${files.length} modules, no cycles, layers as DESIGN.md says`);
