import { UserError } from "../errors.js";
import type { PipelineGraph } from "../graph/types.js";
import { isRegistryHost } from "./reference.js";

export type ImageBuilderName = "docker" | "buildah";

/** What `buildAndPushImage` needs; the lead maps the run's Options onto it. */
export interface ImageOptions {
  /** The Kedro project (holds pyproject.toml with [tool.kedro]). */
  projectPath: string;
  /** Interpreter that runs `kedro package`; needs the `kedro` and `build` packages. */
  python: string;
  builder: ImageBuilderName;
  /** FROM of the generated Dockerfile (and build-arg BASE_IMAGE for a project's own). */
  baseImage: string;
  /** The project's own Dockerfile, relative to projectPath; empty or absent: generated. */
  dockerfile?: string;
  /** "image" (default): conf goes into the image; an s3:// URL: conf is read from there at run time. */
  confSource?: string;
  /** Lambda architecture: x86_64 or arm64. */
  architecture: string;
  /** ECR repository name (created when missing). */
  ecrRepository: string;
  /** Registry host[:port] to push to; default: the ECR repository's registry. */
  registry?: string;
  /** Tagged onto the image besides the content tag (GITHUB_SHA). */
  commitSha?: string;
  /** Lifecycle policy of a repository created here: expire all but the newest N images. */
  keepImages: number;
  /** Input 'requirements': the project's requirements or lock file (default: found in the project). */
  requirementsFile?: string;
  /** Kedro env the Lambdas run with: the smoke test builds its catalog. */
  kedroEnv: string;
  /** The pipeline the smoke test imports. */
  pipeline: string;
  /** Several pipelines sharing the image (`pipeline: a,b`): the smoke test imports each. */
  pipelines?: string[];
  /** The inspected graph: its datasets and runtime profile decide what the image must hold. */
  graph?: PipelineGraph;
  /** Input 'data-location': the handler then writes crossing in-memory datasets there (s3fs, cloudpickle). */
  dataLocation?: string;
  /** Folder holding the kedro_sfn package; default: found beside the bundle or in the checkout. */
  handlerRoot?: string;
}

export interface Platform {
  architecture: "x86_64" | "arm64";
  /** OCI platform string for --platform. */
  platform: "linux/amd64" | "linux/arm64";
  /** What the image config's `architecture` field says. */
  ociArchitecture: "amd64" | "arm64";
}

export const DEFAULT_BASE_IMAGE = "public.ecr.aws/lambda/python:3.12";
export const DEFAULT_KEEP_IMAGES = 30;

/** Lambda runs x86_64 and arm64 only: anything else is the user's to fix. */
export function platformFor(architecture: string): Platform {
  if (architecture === "x86_64") return { architecture, platform: "linux/amd64", ociArchitecture: "amd64" };
  if (architecture === "arm64") return { architecture, platform: "linux/arm64", ociArchitecture: "arm64" };
  const suggestion: Record<string, string> = {
    amd64: "x86_64",
    x64: "x86_64",
    aarch64: "arm64",
    arm: "arm64",
  };
  const hint = suggestion[architecture.toLowerCase()];
  throw new UserError(
    `Input 'architecture' must be x86_64 or arm64 (what AWS Lambda runs); got '${architecture}'.`,
    {
      hint: hint ? `Did you mean '${hint}'?` : "Set 'architecture' to x86_64 or arm64.",
    },
  );
}

const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

export function validateRepositoryName(name: string): string {
  if (name === "") {
    throw new UserError("Input 'ecr-repository' is required to build an image.", {
      hint: "Set 'ecr-repository' to the name of the ECR repository (created when missing), e.g. spaceflights.",
    });
  }
  if (/\.dkr\.ecr\.|amazonaws\.com/.test(name)) {
    throw new UserError(`Input 'ecr-repository' must be the repository's name, not its URI: '${name}'.`, {
      hint: `Use '${name.slice(name.indexOf("/") + 1)}'; the registry comes from the AWS account and region.`,
    });
  }
  if (name.length < 2 || name.length > 256 || !REPOSITORY_NAME.test(name)) {
    throw new UserError(`Input 'ecr-repository' is not a valid ECR repository name: '${name}'.`, {
      hint: "Use 2-256 lowercase letters, digits and . _ - / (no registry host, no tag), e.g. team/spaceflights.",
    });
  }
  return name;
}

export interface RegistryEndpoint {
  /** host[:port], as it appears in image references. */
  host: string;
  /** Base URL of the /v2/ API. */
  url: string;
  /** Plain-HTTP registry on loopback: push without TLS. */
  insecure: boolean;
}

/** True for 127.0.0.0/8, ::1 and localhost: the only hosts where plain HTTP is accepted. */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.replace(/:\d+$/, "");
  return name === "localhost" || name === "::1" || /^127(?:\.\d{1,3}){3}$/.test(name);
}

/** Parses input 'registry' (`host[:port]`, optionally with http:// or https://). */
export function parseRegistry(value: string): RegistryEndpoint {
  const match = /^(?:(https?):\/\/)?([^/\s]+?)\/?$/.exec(value.trim());
  const host = match?.[2];
  if (match === null || host === undefined || !isRegistryHost(host)) {
    throw new UserError(`Input 'registry' must be a registry host, like 127.0.0.1:5000; got '${value}'.`, {
      hint: "Give host[:port] only: the repository comes from 'ecr-repository'.",
    });
  }
  const loopback = isLoopbackHost(host);
  const scheme = match[1] ?? (loopback ? "http" : "https");
  if (scheme === "http" && !loopback) {
    throw new UserError(`Input 'registry' uses plain HTTP for '${host}', which is not on this machine.`, {
      hint: "Plain HTTP is accepted for loopback registries only (127.0.0.1, localhost); use https.",
    });
  }
  return { host, url: `${scheme}://${host}`, insecure: scheme === "http" };
}

/** `s3://...` keeps conf out of the image; "image" or empty puts it in. */
export function confInImage(confSource: string | undefined): boolean {
  const value = (confSource ?? "").trim();
  if (value === "" || value === "image") return true;
  if (/^s3:\/\/[^/]+/.test(value)) return false;
  throw new UserError(`Input 'conf-source' must be 'image' or an s3:// URL; got '${value}'.`, {
    hint: "Leave it as 'image' to bake conf/ into the image, or give s3://bucket/path/conf-<package>.tar.gz.",
  });
}
