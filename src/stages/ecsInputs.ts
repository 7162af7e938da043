/**
 * The inputs of the ECS runner, checked with the others before any AWS write, and only when a
 * node runs on ECS (runner: ecs in sfn.yml, or default-runner: ecs): a pipeline without one
 * needs none of them.
 */
import type { CompiledPipeline } from "../compile/types.js";
import { Input } from "../constants.js";
import { UserError } from "../errors.js";
import type { Options } from "../options.js";
import { validateRoleArn } from "../plan/desired.js";

const SUBNET = /^subnet-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const SECURITY_GROUP = /^sg-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const CLUSTER_NAME = /^[A-Za-z0-9_-]{1,255}$/;
const CLUSTER_ARN = /^arn:aws[a-z-]*:ecs:([a-z0-9-]+):(\d{12}):cluster\/([A-Za-z0-9_-]{1,255})$/;

type EcsOptions = Pick<
  Options,
  | "ecsCluster"
  | "ecsSubnets"
  | "ecsSecurityGroups"
  | "ecsExecutionRoleArn"
  | "ecsTaskRoleArn"
  | "lambdaRoleArn"
  | "stateMachineRoleArn"
>;

/** Throws a UserError naming the input at fault; returns warnings for what a plan may lack. */
export function checkEcsInputs(
  options: EcsOptions,
  compiled: Pick<CompiledPipeline, "ecsTasks"> | undefined,
  region: string | null,
  deploying: boolean,
): string[] {
  const tasks = compiled?.ecsTasks ?? [];
  if (tasks.length === 0) return [];
  const first = tasks[0]?.nodes[0] ?? "";
  const why = `node '${first}'${tasks.length > 1 || (tasks[0]?.nodes.length ?? 0) > 1 ? " and others" : ""} run${tasks.length > 1 ? "" : "s"} on ECS (runner: ecs)`;
  const missing = [
    [Input.EcsCluster, options.ecsCluster],
    [Input.EcsSubnets, options.ecsSubnets.join(",")],
    [Input.EcsExecutionRoleArn, options.ecsExecutionRoleArn],
    [Input.EcsTaskRoleArn, options.ecsTaskRoleArn],
  ].filter(([, value]) => !value);
  const warnings: string[] = [];
  if (missing.length > 0) {
    const names = missing.map(([name]) => `'${name}'`).join(", ");
    if (deploying) {
      throw new UserError(
        `Input${missing.length > 1 ? "s" : ""} ${names} ${missing.length > 1 ? "are" : "is"} required to deploy: ${why}.`,
        {
          hint: "Give the cluster, its subnets and the two ECS roles (see docs/iam/), or route the node back to Lambda (remove runner: ecs).",
        },
      );
    }
    warnings.push(
      `Planned without ${names}: a deploy needs ${missing.length > 1 ? "them" : "it"}, since ${why}.`,
    );
  }
  if (options.ecsCluster) checkCluster(options.ecsCluster, region);
  for (const subnet of options.ecsSubnets) {
    if (!SUBNET.test(subnet))
      throw new UserError(`Input '${Input.EcsSubnets}': "${subnet}" is not a subnet id.`, {
        hint: "Expected ids like subnet-0123456789abcdef0, separated by commas or spaces.",
      });
  }
  if (options.ecsSubnets.length > 16)
    throw new UserError(
      `Input '${Input.EcsSubnets}' lists ${options.ecsSubnets.length} subnets; a Fargate task takes at most 16.`,
    );
  for (const group of options.ecsSecurityGroups) {
    if (!SECURITY_GROUP.test(group))
      throw new UserError(`Input '${Input.EcsSecurityGroups}': "${group}" is not a security group id.`, {
        hint: "Expected ids like sg-0123456789abcdef0, separated by commas or spaces.",
      });
  }
  if (options.ecsSecurityGroups.length > 5)
    throw new UserError(
      `Input '${Input.EcsSecurityGroups}' lists ${options.ecsSecurityGroups.length} groups; a Fargate task takes at most 5.`,
    );
  const regionOrNothing = region ?? undefined;
  const roles = [
    validateRoleArn(
      Input.EcsExecutionRoleArn,
      options.ecsExecutionRoleArn || undefined,
      regionOrNothing,
      true,
    ),
    validateRoleArn(Input.EcsTaskRoleArn, options.ecsTaskRoleArn || undefined, regionOrNothing, true),
    validateRoleArn(
      Input.StateMachineRoleArn,
      options.stateMachineRoleArn || undefined,
      regionOrNothing,
      true,
    ),
  ];
  const [execution, task, states] = roles;
  for (const [input, role] of [
    [Input.EcsExecutionRoleArn, execution],
    [Input.EcsTaskRoleArn, task],
  ] as const) {
    if (role && states && role.accountId !== states.accountId) {
      throw new UserError(
        `Input '${input}' (account ${role.accountId}) and '${Input.StateMachineRoleArn}' (account ${states.accountId}) name roles in different accounts.`,
        { hint: "The ECS roles must be in the account you deploy to." },
      );
    }
  }
  return warnings;
}

function checkCluster(cluster: string, region: string | null): void {
  if (cluster.startsWith("arn:")) {
    const match = CLUSTER_ARN.exec(cluster);
    if (!match)
      throw new UserError(`Input '${Input.EcsCluster}': "${cluster}" is not an ECS cluster ARN.`, {
        hint: "Expected a cluster name, or arn:aws:ecs:<region>:<12-digit account>:cluster/<name>.",
      });
    if (region && match[1] !== region)
      throw new UserError(
        `Input '${Input.EcsCluster}': the cluster is in ${match[1] as string} but the deployment region is ${region}; the state machine runs tasks in its own region.`,
        { hint: `Use a cluster in ${region}.` },
      );
    return;
  }
  if (!CLUSTER_NAME.test(cluster))
    throw new UserError(`Input '${Input.EcsCluster}': "${cluster}" is not a valid cluster name.`, {
      hint: "Cluster names have 1-255 letters, digits, '-' and '_'; or give the cluster's ARN.",
    });
}
