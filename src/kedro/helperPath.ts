import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The folder holding the `kedro_sfn` Python package: dist/python beside the
 * bundles, or python/ in a source checkout (tests run from src/).
 */
export function pythonHelperRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "python"), join(here, "..", "python"), join(here, "..", "..", "python")];
  const found = candidates.find((dir) => existsSync(join(dir, "kedro_sfn", "__init__.py")));
  if (found === undefined) {
    throw new Error(`The kedro_sfn Python helper is missing (looked in ${candidates.join(", ")}).`);
  }
  return found;
}
