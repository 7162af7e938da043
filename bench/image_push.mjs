// Runs bench/image_push.ts: bundles it with ncc (as scripts/bundle.mjs does for the action), then runs it.
import ncc from "@vercel/ncc";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { code } = await ncc(join(root, "bench", "image_push.ts"), {
  quiet: true,
  target: "es2022",
  sourceMap: false,
  transpileOnly: true,
});
const dir = mkdtempSync(join(tmpdir(), "kedro-sfn-bench-"));
writeFileSync(join(dir, "index.mjs"), code);
const run = spawnSync(process.execPath, [join(dir, "index.mjs"), ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { ...process.env, KEDRO_SFN_REPO_ROOT: root },
});
rmSync(dir, { recursive: true, force: true });
process.exit(run.status ?? 1);
