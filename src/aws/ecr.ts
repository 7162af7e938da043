import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  GetAuthorizationTokenCommand,
  GetLifecyclePolicyCommand,
  ListImagesCommand,
  PutImageCommand,
  PutLifecyclePolicyCommand,
  type ECRClient,
  type ImageIdentifier,
} from "@aws-sdk/client-ecr";
import { UserError, errorMessage } from "../errors.js";
import { awsErrorName, explainAwsError, isAwsError } from "./failures.js";

export interface EcrRepository {
  name: string;
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<name>` */
  uri: string;
  /** The registry host part of `uri`. */
  registryHost: string;
  created: boolean;
}

/** Basic-auth credentials for the ECR registry (valid 12 hours). */
export interface RegistryCredentials {
  /** The registry host these are for: send them nowhere else. */
  host: string;
  username: string;
  password: string;
  expiresAt?: Date;
}

/** Marks lifecycle policies this tool wrote, so it only ever updates its own. */
const POLICY_MARKER = "kedro-sfn:";

/** Images a kept state machine version runs carry a tag with this prefix (see `keptImageTag`). */
export const KEPT_TAG_PREFIX = "kedro-sfn-kept-";
/** More kept images than any repository holds (versions kept x state machines sharing it). */
const KEPT_IMAGES_CEILING = 10000;

/**
 * Expire all but the newest `keep` images, tagged or not (cache images and old builds alike),
 * except images a kept version runs: ECR never lets a lower-priority rule expire an image that
 * matched a higher one's tag selection, so rule 1 shields every `kedro-sfn-kept-` image (it
 * would only expire beyond 10,000 of them).
 */
export function lifecyclePolicy(keep: number): string {
  return JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: `${POLICY_MARKER} never expire an image a kept state machine version runs`,
        selection: {
          tagStatus: "tagged",
          tagPrefixList: [KEPT_TAG_PREFIX],
          countType: "imageCountMoreThan",
          countNumber: KEPT_IMAGES_CEILING,
        },
        action: { type: "expire" },
      },
      {
        rulePriority: 2,
        description: `${POLICY_MARKER} keep the newest ${keep} images`,
        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keep },
        action: { type: "expire" },
      },
    ],
  });
}

/** `kedro-sfn-kept-<state machine>-<digest, 12 hex>`: one per state machine, so repositories can be shared. */
export function keptImageTag(stateMachineName: string, digestHex: string): string {
  const name = stateMachineName.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 80);
  return `${KEPT_TAG_PREFIX}${name}-${digestHex.slice(0, 12)}`;
}

/** `<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<hex>` -> repository and digest. */
export function ecrImageOf(imageUri: string): { repositoryName: string; digest: string } | null {
  const match = /^\d{12}\.dkr\.ecr[.-][^/]+\/([^@]+)@(sha256:[0-9a-f]{64})$/.exec(imageUri);
  return match ? { repositoryName: match[1] ?? "", digest: match[2] ?? "" } : null;
}

/**
 * Tags the image with `tag` (ECR adds a tag by putting the same manifest under it), so the
 * lifecycle policy keeps it while a kept version runs it. Done before the state machine switches
 * to it, so no published version ever runs an unshielded image. One read when already tagged.
 */
export async function protectImage(ecr: ECRClient, imageUri: string, tag: string): Promise<boolean> {
  const image = ecrImageOf(imageUri);
  if (!image) return false;
  const { repositoryName, digest } = image;
  const imageIds = [{ imageDigest: digest }];
  const described = await ecr.send(new DescribeImagesCommand({ repositoryName, imageIds }));
  if (described.imageDetails?.[0]?.imageTags?.includes(tag)) return false;
  const got = await ecr.send(new BatchGetImageCommand({ repositoryName, imageIds }));
  const found = got.images?.[0];
  if (!found?.imageManifest) throw new Error(`ECR has no image ${digest} in '${repositoryName}'.`);
  try {
    await ecr.send(
      new PutImageCommand({
        repositoryName,
        imageManifest: found.imageManifest,
        ...(found.imageManifestMediaType ? { imageManifestMediaType: found.imageManifestMediaType } : {}),
        imageDigest: digest,
        imageTag: tag,
      }),
    );
  } catch (error) {
    if (!isAwsError(error, "ImageAlreadyExistsException")) throw error;
  }
  return true;
}

/**
 * Removes this state machine's kept tag from images no kept version runs any more, so the count
 * rule can expire them again. An image whose only tag is ours keeps it: removing the last tag
 * deletes the image, and that is the count rule's decision, not ours. Returns the tags removed.
 */
export async function releaseImages(
  ecr: ECRClient,
  repositoryName: string,
  stateMachineName: string,
  keptDigests: ReadonlySet<string>,
): Promise<string[]> {
  const tagsByDigest = new Map<string, string[]>();
  let nextToken: string | undefined;
  do {
    const page = await ecr.send(
      new ListImagesCommand({
        repositoryName,
        filter: { tagStatus: "TAGGED" },
        maxResults: 1000,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    for (const id of page.imageIds ?? []) {
      if (!id.imageDigest || !id.imageTag) continue;
      tagsByDigest.set(id.imageDigest, [...(tagsByDigest.get(id.imageDigest) ?? []), id.imageTag]);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  const release: ImageIdentifier[] = [];
  for (const [digest, tags] of tagsByDigest) {
    if (keptDigests.has(digest)) continue;
    const kept = keptImageTag(stateMachineName, digest.slice("sha256:".length));
    const mine = tags.filter((tag) => tag === kept);
    if (mine.length > 0 && tags.length > mine.length) release.push(...mine.map((imageTag) => ({ imageTag })));
  }
  // BatchDeleteImage takes 100 image ids at a time.
  for (let start = 0; start < release.length; start += 100)
    await ecr.send(
      new BatchDeleteImageCommand({ repositoryName, imageIds: release.slice(start, start + 100) }),
    );
  return release.map((id) => id.imageTag ?? "").sort();
}

/**
 * Makes sure the repository exists: created with scan-on-push and the
 * lifecycle policy when missing. An existing repository keeps its settings;
 * its lifecycle policy is only set when it has none or has one of ours.
 */
export async function ensureRepository(
  ecr: ECRClient,
  name: string,
  keepImages: number,
): Promise<EcrRepository> {
  const doing = `use ECR repository '${name}'`;
  let uri: string | undefined;
  let created = false;
  try {
    const found = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }));
    uri = found.repositories?.[0]?.repositoryUri;
  } catch (error) {
    if (!isAwsError(error, "RepositoryNotFoundException"))
      throw explainEcrError(error, doing, "ecr:DescribeRepositories");
  }
  if (uri === undefined) {
    try {
      const made = await ecr.send(
        new CreateRepositoryCommand({
          repositoryName: name,
          imageScanningConfiguration: { scanOnPush: true },
          imageTagMutability: "MUTABLE",
          tags: [{ Key: "managed-by", Value: "kedro-sfn" }],
        }),
      );
      uri = made.repository?.repositoryUri;
      created = true;
    } catch (error) {
      // Another job made it between our two calls: use it.
      if (!isAwsError(error, "RepositoryAlreadyExistsException"))
        throw explainEcrError(error, `create ECR repository '${name}'`, "ecr:CreateRepository");
      const found = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }));
      uri = found.repositories?.[0]?.repositoryUri;
    }
  }
  if (uri === undefined) throw new Error(`ECR returned no URI for repository '${name}'.`);
  await ensureLifecyclePolicy(ecr, name, keepImages, created);
  return { name, uri, registryHost: uri.slice(0, uri.indexOf("/")), created };
}

async function ensureLifecyclePolicy(
  ecr: ECRClient,
  name: string,
  keep: number,
  created: boolean,
): Promise<void> {
  const wanted = lifecyclePolicy(keep);
  if (!created) {
    try {
      const current = await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: name }));
      const text = current.lifecyclePolicyText ?? "";
      if (!text.includes(POLICY_MARKER) || sameJson(text, wanted)) return;
    } catch (error) {
      if (!isAwsError(error, "LifecyclePolicyNotFoundException")) {
        throw explainEcrError(error, `read the lifecycle policy of '${name}'`, "ecr:GetLifecyclePolicy");
      }
    }
  }
  try {
    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName: name, lifecyclePolicyText: wanted }));
  } catch (error) {
    throw explainEcrError(error, `set the lifecycle policy of '${name}'`, "ecr:PutLifecyclePolicy");
  }
}

function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

/**
 * GetAuthorizationToken, decoded to Basic-auth credentials. The token and the
 * password are handed to `mask` before anything else happens with them.
 */
export async function getRegistryCredentials(
  ecr: ECRClient,
  mask: (secret: string) => void,
): Promise<RegistryCredentials> {
  let data;
  try {
    const response = await ecr.send(new GetAuthorizationTokenCommand({}));
    data = response.authorizationData?.[0];
  } catch (error) {
    throw explainEcrError(error, "log in to ECR (GetAuthorizationToken)", "ecr:GetAuthorizationToken");
  }
  const token = data?.authorizationToken;
  if (!token || !data?.proxyEndpoint)
    throw new UserError("ECR returned no authorization token: cannot log in to the registry.");
  mask(token);
  const decoded = Buffer.from(token, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) throw new Error("ECR's authorization token is not 'user:password'.");
  const password = decoded.slice(colon + 1);
  mask(password);
  const host = data.proxyEndpoint.replace(/^https?:\/\//, "").replace(/\/+$/, "");
  return {
    host,
    username: decoded.slice(0, colon),
    password,
    ...(data.expiresAt ? { expiresAt: data.expiresAt } : {}),
  };
}

function explainEcrError(error: unknown, doing: string, iamAction: string): Error {
  const name = awsErrorName(error);
  if (name === "AccessDeniedException" || name === "AccessDenied") {
    return new UserError(`AWS denied access while trying to ${doing}: ${errorMessage(error)}`, {
      hint: `The CI role needs ${iamAction} (and the other ECR push actions) on this repository.`,
      cause: error,
    });
  }
  return explainAwsError(error, { doing });
}
