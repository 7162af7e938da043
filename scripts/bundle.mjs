// Bundles the two entry points with ncc and ships the Python helper beside them,
// so dist/ alone is what a runner (or `node dist/cli/index.js`) needs.
import ncc from "@vercel/ncc";
import { cpSync, mkdirSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const targets = [
  { entry: "src/index.ts", out: "dist" },
  { entry: "src/cli/index.ts", out: "dist/cli" },
];
rmSync(join(root, "dist"), { recursive: true, force: true });
for (const { entry, out } of targets) {
  const { code, assets } = await ncc(join(root, entry), {
    minify: false,
    sourceMap: false,
    quiet: true,
    target: "es2022",
    license: "licenses.txt",
  });
  mkdirSync(join(root, out), { recursive: true });
  writeFileSync(join(root, out, "index.js"), code);
  for (const [name, asset] of Object.entries(assets)) {
    mkdirSync(dirname(join(root, out, name)), { recursive: true });
    writeFileSync(join(root, out, name), asset.source);
  }
}
chmodSync(join(root, "dist/cli/index.js"), 0o755);
cpSync(join(root, "python/kedro_sfn"), join(root, "dist/python/kedro_sfn"), {
  recursive: true,
  filter: (src) => !src.includes("__pycache__") && !src.endsWith(".pyc") && !src.includes("/tests"),
});
