import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

/** One file of the project's conf/ as it is uploaded: its key below the conf root. */
export interface ConfFile {
  /** `base/catalog.yml`: slash-separated, relative to conf/. */
  key: string;
  path: string;
}

/**
 * The project's conf/ without conf/local (credentials never leave the machine, as
 * `kedro package` does) and without dot files, sorted by key.
 */
export function confFiles(projectPath: string): ConfFile[] {
  const root = join(projectPath, "conf");
  return listFiles(root)
    .map((path) => ({ key: relative(root, path).split(sep).join("/"), path }))
    .filter((file) => file.key.split("/")[0] !== "local")
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** sha256 of the tree: every key with the sha256 of its bytes. Same files, same hash, on any machine. */
export function confTreeHash(files: ConfFile[]): string {
  const tree = createHash("sha256");
  for (const file of files) {
    const digest = createHash("sha256").update(readFileSync(file.path)).digest("hex");
    tree.update(`${file.key}\0${digest}\n`);
  }
  return tree.digest("hex");
}

/**
 * Where a deploy puts conf for `conf-source: s3://bucket/prefix`: below the prefix, in a folder
 * named by the tree's hash. A running execution keeps reading the folder its functions name,
 * and an unchanged conf names the same folder (no upload, no function update).
 */
export function confLocation(confSource: string, projectPath: string): string {
  return `${confSource.replace(/\/+$/, "")}/${confTreeHash(confFiles(projectPath))}`;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => !entry.name.startsWith("."))
    .flatMap((entry) => (entry.isDirectory() ? listFiles(join(dir, entry.name)) : [join(dir, entry.name)]));
}
