import { Input, Output } from "../constants.js";
import { requireInputs } from "../options.js";
import { applyRollback, describeRollback, parseRollbackTo, planRollback } from "../ops/rollback.js";
import { setOutputs, stage, type JobContext } from "./context.js";

/**
 * `rollback-to` set: no project, no build, no deploy. Plan mode shows what the rollback would do
 * (reads only); deploy mode moves the alias, or fails saying what the target lacks.
 */
export async function rollbackStage(ctx: JobContext): Promise<string> {
  const { options, io, mode } = ctx;
  const target = parseRollbackTo(options.rollbackTo) ?? "previous";
  requireInputs(options, [[Input.StateMachineName, "stateMachineName"]], "to roll back");
  const clients = await ctx.aws.clients();
  const plan = await stage(ctx, "plan", () => planRollback(clients, options.stateMachineName, target));
  const text = describeRollback(plan);
  io.info(text);
  const lines = ["### Rollback", "", ...text.split("\n").map((line) => `- ${line}`)];
  if (mode === "plan") return [...lines, "", "_Plan mode: nothing was changed._"].join("\n");
  const wrote = await stage(ctx, "deploy", () => applyRollback(clients, plan));
  setOutputs(io, {
    [Output.StateMachineArn]: plan.stateMachineArn,
    [Output.StateMachineVersionArn]: plan.to.arn,
    [Output.StateMachineAliasArn]: plan.aliasArn,
    [Output.HasChanges]: String(wrote),
  });
  return [...lines, "", wrote ? `Alias now routes to version ${plan.to.version}.` : "Nothing changed."].join(
    "\n",
  );
}
