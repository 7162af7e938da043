import { createHash } from "node:crypto";
import {
  DEFAULT_HTTP_RETRY,
  isRetryableNetworkError,
  isRetryableStatus,
  retryDelayMs,
  type RetryPolicy,
} from "../backoff.js";
import { UserError, errorMessage } from "../errors.js";

/** Registry host and scheme: `https://<account>.dkr.ecr.<region>.amazonaws.com`, or http on loopback. */
export interface RegistryTarget {
  host: string;
  url: string;
}

export interface BasicAuth {
  username: string;
  password: string;
}

export const MEDIA_TYPES = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
} as const;

const ACCEPT = Object.values(MEDIA_TYPES).join(", ");

export interface ManifestHead {
  digest: string;
  mediaType: string;
}

export interface Manifest extends ManifestHead {
  /** The bytes as stored: re-PUT them to add a tag without changing the digest. */
  body: Buffer;
  json: {
    mediaType?: string;
    config?: { digest: string; size: number; mediaType?: string };
    layers?: { digest: string; size: number; mediaType?: string }[];
    manifests?: { digest: string; platform?: { architecture?: string; os?: string } }[];
  };
}

/** The image config blob, as far as Lambda cares. */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  config?: {
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    Env?: string[] | null;
    WorkingDir?: string;
  };
}

/**
 * A tiny Docker Registry HTTP API v2 client for one repository: enough to
 * see whether a tag exists, read back what was pushed, and add tags. Basic
 * auth only (what ECR takes with GetAuthorizationToken's credentials).
 */
export class RegistryClient {
  constructor(
    readonly target: RegistryTarget,
    readonly repository: string,
    private readonly auth?: BasicAuth,
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly retry: RetryPolicy = DEFAULT_HTTP_RETRY,
  ) {}

  /** The manifest a tag or digest points at, or undefined when there is none. */
  async headManifest(reference: string): Promise<ManifestHead | undefined> {
    const response = await this.request("HEAD", `manifests/${reference}`, { Accept: ACCEPT });
    if (response.status === 404) return undefined;
    await this.expectOk(response, `look up ${this.repository}:${reference}`);
    const digest = response.headers.get("docker-content-digest");
    const mediaType = (response.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
    if (digest) return { digest, mediaType };
    // Some registries omit the digest on HEAD: read the manifest instead.
    const manifest = await this.getManifest(reference);
    return { digest: manifest.digest, mediaType: manifest.mediaType };
  }

  async getManifest(reference: string): Promise<Manifest> {
    const response = await this.request("GET", `manifests/${reference}`, { Accept: ACCEPT });
    await this.expectOk(response, `read manifest ${this.repository}:${reference}`);
    const body = Buffer.from(await response.arrayBuffer());
    const digest = `sha256:${createHash("sha256").update(body).digest("hex")}`;
    if (reference.startsWith("sha256:") && reference !== digest) {
      throw new Error(
        `Registry ${this.target.host} returned a manifest whose digest ${digest} is not the one asked for (${reference}).`,
      );
    }
    const json = JSON.parse(body.toString("utf8")) as Manifest["json"];
    const mediaType =
      json.mediaType ?? (response.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
    return { digest, mediaType, body, json };
  }

  async getBlob(digest: string): Promise<Buffer> {
    const response = await this.request("GET", `blobs/${digest}`, {});
    await this.expectOk(response, `read blob ${digest}`);
    const body = Buffer.from(await response.arrayBuffer());
    const actual = `sha256:${createHash("sha256").update(body).digest("hex")}`;
    if (actual !== digest)
      throw new Error(`Registry ${this.target.host} returned blob ${actual} for ${digest}.`);
    return body;
  }

  async getImageConfig(manifest: Manifest): Promise<ImageConfig> {
    if (!manifest.json.config) throw new Error(`Manifest ${manifest.digest} has no config.`);
    return JSON.parse((await this.getBlob(manifest.json.config.digest)).toString("utf8")) as ImageConfig;
  }

  /** PUTs manifest bytes under `tag` (same bytes, same digest): tagging without pushing layers. */
  async putManifest(tag: string, manifest: Pick<Manifest, "body" | "mediaType">): Promise<string> {
    const response = await this.request(
      "PUT",
      `manifests/${tag}`,
      { "Content-Type": manifest.mediaType },
      manifest.body,
    );
    await this.expectOk(response, `tag ${this.repository}:${tag}`);
    return (
      response.headers.get("docker-content-digest") ??
      `sha256:${createHash("sha256").update(manifest.body).digest("hex")}`
    );
  }

  private async request(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: Buffer,
  ): Promise<Response> {
    const url = `${this.target.url}/v2/${this.repository}/${path}`;
    const all: Record<string, string> = { ...headers };
    if (this.auth)
      all["Authorization"] =
        `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password}`).toString("base64")}`;
    // Every request here is idempotent (HEAD, GET, and PUT of the same manifest bytes): retry
    // rate limits, server errors and resets with backoff; the last answer is the caller's.
    for (let attempt = 1; ; attempt += 1) {
      const last = attempt >= this.retry.attempts;
      let response: Response;
      try {
        response = await this.fetchImpl(url, {
          method,
          headers: all,
          ...(body ? { body } : {}),
          redirect: "follow",
        });
      } catch (error) {
        if (!last && isRetryableNetworkError(error)) {
          await this.retry.sleep(retryDelayMs(this.retry, attempt));
          continue;
        }
        const cause = (error as { cause?: unknown }).cause;
        throw new UserError(
          `Could not reach the registry at ${this.target.url}${attempt > 1 ? ` (${attempt} attempts)` : ""}: ${errorMessage(cause ?? error)}`,
          {
            hint: "Check input 'registry' (or the ECR repository's region) and the runner's network access to it.",
            cause: error,
          },
        );
      }
      if (last || !isRetryableStatus(response.status)) return response;
      await response.arrayBuffer().catch(() => undefined);
      await this.retry.sleep(retryDelayMs(this.retry, attempt, response.headers.get("retry-after")));
    }
  }

  private async expectOk(response: Response, doing: string): Promise<void> {
    if (response.ok) return;
    const text = response.bodyUsed ? "" : (await response.text().catch(() => "")).slice(0, 500);
    if (response.status === 401 || response.status === 403) {
      throw new UserError(
        `The registry ${this.target.host} refused to ${doing} (HTTP ${response.status})${text ? `: ${text}` : ""}.`,
        {
          hint: "Check that the CI role may pull and push this ECR repository (ecr:BatchGetImage, ecr:PutImage, ...).",
        },
      );
    }
    throw new Error(
      `Registry ${this.target.host} could not ${doing}: HTTP ${response.status}${text ? `: ${text}` : ""}`,
    );
  }
}

/** True for an image index / manifest list: Lambda takes single-platform manifests only. */
export function isIndex(mediaType: string): boolean {
  return mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerList;
}
