import { DescribeImagesCommand } from "@aws-sdk/client-ecr";
import { GetFunctionCommand } from "@aws-sdk/client-lambda";
import { describeAlias, pointAlias } from "../aws/alias.js";
import type { AwsClients } from "../aws/clients.js";
import { explainAwsError, isAwsError } from "../aws/failures.js";
import { mapWithConcurrency } from "../aws/limiter.js";
import { describeStateMachine, findStateMachineArn, listStateMachineVersions } from "../aws/sfn.js";
import { Input, STATE_MACHINE_ALIAS } from "../constants.js";
import { UserError } from "../errors.js";

/** `previous` (the newest version before the one the alias routes to) or a version number. */
export type RollbackTarget = "previous" | number;

/** The `rollback-to` input (and `kedro-sfn rollback --to`): null when not given. */
export function parseRollbackTo(value: string, input = `'${Input.RollbackTo}'`): RollbackTarget | null {
  const text = value.trim();
  if (text === "") return null;
  if (text === "previous" || text === "true") return "previous";
  if (/^\d+$/.test(text) && Number(text) > 0) return Number(text);
  throw new UserError(`Input ${input}: "${value}" is neither "previous" nor a version number.`, {
    hint: "Give previous (the version before the one live now) or the number of a published version, e.g. 3.",
  });
}

export interface VersionRef {
  version: number;
  arn: string;
}

export interface RollbackPlan {
  stateMachineName: string;
  stateMachineArn: string;
  aliasArn: string;
  /** What the alias routes to now. */
  from: VersionRef | null;
  to: VersionRef;
  /** Function versions and images the target version needs that are gone; empty when it can run. */
  missing: string[];
}

const versionOf = (arn: string): number => Number(arn.slice(arn.lastIndexOf(":") + 1));
const label = (ref: VersionRef | null): string => (ref ? `version ${ref.version}` : "nothing");

/**
 * Reads what a rollback would do: the alias, the versions, and whether every function version
 * (and its image) the target's definition invokes still exists. Reads only.
 */
export async function planRollback(
  clients: AwsClients,
  stateMachineName: string,
  target: RollbackTarget,
): Promise<RollbackPlan> {
  const doing = { doing: `plan a rollback of state machine "${stateMachineName}"`, stateMachineName };
  try {
    const arn = await findStateMachineArn(clients.sfn, stateMachineName);
    if (!arn)
      throw new UserError(
        `Cannot roll back: no state machine named "${stateMachineName}" in ${clients.region}.`,
        {
          hint: `Check '${Input.StateMachineName}' and the region.`,
        },
      );
    const alias = await describeAlias(clients.sfn, arn);
    if (!alias?.versionArn)
      throw new UserError(
        `Cannot roll back "${stateMachineName}": it has no alias "${STATE_MACHINE_ALIAS}" routing to a version.`,
        { hint: "Deploy it once with this version of kedro-sfn (the deploy creates the alias)." },
      );
    const from = { version: versionOf(alias.versionArn), arn: alias.versionArn };
    const versions = await listStateMachineVersions(clients.sfn, arn);
    const to =
      target === "previous"
        ? versions.find((v) => v.version < from.version)
        : versions.find((v) => v.version === target);
    if (!to) {
      const existing = versions.map((v) => v.version).join(", ") || "none";
      throw new UserError(
        target === "previous"
          ? `Cannot roll back "${stateMachineName}": no version before version ${from.version} (the one live now) exists.`
          : `Cannot roll back "${stateMachineName}" to version ${target}: it does not exist.`,
        {
          hint: `Published versions: ${existing}. Old versions beyond 'keep-versions' are deleted by deploys.`,
        },
      );
    }
    return {
      stateMachineName,
      stateMachineArn: arn,
      aliasArn: alias.arn,
      from,
      to,
      missing: await missingFor(clients, to),
    };
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw explainAwsError(error, doing);
  }
}

/** What the version invokes that is gone: its function versions, and the images they run. */
async function missingFor(clients: AwsClients, version: VersionRef): Promise<string[]> {
  const described = await describeStateMachine(clients.sfn, version.arn);
  if (!described) return [`state machine version ${version.version}`];
  const tasks = Object.values(described.tasks);
  const images = new Map<string, { repositoryName: string; digest: string }>();
  const gone: string[] = [];
  await mapWithConcurrency(tasks, 4, async (task) => {
    try {
      const found = await clients.lambda.send(new GetFunctionCommand({ FunctionName: task.versionArn }));
      const image = ecrImage(found.Code?.ImageUri, found.Configuration?.CodeSha256);
      if (image) images.set(`${image.repositoryName}@${image.digest}`, image);
    } catch (error) {
      if (!isAwsError(error, "ResourceNotFoundException")) throw error;
      gone.push(`function version ${task.versionArn.split(":").slice(6).join(":")}`);
    }
  });
  for (const [name, image] of images) {
    try {
      await clients.ecr.send(
        new DescribeImagesCommand({
          repositoryName: image.repositoryName,
          imageIds: [{ imageDigest: image.digest }],
        }),
      );
    } catch (error) {
      if (!isAwsError(error, "ImageNotFoundException", "RepositoryNotFoundException")) throw error;
      gone.push(`image ${name}`);
    }
  }
  return gone.sort();
}

/** The ECR repository and digest an image function runs (Lambda reports the digest as CodeSha256). */
function ecrImage(
  imageUri: string | undefined,
  codeSha256: string | undefined,
): { repositoryName: string; digest: string } | null {
  const match = /^\d{12}\.dkr\.ecr[.-][^/]+\/([^@:]+)(?:[@:].*)?$/.exec(imageUri ?? "");
  const pinned = /@(sha256:[0-9a-f]{64})$/.exec(imageUri ?? "")?.[1];
  const digest = pinned ?? (codeSha256 && /^[0-9a-f]{64}$/.test(codeSha256) ? `sha256:${codeSha256}` : null);
  return match && digest ? { repositoryName: match[1] ?? "", digest } : null;
}

/** What the rollback will do, in a line or two (printed before doing it). */
export function describeRollback(plan: RollbackPlan): string {
  if (plan.from?.arn === plan.to.arn)
    return `Alias ${STATE_MACHINE_ALIAS} of ${plan.stateMachineName} already routes to version ${plan.to.version}: nothing to do.`;
  const lines = [
    `Rollback: alias ${STATE_MACHINE_ALIAS} of ${plan.stateMachineName} from ${label(plan.from)} to ${label(plan.to)} (${plan.to.arn}).`,
  ];
  if (plan.missing.length > 0)
    lines.push(`Version ${plan.to.version} cannot run: gone are ${plan.missing.join(", ")}.`);
  return lines.join("\n");
}

/**
 * Points the alias at the target in one call, only when everything the target invokes still
 * exists. Returns whether it wrote (false when the alias already routes there).
 */
export async function applyRollback(clients: AwsClients, plan: RollbackPlan): Promise<boolean> {
  if (plan.missing.length > 0)
    throw new UserError(
      `Cannot roll back "${plan.stateMachineName}" to version ${plan.to.version}: ${plan.missing.join(", ")} ${plan.missing.length === 1 ? "is" : "are"} gone.`,
      {
        hint: "Roll back to a newer version (rollback-to: <number>), or deploy the old commit again: a deploy rebuilds what is missing.",
      },
    );
  try {
    const moved = await pointAlias(
      clients.sfn,
      plan.stateMachineArn,
      plan.to.arn,
      plan.from ? { arn: plan.aliasArn, name: STATE_MACHINE_ALIAS, versionArn: plan.from.arn } : null,
      `kedro-sfn rollback to version ${plan.to.version}`,
    );
    return moved.wrote;
  } catch (error) {
    throw explainAwsError(error, {
      doing: `point alias ${STATE_MACHINE_ALIAS} of "${plan.stateMachineName}" at version ${plan.to.version}`,
      stateMachineName: plan.stateMachineName,
    });
  }
}
