import type { BasicAuth } from "./registry.js";
import { UserError } from "../errors.js";
import { outputTail, type CommandResult, type CommandRunner } from "../process/command.js";
import type { ImageBuilderName, Platform, RegistryEndpoint } from "./options.js";

/** One build: context in, one single-platform image pushed to `target`, digest out. */
export interface BuildRequest {
  contextDir: string;
  dockerfile: string;
  buildArgs: Record<string, string>;
  platform: Platform;
  baseImage: string;
  registry: RegistryEndpoint;
  repository: string;
  /** `<registry>/<repository>:<tag>` */
  target: string;
  /** Only when the registry is the one they were issued for. */
  credentials?: BasicAuth;
  /** A private temp folder for auth and digest files (deleted by the caller). */
  workDir: string;
}

export interface BuildIO {
  run: CommandRunner;
  log: (line: string) => void;
}

/**
 * Build, test, push: three steps so that an image that fails its smoke test
 * is never pushed. The built image stays in the builder's local store
 * (buildah's storage, the Docker daemon) under `localImageName`.
 */
export interface ImageBuilder {
  name: ImageBuilderName;
  build(request: BuildRequest, io: BuildIO): Promise<void>;
  /**
   * Runs `argv` in a container of the built image as Lambda would: another
   * user than root (docker: also no network, a read-only root and a writable
   * /tmp); the image's ENV and WORKDIR apply.
   */
  runInImage(request: BuildRequest, argv: string[], io: BuildIO): Promise<CommandResult>;
  /** Pushes the built image to `request.target`; returns the pushed manifest's digest. */
  push(request: BuildRequest, io: BuildIO): Promise<{ digest: string }>;
}

/** Where a builder keeps the built image before the push (one name per repository: the layer cache stays). */
export function localImageName(repository: string): string {
  return `localhost/kedro-sfn/${repository}:build`;
}

/** A uid:gid that is not root, as Lambda runs functions: files the image needs must be world-readable. */
export const LAMBDA_LIKE_USER = "993:990";

/** A failed build, explained: the architecture, the base image, or the build itself. */
export function buildFailure(
  builder: ImageBuilderName,
  request: BuildRequest,
  result: CommandResult,
): UserError {
  const tail = outputTail(result, 40);
  if (/exec format error/i.test(result.output)) {
    return new UserError(
      `The ${request.platform.architecture} image could not run its build steps on this machine (exec format error).`,
      {
        hint: `Building for ${request.platform.platform} on another CPU needs emulation: install qemu-user-static (binfmt) or docker/setup-qemu-action, or build on a ${request.platform.architecture} runner.\n${tail}`,
      },
    );
  }
  const unresolvable =
    /ResolutionImpossible|No matching distribution found for (\S+)|conflicting dependencies/.exec(
      result.output,
    );
  if (unresolvable) {
    const what = unresolvable[1] ? ` (no version of ${unresolvable[1]} fits)` : "";
    return new UserError(`pip could not install the image's requirements${what}; nothing was pushed.`, {
      hint: `Fix the requirements file named in the log above ("Image dependencies: ..."); Kedro is pinned to the version that inspected the project, so every other pin must allow it.\n${tail}`,
    });
  }
  const base = request.baseImage;
  const pullFailed =
    (result.output.includes(base) &&
      /initializing source|failed to resolve source metadata|pull access denied|error pulling image|failed to pull/i.test(
        result.output,
      )) ||
    /creating build container: initializing source/i.test(result.output);
  if (pullFailed) {
    return new UserError(`The base image '${base}' could not be pulled for ${request.platform.platform}.`, {
      hint: `Check input 'base-image' (name, tag, that it has a ${request.platform.platform} variant) and that this machine can reach its registry and is logged in to it.\n${tail}`,
    });
  }
  return new UserError(`The image build failed (builder ${builder}, exit ${result.exitCode}):\n${tail}`, {
    hint: "The output above shows the failing step; a RUN step that fails here also fails with 'docker build' on your machine.",
  });
}

/** A push the registry refused, with what to check. */
export function pushFailure(request: BuildRequest, result: CommandResult): UserError {
  const tail = outputTail(result, 25);
  const output = result.output;
  let hint = "See the registry's answer above.";
  if (/denied|unauthorized|forbidden|401|403/i.test(output)) {
    hint =
      "The registry refused the credentials: the CI role needs ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload, ecr:PutImage and ecr:BatchCheckLayerAvailability on this repository.";
  } else if (/tag invalid|immutable|already exists/i.test(output)) {
    hint =
      "The repository has immutable tags and this tag exists: make the repository's tags mutable, or build from a new commit.";
  } else if (/manifest invalid|unsupported|media ?type/i.test(output)) {
    hint = "The registry does not accept this image's manifest format.";
  } else if (/connection refused|no such host|timeout|i\/o timeout/i.test(output)) {
    hint = "The registry could not be reached: check input 'registry' and the network.";
  }
  return new UserError(
    `The registry ${request.registry.host} rejected the push of ${request.repository}:\n${tail}`,
    { hint },
  );
}
