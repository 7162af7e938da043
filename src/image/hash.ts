import { createHash } from "node:crypto";
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join, posix, relative, sep } from "node:path";

/** A file that goes into the image, named by a stable path (not where it sits on this machine). */
export interface HashedFile {
  name: string;
  path: string;
}

/** Every file under `dir` (recursively, sorted), named `prefix/<relative path>`; `.git` and caches skipped. */
export function filesUnder(dir: string, prefix: string): HashedFile[] {
  const files: HashedFile[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      if (entry.name === ".git" || entry.name === "__pycache__") continue;
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.push({ name: posix.join(prefix, relative(dir, path).split(sep).join("/")), path });
    }
  };
  if (existsSync(dir)) {
    if (lstatSync(dir).isDirectory()) walk(dir);
    else files.push({ name: prefix, path: dir });
  }
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * SHA-256 over what makes the image: the settings in `header` (base image,
 * platform, ...) and each file's name, executable bit and bytes. Timestamps
 * and where the project sits on disk do not count, so a fresh checkout of the
 * same commit gives the same hash and the build is skipped.
 */
export function contentHash(header: Record<string, string>, files: HashedFile[]): string {
  const hash = createHash("sha256");
  hash.update("kedro-sfn-image@1\n");
  const keys = Object.keys(header).sort();
  hash.update(JSON.stringify(keys.map((key) => [key, header[key]])) + "\n");
  const seen = new Set<string>();
  for (const file of [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (seen.has(file.name)) continue;
    seen.add(file.name);
    hash.update(`${file.name}\0${fileDigest(file.path)}\n`);
  }
  return hash.digest("hex");
}

function fileDigest(path: string): string {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return `link:${readlinkSync(path)}`;
  const executable = (stat.mode & 0o111) !== 0 ? "x" : "-";
  return `${executable}:${createHash("sha256").update(readFileSync(path)).digest("hex")}`;
}
