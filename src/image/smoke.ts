import { UserError } from "../errors.js";
import { isParameter } from "../graph/preflight.js";
import type { BuildIO, BuildRequest, ImageBuilder } from "./builder.js";
import { outputTail } from "../process/command.js";
import type { ImageOptions } from "./options.js";
import type { RequirementsPlan } from "./requirements.js";

/** What python/kedro_sfn/smoke.py checks in the built image (its --spec). */
export interface SmokeSpec {
  env: string;
  pipeline: string;
  /** Several pipelines sharing the image: each is imported (python/kedro_sfn/smoke.py). */
  pipelines?: string[];
  kedro?: string;
  requirements?: string;
  imports: { distribution: string; version: string; module: string; by: string }[];
  datasets: string[];
}

interface SmokeOutput {
  ok: boolean;
  seconds: number;
  checked?: {
    kedro?: string;
    nodes?: number;
    datasets?: number;
    catalog?: string;
    runtime?: string;
    node_index?: string;
  };
  problems?: { message: string; hint: string }[];
}

export function smokeSpec(options: ImageOptions, requirements: RequirementsPlan): SmokeSpec {
  const graph = options.graph;
  const datasets = new Set<string>();
  for (const node of graph?.nodes ?? []) {
    for (const name of [...node.inputs, ...node.outputs]) if (!isParameter(name)) datasets.add(name);
  }
  const kedro = graph?.runtime?.kedro ?? graph?.project?.kedro_version;
  return {
    env: options.kedroEnv,
    pipeline: options.pipeline,
    ...(options.pipelines ? { pipelines: options.pipelines } : {}),
    ...(kedro !== undefined ? { kedro } : {}),
    ...(requirements.source !== undefined ? { requirements: requirements.source } : {}),
    imports: graph?.runtime?.imports ?? [],
    datasets: [...datasets].sort(),
  };
}

/**
 * Runs the smoke test in the built image, before anything is pushed: the
 * handler imports, the project bootstraps from its wheel and the image's
 * conf, every node function imports and the env's catalog builds, with the
 * Kedro and the packages the project was inspected with.
 */
export async function smokeTestImage(
  builder: ImageBuilder,
  request: BuildRequest,
  spec: SmokeSpec,
  io: BuildIO,
): Promise<{ seconds: number; summary: string }> {
  const started = Date.now();
  const result = await builder.runInImage(
    request,
    ["python3", "-m", "kedro_sfn.smoke", "--spec", JSON.stringify(spec)],
    io,
  );
  const seconds = (Date.now() - started) / 1000;
  const last = result.stdout.trim().split("\n").pop() ?? "";
  let output: SmokeOutput | undefined;
  try {
    output = JSON.parse(last) as SmokeOutput;
  } catch {
    output = undefined;
  }
  if (output === undefined || typeof output.ok !== "boolean") {
    throw new UserError(
      `The built image could not run its smoke test (exit ${result.exitCode}); nothing was pushed:\n${outputTail(result, 25)}`,
      {
        hint: "The image must have python3 on its PATH and /var/task on PYTHONPATH (the generated Dockerfile does both); check 'base-image' or your Dockerfile.",
      },
    );
  }
  if (!output.ok) {
    const problems = (output.problems ?? []).map(
      (p) => `- ${p.message}\n  ${p.hint.split("\n").join("\n  ")}`,
    );
    throw new UserError(
      `The built image failed its smoke test; nothing was pushed or deployed:\n${problems.join("\n")}`,
      {
        hint: "Lambda would fail the same way on the first invocation. Fix the requirements (or the Dockerfile) and run again.",
      },
    );
  }
  const checked = output.checked ?? {};
  const summary = [
    `Kedro ${checked.kedro ?? "?"}`,
    `${checked.nodes ?? "?"} nodes imported`,
    checked.datasets !== undefined
      ? `${checked.datasets} datasets built`
      : (checked.catalog ?? "catalog not built"),
    `${spec.imports.length} packages present`,
    `runtime ${checked.runtime ?? "?"}`,
    ...(checked.node_index !== undefined ? [`node index: ${checked.node_index}`] : []),
    // The rest of the seconds is the builder starting and removing the container.
    `${output.seconds.toFixed(1)} s of it in the checks`,
  ].join(", ");
  return { seconds, summary };
}
