import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  GetAuthorizationTokenCommand,
  GetLifecyclePolicyCommand,
  PutLifecyclePolicyCommand,
  type ECRClient,
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

/** Expire all but the newest `keep` images, tagged or not (cache images and old builds alike). */
export function lifecyclePolicy(keep: number): string {
  return JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: `${POLICY_MARKER} keep the newest ${keep} images`,
        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keep },
        action: { type: "expire" },
      },
    ],
  });
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
