import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The interpreters `make test` built: Kedro 1.x in .venv, Kedro 0.19 in .venv-kedro019. */
export const PYTHON = process.env["KEDRO_SFN_TEST_PYTHON"] ?? resolve(".venv/bin/python");
export const PYTHON_019 = process.env["KEDRO_SFN_TEST_PYTHON_019"] ?? resolve(".venv-kedro019/bin/python");
export const EXAMPLE = resolve("examples/spaceflights");

/** A small generated Kedro project (python/tests/make_project.py) bootstrappable by `python`. */
export function makeProject(kind: string, python = PYTHON): string {
  const out = join(mkdtempSync(join(tmpdir(), "kedro-sfn-proj-")), kind);
  execFileSync(python, [resolve("python/tests/make_project.py"), out, "--kind", kind], { stdio: "pipe" });
  return out;
}

/** A writable copy of the example (tests edit its catalog or code). */
export function copyExample(): string {
  const out = join(mkdtempSync(join(tmpdir(), "kedro-sfn-example-")), "spaceflights");
  cpSync(EXAMPLE, out, { recursive: true, filter: (src) => !src.includes("__pycache__") });
  return out;
}
