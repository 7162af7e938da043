import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { UserError } from "../errors.js";
import type { RuntimeProfile } from "../graph/types.js";

/**
 * Where the image's dependencies come from, first found wins (input
 * 'requirements' overrides): the files Kedro's starters and most projects keep.
 */
export const DEFAULT_REQUIREMENTS_FILES = [
  "requirements.txt",
  "src/requirements.txt",
  "requirements/base.txt",
  "requirements/prod.txt",
];

/**
 * Development, test and notebook tools: never needed by a node, and they
 * double an image's size (jupyterlab, kedro-viz). Dropped from a file found
 * by default and from the wheel's dependencies; an explicit 'requirements'
 * file is installed as written.
 */
const DEV_TOOLS = [
  /^ipython$/,
  /^ipykernel$/,
  /^ipywidgets$/,
  /^jupyter($|-.*)/,
  /^jupyterlab($|-.*)/,
  /^notebook$/,
  /^nbstripout$/,
  /^nbsphinx$/,
  /^kedro-viz$/,
  /^kedro-telemetry$/,
  /^pytest($|-.*)/,
  /^coverage$/,
  /^ruff$/,
  /^black$/,
  /^flake8($|-.*)/,
  /^isort$/,
  /^mypy$/,
  /^pylint$/,
  /^pre-commit$/,
  /^sphinx($|-.*)/,
  /^myst-parser$/,
  /^twine$/,
];

/** pip's own options that may stand on a line of their own in a requirements file. */
const PIP_OPTION =
  /^(-i|--index-url|--extra-index-url|-f|--find-links|--trusted-host|--pre|--prefer-binary|--only-binary|--no-binary)\b/;

export interface RequirementsPlan {
  /** requirements.txt of the build context: pip options, then one requirement a line. */
  requirements: string[];
  /** constraints.txt: Kedro pinned to the version that inspected the project, plus the file's own -c. */
  constraints: string[];
  /** The project's file that was used (relative to the project), if any. */
  source?: string;
  /** True when the file came from input 'requirements' (installed as written). */
  explicit: boolean;
  /** Dev tools left out, as written. */
  dropped: string[];
  /** Requirements added because the catalog needs them, with the reason. */
  added: { requirement: string; why: string }[];
  /** The file uses --hash: nothing can be added to it, pip would refuse unhashed lines. */
  hashed: boolean;
}

export interface RequirementsInput {
  projectPath: string;
  /** Input 'requirements', relative to the project; empty: the first default file found. */
  requirementsFile?: string;
  /** The wheel's Requires-Dist (extras-only entries already dropped). */
  wheelRequires: string[];
  runtime?: RuntimeProfile;
  /** Kedro version of the inspecting interpreter when the graph has no runtime profile. */
  kedroVersion?: string;
  /** Input 'data-location': the run store needs s3fs (writes) and cloudpickle (the general format). */
  dataLocation?: string;
  /** The file as readRequirements found it; default: read it now. */
  read?: ReadRequirements;
}

/** The canonical (PEP 503) name a requirement line installs, or undefined for URLs and paths. */
export function requirementName(line: string): string | undefined {
  const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[|==|>=|<=|~=|!=|>|<|===|;|@|\s|$)/.exec(line.trim());
  return match?.[1] === undefined ? undefined : match[1].toLowerCase().replace(/[-_.]+/g, "-");
}

function isDevTool(line: string): boolean {
  const name = requirementName(line);
  return name !== undefined && DEV_TOOLS.some((pattern) => pattern.test(name));
}

/** A requirements file flattened: -r included, -c collected, comments and continuations gone. */
interface ParsedFile {
  options: string[];
  requirements: { line: string; file: string; number: number }[];
  constraints: string[];
}

function readRequirementsFile(path: string, project: string, seen: Set<string>, into: ParsedFile): void {
  if (seen.has(path)) return;
  seen.add(path);
  const shown = relative(project, path) || path;
  const text = readFileSync(path, "utf8");
  const lines = text.replace(/\\\r?\n/g, " ").split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw
      .replace(/(^|\s)#.*$/, "")
      .replace(/\s+/g, " ")
      .trim();
    if (line === "") return;
    const include = /^(-r|--requirement|-c|--constraint)(?:\s+|=)(.+)$/.exec(line);
    if (include?.[1] !== undefined && include[2] !== undefined) {
      const target = resolve(dirname(path), include[2].trim());
      if (!existsSync(target)) {
        throw new UserError(
          `${shown} line ${index + 1} includes '${include[2].trim()}', which does not exist.`,
          {
            file: path,
            hint: "Paths in -r and -c are relative to the file that names them.",
          },
        );
      }
      if (include[1].startsWith("-c") || include[1] === "--constraint") {
        const constraints: ParsedFile = { options: [], requirements: [], constraints: [] };
        readRequirementsFile(target, project, seen, constraints);
        into.constraints.push(...constraints.requirements.map((r) => r.line), ...constraints.constraints);
      } else {
        readRequirementsFile(target, project, seen, into);
      }
      return;
    }
    if (/^(-e|--editable)(\s|=)/.test(line)) {
      const target = line.replace(/^(-e|--editable)(\s+|=)/, "");
      // `-e .` or `-e src/`: the project itself, which the image installs from its wheel.
      if (/^(\.|\/|file:)/.test(target)) return;
      into.requirements.push({ line: target, file: shown, number: index + 1 });
      return;
    }
    if (PIP_OPTION.test(line)) {
      into.options.push(line);
      return;
    }
    if (/^(\.{1,2}\/|\/|file:)/.test(line)) {
      throw new UserError(
        `${shown} line ${index + 1} installs the local path '${line}', which is not in the image's build context.`,
        {
          file: path,
          hint: "Publish that package to your package index (or build its wheel into the project) and name it by version, or give input 'requirements' a file without local paths.",
        },
      );
    }
    into.requirements.push({ line, file: shown, number: index + 1 });
  });
}

/** The project's requirements file: input 'requirements', else the first default that exists. */
export function findRequirementsFile(
  projectPath: string,
  requirementsFile: string | undefined,
): { path: string; explicit: boolean } | undefined {
  const project = resolve(projectPath);
  const given = (requirementsFile ?? "").trim();
  if (given !== "") {
    const path = resolve(project, given);
    if (!existsSync(path)) {
      throw new UserError(`Input 'requirements' names '${given}', which does not exist in '${project}'.`, {
        file: path,
        hint: `Give a path relative to the project (project-path), or leave 'requirements' empty to use the first of ${DEFAULT_REQUIREMENTS_FILES.join(", ")} that exists.`,
      });
    }
    return { path, explicit: true };
  }
  const found = DEFAULT_REQUIREMENTS_FILES.map((name) => join(project, name)).find((path) =>
    existsSync(path),
  );
  return found === undefined ? undefined : { path: found, explicit: false };
}

/**
 * What the image installs, by one rule a user can predict: the project's
 * requirements file (dev tools dropped unless the file was named explicitly),
 * the wheel's own dependencies on top, then what the catalog certainly needs
 * (a kedro-datasets extra per dataset type, s3fs for s3:// paths), all in one
 * pip resolve constrained to the Kedro version that inspected the project.
 */
export function planRequirements(input: RequirementsInput): RequirementsPlan {
  const project = resolve(input.projectPath);
  const { file, parsed } = input.read ?? readRequirements(input);
  const explicit = file?.explicit ?? false;
  const hashed = parsed.requirements.some((r) => /\s--hash[=\s]/.test(r.line));
  const dropped: string[] = [];
  const keep = (line: string): boolean => {
    if (!isDevTool(line)) return true;
    if (!dropped.includes(line)) dropped.push(line);
    return false;
  };
  const fromFile = parsed.requirements.map((r) => r.line).filter((line) => explicit || keep(line));
  const kedro = inspectedKedro(input);

  const requirements = [...parsed.options, ...fromFile];
  const added: RequirementsPlan["added"] = [];
  if (!hashed) {
    const present = new Set(requirements);
    const push = (line: string): void => {
      if (present.has(line)) return;
      present.add(line);
      requirements.push(line);
    };
    for (const line of input.wheelRequires.filter(keep)) push(line);
    const named = new Set(requirements.map(requirementName));
    for (const need of [
      ...(input.runtime?.data_requirements ?? []),
      ...runStoreRequirements(input.dataLocation),
    ]) {
      const name = requirementName(need.requirement);
      const coveredByName = !need.requirement.includes("[") && named.has(name);
      if (coveredByName || present.has(need.requirement)) continue;
      push(need.requirement);
      added.push(need);
    }
  }
  const constraints = [...(kedro !== undefined ? [`kedro==${kedro}`] : []), ...parsed.constraints];
  return {
    requirements,
    constraints,
    ...(file !== undefined ? { source: relative(project, file.path) } : {}),
    explicit,
    dropped,
    added,
    hashed,
  };
}

/**
 * What kedro_sfn.runstore imports when 'data-location' is set: s3fs for s3:// (fsspec comes
 * with it) and cloudpickle, its format for objects that are neither DataFrames nor arrays.
 * pyarrow is not added: without it DataFrames are pickled (a project that has it gets parquet).
 */
export function runStoreRequirements(
  dataLocation: string | undefined,
): { requirement: string; why: string }[] {
  if (!dataLocation) return [];
  const why = `input 'data-location' (${dataLocation}) stores in-memory datasets that cross Lambdas`;
  return [
    { requirement: "s3fs", why },
    { requirement: "cloudpickle", why },
  ];
}

/** The project's requirements file, found, read and checked: the part of the plan that needs no wheel. */
export interface ReadRequirements {
  file: { path: string; explicit: boolean } | undefined;
  parsed: ParsedFile;
}

/**
 * Finds and reads the requirements file, and refuses a Kedro pin other than
 * the inspected one: cheap, so the build calls it before any AWS call or
 * `kedro package`, and hands the result to planRequirements.
 */
export function readRequirements(input: Omit<RequirementsInput, "wheelRequires" | "read">): ReadRequirements {
  const project = resolve(input.projectPath);
  const file = findRequirementsFile(project, input.requirementsFile);
  const parsed: ParsedFile = { options: [], requirements: [], constraints: [] };
  if (file !== undefined) readRequirementsFile(file.path, project, new Set(), parsed);
  const kedro = inspectedKedro(input);
  if (kedro !== undefined) checkKedroPin(parsed.requirements, kedro, project);
  return { file, parsed };
}

function inspectedKedro(input: Pick<RequirementsInput, "runtime" | "kedroVersion">): string | undefined {
  return input.runtime?.kedro ?? input.kedroVersion;
}

/** `kedro==X` in the file that is not the inspected X can never resolve: say so before a long build. */
function checkKedroPin(lines: ParsedFile["requirements"], kedro: string, project: string): void {
  for (const { line, file, number } of lines) {
    const pin = /^kedro\s*===?\s*([^\s;,]+)\s*(;.*)?$/i.exec(line);
    if (pin?.[1] !== undefined && pin[1] !== kedro) {
      throw new UserError(
        `${file} line ${number} pins kedro==${pin[1]}, but the project was inspected with Kedro ${kedro}: the image would run another Kedro than the one checked.`,
        {
          file: join(project, file),
          hint: `Pin kedro==${kedro} there, or set input 'python' to an interpreter with Kedro ${pin[1]}.`,
        },
      );
    }
  }
}

/** Log lines that say which file was used and what was left out or added. */
export function describeRequirements(plan: RequirementsPlan): string[] {
  const lines = [
    plan.source === undefined
      ? `Image dependencies: the wheel's own (no ${DEFAULT_REQUIREMENTS_FILES.join(", ")} in the project; input 'requirements' names another file).`
      : `Image dependencies: ${plan.source}${plan.explicit ? " (input 'requirements')" : ""} and the wheel's own dependencies.`,
  ];
  if (plan.constraints[0]?.startsWith("kedro=="))
    lines.push(`Kedro pinned to ${plan.constraints[0].slice(7)}, the version that inspected the project.`);
  if (plan.dropped.length > 0) lines.push(`Not installed (development tools): ${plan.dropped.join(", ")}.`);
  for (const { requirement, why } of plan.added) lines.push(`Added ${requirement}: ${why}.`);
  if (plan.hashed)
    lines.push(
      `${plan.source ?? "The requirements file"} uses --hash: installed as written, so it must hold every dependency (the wheel's, s3fs, dataset extras).`,
    );
  return lines;
}
