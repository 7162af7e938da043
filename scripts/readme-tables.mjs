// Keeps README's inputs/outputs tables in step with action.yml:
// `node scripts/readme-tables.mjs` rewrites them; `--check` fails when they differ.
import { readFileSync, writeFileSync } from "node:fs";
import { parse } from "yaml";

const action = parse(readFileSync("action.yml", "utf8"));
const cell = (text) =>
  String(text ?? "")
    .replace(/\|/g, "\\|")
    .replace(/\n/g, " ");
const inputs = [
  "| Input | Default | Description |",
  "| --- | --- | --- |",
  ...Object.entries(action.inputs).map(
    ([name, spec]) =>
      `| \`${name}\` | ${spec.default === undefined ? "" : `\`${cell(spec.default)}\``} | ${cell(spec.description)} |`,
  ),
].join("\n");
const outputs = [
  "| Output | Description |",
  "| --- | --- |",
  ...Object.entries(action.outputs).map(([name, spec]) => `| \`${name}\` | ${cell(spec.description)} |`),
].join("\n");

function replaceBetween(text, tag, body) {
  const start = `<!-- ${tag}:start -->`;
  const end = `<!-- ${tag}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < 0) throw new Error(`README.md lacks the ${start} ... ${end} markers`);
  return `${text.slice(0, i + start.length)}\n${body}\n${text.slice(j)}`;
}

const readme = readFileSync("README.md", "utf8");
const next = replaceBetween(replaceBetween(readme, "inputs", inputs), "outputs", outputs);
if (process.argv.includes("--check")) {
  if (next !== readme) {
    console.error("README.md inputs/outputs differ from action.yml: run node scripts/readme-tables.mjs");
    process.exit(1);
  }
} else writeFileSync("README.md", next);
