import { existsSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { pythonHelperRoot } from "../kedro/helperPath.js";
import { UserError } from "../errors.js";
import { CommandNotFoundError, outputTail, type CommandRunner } from "../process/command.js";

/** What `kedro package` produced, and the dependencies the image installs before the wheel. */
export interface KedroPackage {
  packageName: string;
  /** dist/<name>-<version>-py3-none-any.whl (absolute). */
  wheel: string;
  /** dist/conf-<package>.tar.gz (absolute): conf/ without local/*.yml. */
  confArchive: string;
  /** The wheel's Requires-Dist without extras-only entries: one requirement a line. */
  requirements: string[];
}

/**
 * Wheel zip entries take this time instead of each file's mtime, so the same
 * sources give the same wheel bytes (wheel and setuptools honour it): a fresh
 * checkout does not look like a code change.
 */
export const SOURCE_DATE_EPOCH = "315532800";

const PROBE = `
import importlib.util, json, sys
out = {"python": sys.version.split()[0], "missing": [m for m in ("kedro", "build") if importlib.util.find_spec(m) is None]}
try:
    import tomllib
except ImportError:
    try:
        import tomli as tomllib
    except ImportError:
        tomllib = None
try:
    with open("pyproject.toml", "rb") as f:
        data = tomllib.load(f) if tomllib else {}
    out["package_name"] = data.get("tool", {}).get("kedro", {}).get("package_name")
except FileNotFoundError:
    out["package_name"] = None
except Exception as e:
    out["pyproject_error"] = str(e)
print(json.dumps(out))
`;

const READ_REQUIRES = `
import json, sys, zipfile
from email.parser import HeaderParser
with zipfile.ZipFile(sys.argv[1]) as z:
    name = next(n for n in z.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
    meta = HeaderParser().parsestr(z.read(name).decode("utf-8"))
print(json.dumps(meta.get_all("Requires-Dist") or []))
`;

interface Probe {
  python: string;
  missing: string[];
  package_name?: string | null;
  pyproject_error?: string;
}

/**
 * Makes what `kedro package` makes (the wheel, the conf archive) with python/kedro_sfn/package.py,
 * which keeps the wheel's isolated build environment between builds instead of installing the
 * build backend again each time; reads back the dependencies.
 */
export async function packageProject(
  options: { projectPath: string; python: string; handlerRoot?: string },
  run: CommandRunner,
  log: (line: string) => void = () => undefined,
): Promise<KedroPackage> {
  const project = resolve(options.projectPath);
  if (!existsSync(join(project, "pyproject.toml"))) {
    throw new UserError(`No pyproject.toml in '${project}': not a Kedro project.`, {
      hint: "Point 'project-path' at the folder that holds the project's pyproject.toml.",
      file: join(project, "pyproject.toml"),
    });
  }
  const probe = await probePython(options.python, project, run);
  if (probe.missing.length > 0) {
    const packages = probe.missing.map((m) => `'${m}'`).join(" and ");
    throw new UserError(
      `The Python at '${options.python}' (${probe.python}) has no ${packages} package: 'kedro package' needs both.`,
      {
        hint: `Install them in that interpreter (${options.python} -m pip install kedro build), or point 'python' at one that has them.`,
      },
    );
  }
  if (probe.pyproject_error !== undefined || !probe.package_name) {
    throw new UserError(`pyproject.toml in '${project}' has no [tool.kedro] package_name.`, {
      hint: probe.pyproject_error ?? "A Kedro project's pyproject.toml names its package under [tool.kedro].",
      file: join(project, "pyproject.toml"),
    });
  }
  const packageName = probe.package_name;

  log(`Packaging ${packageName} (${project})`);
  const pythonPath = [options.handlerRoot ?? pythonHelperRoot(), process.env["PYTHONPATH"]]
    .filter(Boolean)
    .join(delimiter);
  const result = await run({
    argv: [options.python, "-m", "kedro_sfn.package", "--project", project],
    cwd: project,
    env: {
      SOURCE_DATE_EPOCH,
      KEDRO_DISABLE_TELEMETRY: "1",
      DO_NOT_TRACK: "1",
      PYTHONPATH: pythonPath,
    },
  });
  if (result.exitCode !== 0) {
    throw new UserError(
      `Packaging the project (its wheel, as 'kedro package' builds it) failed in '${project}' (exit ${result.exitCode}):\n${outputTail(result, 40)}`,
      {
        hint: "Fix the project so that 'kedro package' succeeds on your machine: it runs 'python -m build --wheel'.",
      },
    );
  }
  const made = JSON.parse(result.stdout.trim().split("\n").pop() ?? "{}") as {
    wheel?: string;
    conf_archive?: string;
    build_env?: string;
  };
  const wheel = made.wheel;
  const confArchive = made.conf_archive ?? join(project, "dist", `conf-${packageName}.tar.gz`);
  if (wheel === undefined || !existsSync(wheel) || !existsSync(confArchive)) {
    throw new UserError(
      `Packaging ran but left no ${wheel === undefined || !existsSync(wheel) ? "wheel" : `conf-${packageName}.tar.gz`} in '${join(project, "dist")}'.`,
      {
        hint: `Its output:\n${outputTail(result, 20)}`,
      },
    );
  }
  if (made.build_env === "new") log("Made the cached build environment for the project's wheel (once).");
  return {
    packageName,
    wheel,
    confArchive,
    requirements: await wheelRequirements(options.python, wheel, run),
  };
}

async function probePython(python: string, project: string, run: CommandRunner): Promise<Probe> {
  let result;
  try {
    result = await run({ argv: [python, "-c", PROBE], cwd: project });
  } catch (error) {
    if (error instanceof CommandNotFoundError) {
      throw new UserError(`Python interpreter '${python}' was not found.`, {
        hint: "Set 'python' to an interpreter with kedro and build installed (e.g. after actions/setup-python: python).",
      });
    }
    throw error;
  }
  if (result.exitCode !== 0) {
    throw new UserError(
      `Python interpreter '${python}' failed to start (exit ${result.exitCode}):\n${outputTail(result, 10)}`,
    );
  }
  return JSON.parse(result.stdout.trim().split("\n").pop() ?? "{}") as Probe;
}

/** Runtime dependencies from the wheel's metadata (extras-only entries dropped). */
async function wheelRequirements(python: string, wheel: string, run: CommandRunner): Promise<string[]> {
  const result = await run({ argv: [python, "-c", READ_REQUIRES, wheel] });
  if (result.exitCode !== 0) {
    throw new Error(`Could not read the dependencies of ${wheel}:\n${outputTail(result, 10)}`);
  }
  const requires = JSON.parse(result.stdout) as string[];
  return requires.filter((line) => !/\bextra\s*==/.test(line.split(";").slice(1).join(";")));
}

/**
 * `kedro package` leaves conf/local out of its conf archive (it holds
 * credentials and machine settings), so Lambdas can never run env 'local'.
 */
export function refuseUnpackagedEnv(kedroEnv: string): void {
  if (kedroEnv.trim() === "local") {
    throw new UserError(
      "Input 'kedro-env' is 'local', but 'kedro package' leaves conf/local out of the package: the Lambdas would run with another catalog than the one checked.",
      {
        hint: "Make an env for AWS (conf/aws/catalog.yml with the datasets on S3, credentials from the Lambda role) and set 'kedro-env: aws'.",
      },
    );
  }
}
