import { UserError } from "../errors.js";
import {
  CommandNotFoundError,
  outputTail,
  type CommandResult,
  type CommandRunner,
} from "../process/command.js";
import {
  LAMBDA_LIKE_USER,
  buildFailure,
  localImageName,
  pushFailure,
  type BuildIO,
  type BuildRequest,
  type ImageBuilder,
} from "./builder.js";

/** The tag holding BuildKit's layer cache in the same repository (counted by the lifecycle policy). */
export const CACHE_TAG = "kedro-sfn-buildcache";

export interface DockerBuildPlan {
  argv: string[];
}

/**
 * `docker buildx build` for Lambda: one platform, no provenance or SBOM
 * attestations (they turn the push into an image index, which Lambda
 * rejects), loaded into the daemon so the smoke test runs the very image
 * that `docker push` sends. The registry cache needs a BuildKit container
 * builder; the default `docker` driver can only read it.
 */
export function dockerBuildArgs(request: BuildRequest, options: { exportCache: boolean }): DockerBuildPlan {
  const cacheRef = `${request.registry.host}/${request.repository}:${CACHE_TAG}`;
  const insecure = request.registry.insecure ? ",registry.insecure=true" : "";
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
    "--load",
    "--tag",
    localImageName(request.repository),
    "--cache-from",
    `type=registry,ref=${cacheRef}${insecure}`,
  ];
  if (options.exportCache) {
    argv.push(
      "--cache-to",
      `type=registry,ref=${cacheRef},mode=max,image-manifest=true,oci-mediatypes=true${insecure}`,
    );
  }
  for (const [key, value] of Object.entries(request.buildArgs).sort(([a], [b]) => (a < b ? -1 : 1))) {
    argv.push("--build-arg", `${key}=${value}`);
  }
  argv.push(request.contextDir);
  return { argv };
}

/** `docker run` of the built image as Lambda runs code: not root, read-only root, writable /tmp, no network. */
export function dockerRunArgs(request: BuildRequest, argv: string[]): string[] {
  const [program, ...args] = argv;
  return [
    "docker",
    "run",
    "--rm",
    "--network",
    "none",
    "--user",
    LAMBDA_LIKE_USER,
    "--read-only",
    "--tmpfs",
    "/tmp",
    "--entrypoint",
    program ?? "",
    localImageName(request.repository),
    ...args,
  ];
}

export const dockerBuilder: ImageBuilder = {
  name: "docker",
  async build(request: BuildRequest, io: BuildIO): Promise<void> {
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
    if (build.exitCode !== 0) throw buildFailure("docker", request, build);
  },

  async runInImage(request: BuildRequest, argv: string[], io: BuildIO) {
    return runDocker(io.run, dockerRunArgs(request, argv));
  },

  async push(request: BuildRequest, io: BuildIO): Promise<{ digest: string }> {
    const tag = await runDocker(io.run, [
      "docker",
      "tag",
      localImageName(request.repository),
      request.target,
    ]);
    if (tag.exitCode !== 0) throw new Error(`docker tag failed:\n${outputTail(tag, 10)}`);
    io.log(`Pushing ${request.target}`);
    const push = await runDocker(io.run, ["docker", "push", request.target], undefined, io.log);
    await runDocker(io.run, ["docker", "rmi", "--no-prune", request.target]);
    if (push.exitCode !== 0) throw pushFailure(request, push);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(push.output)?.[1];
    if (digest === undefined) throw new Error(`docker push reported no digest:\n${outputTail(push, 10)}`);
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
