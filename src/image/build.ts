import type { ECRClient } from "@aws-sdk/client-ecr";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ensureRepository, getRegistryCredentials, type RegistryCredentials } from "../aws/ecr.js";
import { RegistryClient, isIndex, type BasicAuth, type Manifest } from "./registry.js";
import { UserError, errorMessage } from "../errors.js";
import { pythonHelperRoot } from "../kedro/helperPath.js";
import { buildahBuilder, buildahStorage, storageArgs } from "./buildah.js";
import type { ImageBuilder } from "./builder.js";
import { runCommand, type CommandRunner } from "../process/command.js";
import { checkUserDockerfile, prepareBuildContext } from "./context.js";
import { dockerBuilder } from "./docker.js";
import { contentHash } from "./hash.js";
import {
  confInImage,
  parseRegistry,
  platformFor,
  validateRepositoryName,
  type ImageOptions,
  type Platform,
  type RegistryEndpoint,
} from "./options.js";
import { packageProject, refuseUnpackagedEnv } from "./package.js";
import { describeRequirements, planRequirements, readRequirements } from "./requirements.js";
import { smokeSpec, smokeTestImage } from "./smoke.js";

/** What the next stage needs: the image by digest (Lambda deploys by digest, never by tag). */
export interface ImageResult {
  /** `<registry>/<repository>@sha256:...` */
  imageUri: string;
  digest: string;
  /** The commit tag when a commit SHA was given, else the content tag. */
  tag: string;
  /** Every tag this run made sure points at the image. */
  tags: string[];
  /** True when an image with the same content hash was already there: nothing was built. */
  skipped: boolean;
  contentHash: string;
  /** Compressed size of config and layers (what a first pull downloads). */
  imageBytes: number;
  /** Bytes this run uploaded, when the caller could measure them (see bench/image_push.ts). */
  bytesPushed?: number;
  repository: string;
  registry: string;
  platform: Platform["platform"];
  /** The conf archive from `kedro package`, for uploading when conf is read from S3. */
  confArchive: string;
  packageName: string;
}

export interface ImageDeps {
  ecr: ECRClient;
  /** Registers a secret so the action's log never shows it (core.setSecret); default: no-op. */
  mask?: (secret: string) => void;
  log?: (line: string) => void;
  /** Detail lines (every build step's output); default: log. */
  debug?: (line: string) => void;
  run?: CommandRunner;
  fetch?: typeof fetch;
  /** Builders by name (tests may pass their own); default: docker and buildah. */
  builders?: Partial<Record<ImageOptions["builder"], ImageBuilder>>;
}

/** The tag that stands for the content hash: its presence in the repository means "already built". */
export function contentTag(hash: string): string {
  return `kedro-sfn-${hash.slice(0, 32)}`;
}

/**
 * `kedro package`, build context, content hash; then either finds the same
 * image already in the repository (and only adds tags) or builds and pushes
 * it; then checks that what the registry holds is something Lambda runs.
 */
export async function buildAndPushImage(options: ImageOptions, deps: ImageDeps): Promise<ImageResult> {
  const log = deps.log ?? (() => undefined);
  const mask = deps.mask ?? (() => undefined);
  const run = deps.run ?? runCommand;
  const platform = platformFor(options.architecture);
  const repository = validateRepositoryName(options.ecrRepository);
  const withConf = confInImage(options.confSource);
  const builder = { docker: dockerBuilder, buildah: buildahBuilder, ...deps.builders }[options.builder];
  if (builder === undefined)
    throw new UserError(`Input 'builder' must be docker or buildah; got '${options.builder}'.`);
  const project = resolve(options.projectPath);
  refuseUnpackagedEnv(options.kedroEnv);
  // A missing or broken requirements file (or another Kedro pinned in it) fails before any AWS
  // call and before `kedro package`.
  const inspected = {
    projectPath: project,
    ...(options.requirementsFile ? { requirementsFile: options.requirementsFile } : {}),
    ...(options.graph?.runtime ? { runtime: options.graph.runtime } : {}),
    ...(options.graph?.project?.kedro_version ? { kedroVersion: options.graph.project.kedro_version } : {}),
    ...(options.dataLocation ? { dataLocation: options.dataLocation } : {}),
  };
  const read = readRequirements(inspected);
  if (options.dockerfile) checkUserDockerfile(resolve(project, options.dockerfile));
  const commitTags = options.commitSha ? [commitTag(options.commitSha)] : [];

  // Credentials first (a read): bad ones fail in seconds, not after a long build. The first
  // AWS write (the repository) waits until the image has passed its smoke test.
  const credentials = await getRegistryCredentials(deps.ecr, mask);
  const endpoint = parseRegistry(options.registry || credentials.host);
  const auth = credentialsFor(endpoint, credentials);
  const registry = new RegistryClient(
    { host: endpoint.host, url: endpoint.url },
    repository,
    auth,
    deps.fetch,
  );
  const ensureEcrRepository = async (): Promise<void> => {
    const ecrRepository = await ensureRepository(deps.ecr, repository, options.keepImages);
    if (ecrRepository.created)
      log(
        `Created ECR repository ${ecrRepository.uri} (scan on push, keeps the newest ${options.keepImages} images)`,
      );
  };

  const pkg = await packageProject(
    {
      projectPath: project,
      python: options.python,
      ...(options.handlerRoot ? { handlerRoot: options.handlerRoot } : {}),
    },
    run,
    log,
  );
  const requirements = planRequirements({ ...inspected, wheelRequires: pkg.requirements, read });
  for (const line of describeRequirements(requirements)) log(line);
  const context = await prepareBuildContext(
    {
      projectPath: project,
      baseImage: options.baseImage,
      confInImage: withConf,
      platform: platform.platform,
      handlerRoot: options.handlerRoot ?? pythonHelperRoot(),
      python: options.python,
      ...(options.graph?.node_index_file ? { nodeIndexFile: options.graph.node_index_file } : {}),
      log,
      ...(options.dockerfile ? { dockerfile: options.dockerfile } : {}),
      ...(options.confSource ? { confSource: options.confSource } : {}),
      requirements,
    },
    pkg,
    run,
  );
  const hash = contentHash(context.header, context.files);
  const hashTag = contentTag(hash);
  const tags = [hashTag, ...commitTags];
  const common = {
    contentHash: hash,
    repository,
    registry: endpoint.host,
    platform: platform.platform,
    confArchive: pkg.confArchive,
    packageName: pkg.packageName,
  };

  const existing = await registry.headManifest(hashTag);
  if (existing !== undefined) {
    await ensureEcrRepository();
    log(
      `${endpoint.host}/${repository}:${hashTag} exists (same wheel, requirements, conf, Dockerfile, handler): not building.`,
    );
    const manifest = await verifyLambdaImage(registry, existing.digest, platform, !context.generated);
    await addTags(registry, manifest, tags.slice(1));
    return result(manifest, true, tags, common);
  }

  const workDir = mkdtempSync(join(tmpdir(), "kedro-sfn-build-"));
  try {
    log(`Building ${endpoint.host}/${repository}:${hashTag} for ${platform.platform} with ${builder.name}`);
    const request = {
      contextDir: context.contextDir,
      dockerfile: context.dockerfile,
      buildArgs: context.buildArgs,
      platform,
      baseImage: options.baseImage,
      registry: endpoint,
      repository,
      target: `${endpoint.host}/${repository}:${hashTag}`,
      ...(auth ? { credentials: auth } : {}),
      workDir,
    };
    const io = { run, log: deps.debug ?? log };
    await builder.build(request, io);
    const smoke = await smokeTestImage(builder, request, smokeSpec(options, requirements), io);
    log(`Smoke test passed in the image (${smoke.seconds.toFixed(1)} s): ${smoke.summary}`);
    await ensureEcrRepository();
    const { digest } = await builder.push(request, io);
    const manifest = await verifyLambdaImage(registry, digest, platform, !context.generated);
    await addTags(registry, manifest, tags.slice(1));
    return result(manifest, false, tags, common);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

function result(
  manifest: Manifest,
  skipped: boolean,
  tags: string[],
  common: Omit<ImageResult, "imageUri" | "digest" | "tag" | "tags" | "skipped" | "imageBytes">,
): ImageResult {
  const imageBytes =
    (manifest.json.config?.size ?? 0) +
    (manifest.json.layers ?? []).reduce((sum, layer) => sum + layer.size, 0);
  return {
    imageUri: `${common.registry}/${common.repository}@${manifest.digest}`,
    digest: manifest.digest,
    tag: tags[tags.length - 1] ?? "",
    tags,
    skipped,
    imageBytes,
    ...common,
  };
}

/** ECR's token goes to ECR's registry only: a `registry` override elsewhere gets no AWS secret. */
function credentialsFor(endpoint: RegistryEndpoint, credentials: RegistryCredentials): BasicAuth | undefined {
  return endpoint.host === credentials.host
    ? { username: credentials.username, password: credentials.password }
    : undefined;
}

function commitTag(sha: string): string {
  const tag = sha.trim();
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(tag)) {
    throw new UserError(`The commit SHA '${sha}' cannot be an image tag.`, {
      hint: "Give the full or short hex SHA of the commit.",
    });
  }
  return tag;
}

async function addTags(registry: RegistryClient, manifest: Manifest, tags: string[]): Promise<void> {
  for (const tag of tags) await registry.putManifest(tag, manifest);
}

/**
 * What Lambda accepts: one single-platform manifest (not an index), for the
 * requested architecture, with a CMD naming the handler.
 */
export async function verifyLambdaImage(
  registry: RegistryClient,
  digest: string,
  platform: Platform,
  userDockerfile: boolean,
): Promise<Manifest> {
  const manifest = await registry.getManifest(digest);
  const where = `${registry.target.host}/${registry.repository}@${digest}`;
  if (isIndex(manifest.mediaType)) {
    throw new UserError(
      `The pushed image ${where} is an image index (${manifest.json.manifests?.length ?? 0} entries), which Lambda rejects.`,
      {
        hint: userDockerfile
          ? "Build a single platform without attestations (docker buildx: --provenance=false --sbom=false), and do not push a manifest list."
          : "Lambda takes single-platform images only.",
      },
    );
  }
  const config = await registry.getImageConfig(manifest);
  if (config.architecture !== platform.ociArchitecture || (config.os ?? "linux") !== "linux") {
    throw new UserError(
      `The pushed image ${where} is ${config.os ?? "?"}/${config.architecture ?? "?"}, not ${platform.platform}.`,
      {
        hint: `Input 'architecture' is ${platform.architecture}: the Dockerfile must not pin another platform.`,
      },
    );
  }
  if (!config.config?.Cmd || config.config.Cmd.length === 0) {
    throw new UserError(`The pushed image ${where} has no CMD: Lambda would not know the handler.`, {
      hint: 'End the Dockerfile with CMD ["kedro_sfn.handler.handler"].',
    });
  }
  return manifest;
}

/**
 * Is the builder usable here? Asked before any AWS write, so a runner without a Docker daemon
 * (or without buildx, or buildah) leaves no repository behind. DOCKER_HOST applies as for the build.
 */
export async function checkBuilder(
  name: ImageOptions["builder"],
  run: CommandRunner = runCommand,
): Promise<void> {
  const probes: { argv: string[]; what: string; hint: string }[] =
    name === "docker"
      ? [
          {
            argv: ["docker", "version", "--format", "{{.Server.Version}}"],
            what: `the Docker daemon${process.env["DOCKER_HOST"] ? ` at DOCKER_HOST=${process.env["DOCKER_HOST"]}` : ""} does not answer`,
            hint: "Start Docker (or point DOCKER_HOST at a running engine), or set 'builder: buildah' on a runner with buildah.",
          },
          {
            argv: ["docker", "buildx", "version"],
            what: "docker buildx is not installed",
            hint: "Add docker/setup-buildx-action before this step, or install the buildx plugin.",
          },
        ]
      : [
          {
            argv: ["buildah", ...storageArgs((await buildahStorage(run)).driver), "info"],
            what: "buildah cannot open its storage",
            hint: "Install buildah (apt-get install buildah) and check its storage configuration, or use 'builder: docker'.",
          },
        ];
  for (const probe of probes) {
    let result: Awaited<ReturnType<CommandRunner>>;
    try {
      result = await run({ argv: probe.argv });
    } catch (error) {
      throw new UserError(
        `Input 'builder' is ${name}, but '${probe.argv[0] ?? name}' is not installed: ${errorMessage(error)}.`,
        {
          hint: probe.hint,
          cause: error,
        },
      );
    }
    if (result.exitCode !== 0) {
      const said = result.output.trim().split("\n").slice(-3).join(" ");
      throw new UserError(
        `Input 'builder' is ${name}, but ${probe.what}: ${said || `exit ${result.exitCode}`}.`,
        {
          hint: probe.hint,
        },
      );
    }
  }
}
