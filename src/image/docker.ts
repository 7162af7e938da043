import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors.js";
import {
  CommandNotFoundError,
  outputTail,
  type CommandResult,
  type CommandRunner,
} from "../process/command.js";
import { buildFailure, pushFailure, type BuildIO, type BuildRequest, type ImageBuilder } from "./builder.js";

/** The tag holding BuildKit's layer cache in the same repository (counted by the lifecycle policy). */
export const CACHE_TAG = "kedro-sfn-buildcache";

export interface DockerBuildPlan {
  argv: string[];
  metadataFile: string;
}

/**
 * `docker buildx build` for Lambda: one platform, no provenance or SBOM
 * attestations (they turn the push into an image index, which Lambda
 * rejects), pushed straight from BuildKit. The registry cache needs a
 * BuildKit container builder; the default `docker` driver can only read it.
 */
export function dockerBuildArgs(request: BuildRequest, options: { exportCache: boolean }): DockerBuildPlan {
  const metadataFile = join(request.workDir, "metadata.json");
  const cacheRef = `${request.registry.host}/${request.repository}:${CACHE_TAG}`;
  const output = [
    "type=image",
    `name=${request.target}`,
    "push=true",
    ...(request.registry.insecure ? ["registry.insecure=true"] : []),
  ];
  const argv = [
    "docker",
    "buildx",
    "build",
    "--platform",
    request.platform.platform,
    "--provenance=false",
    "--sbom=false",
    "--file",
    request.dockerfile,
    "--metadata-file",
    metadataFile,
    "--output",
    output.join(","),
    "--cache-from",
    `type=registry,ref=${cacheRef}${request.registry.insecure ? ",registry.insecure=true" : ""}`,
  ];
  if (options.exportCache) {
    argv.push(
      "--cache-to",
      `type=registry,ref=${cacheRef},mode=max,image-manifest=true,oci-mediatypes=true${request.registry.insecure ? ",registry.insecure=true" : ""}`,
    );
  }
  for (const [key, value] of Object.entries(request.buildArgs).sort(([a], [b]) => (a < b ? -1 : 1))) {
    argv.push("--build-arg", `${key}=${value}`);
  }
  argv.push(request.contextDir);
  return { argv, metadataFile };
}

export const dockerBuilder: ImageBuilder = {
  name: "docker",
  async buildAndPush(request: BuildRequest, io: BuildIO): Promise<{ digest: string }> {
    const driver = await buildxDriver(io.run);
    if (request.credentials) {
      const login = await runDocker(
        io.run,
        [
          "docker",
          "login",
          "--username",
          request.credentials.username,
          "--password-stdin",
          request.registry.host,
        ],
        request.credentials.password,
      );
      if (login.exitCode !== 0) throw pushFailure(request, login);
    }
    const plan = dockerBuildArgs(request, { exportCache: driver !== "docker" });
    const build = await runDocker(io.run, plan.argv, undefined, io.log);
    if (build.exitCode !== 0) {
      if (/push|unexpected status|denied|unauthorized|failed commit on ref/i.test(outputTail(build, 5)))
        throw pushFailure(request, build);
      throw buildFailure("docker", request, build);
    }
    const metadata = existsSync(plan.metadataFile)
      ? (JSON.parse(readFileSync(plan.metadataFile, "utf8")) as Record<string, unknown>)
      : {};
    const digest = metadata["containerimage.digest"];
    if (typeof digest !== "string" || !digest.startsWith("sha256:")) {
      throw new Error(`docker buildx reported no image digest in ${plan.metadataFile}.`);
    }
    return { digest };
  },
};

/** The driver of the current buildx builder ("docker", "docker-container", ...); explains a missing daemon or plugin. */
async function buildxDriver(run: CommandRunner): Promise<string> {
  const inspect = await runDocker(run, ["docker", "buildx", "inspect"]);
  if (inspect.exitCode !== 0) throw dockerUnavailable(inspect);
  return /^Driver:\s*(\S+)/m.exec(inspect.stdout)?.[1] ?? "docker";
}

function dockerUnavailable(result: CommandResult): UserError {
  if (/unknown command: docker buildx|'buildx' is not a docker command|unknown flag/i.test(result.output)) {
    return new UserError("Builder 'docker' needs the buildx plugin, which this docker does not have.", {
      hint: "Add docker/setup-buildx-action before this step, or use builder 'buildah'.",
    });
  }
  if (/Cannot connect to the Docker daemon|docker daemon|docker.sock/i.test(result.output)) {
    return new UserError("Builder 'docker' needs a running Docker daemon, and none answers here.", {
      hint: "Start Docker (GitHub's ubuntu runners have it), or use builder 'buildah', which needs no daemon.",
    });
  }
  return new UserError(
    `docker buildx is not usable here (exit ${result.exitCode}):\n${outputTail(result, 15)}`,
    {
      hint: "Use builder 'buildah', or fix the Docker installation.",
    },
  );
}

async function runDocker(
  run: CommandRunner,
  argv: string[],
  input?: string,
  log?: (line: string) => void,
): Promise<CommandResult> {
  try {
    return await run({
      argv,
      ...(input !== undefined ? { input } : {}),
      ...(log ? { onLine: log } : {}),
      env: { DOCKER_BUILDKIT: "1" },
    });
  } catch (error) {
    if (error instanceof CommandNotFoundError) {
      throw new UserError("Builder 'docker' is not installed on this machine.", {
        hint: "Use a runner with Docker (ubuntu-latest), or builder 'buildah'.",
      });
    }
    throw error;
  }
}
