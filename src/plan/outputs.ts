import { Output } from "../constants.js";
import { planJson } from "./plan.js";
import type { DeployResult, Plan } from "./types.js";

/** Outputs of `mode: plan`: everything but the ARNs a deploy learns. */
export function planOutputs(plan: Plan): Record<string, string> {
  return {
    [Output.ImageUri]: plan.imageUri,
    [Output.PlanJson]: planJson(plan),
    [Output.PlanHash]: plan.hash,
    [Output.HasChanges]: String(plan.summary.hasChanges),
    [Output.ToCreate]: String(plan.summary.toCreate),
    [Output.ToUpdate]: String(plan.summary.toUpdate),
    [Output.ToDelete]: String(plan.summary.toDelete),
  };
}

/** Outputs of `mode: deploy`. */
export function deployOutputs(result: DeployResult): Record<string, string> {
  const sortedArns = Object.fromEntries(
    Object.entries(result.functionArns).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return {
    ...planOutputs(result.plan),
    [Output.StateMachineArn]: result.stateMachineArn,
    [Output.StateMachineVersionArn]: result.stateMachineVersionArn ?? "",
    [Output.StateMachineAliasArn]: result.stateMachineAliasArn ?? "",
    [Output.ImageUri]: result.imageUri,
    [Output.FunctionArns]: JSON.stringify(sortedArns),
  };
}
