import { createAwsClients } from "../aws/clients.js";
import { Input } from "../constants.js";
import { UserError } from "../errors.js";
import type { Options } from "../options.js";
import { applyDestroy, checkConfirmation, describeDestroy, isEmpty, planDestroy } from "../ops/destroy.js";
import { applyRollback, describeRollback, parseRollbackTo, planRollback } from "../ops/rollback.js";
import { logText } from "../report/escape.js";

type Write = (line: string) => void;

function requireName(options: Options, command: string): string {
  if (!options.stateMachineName)
    throw new UserError(`kedro-sfn ${command} needs --state-machine NAME.`, {
      hint: `Give the name the pipeline was deployed as ('${Input.StateMachineName}').`,
    });
  return options.stateMachineName;
}

/** `kedro-sfn rollback --state-machine NAME [--to previous|N]`: prints the plan, then moves the alias. */
export async function rollbackCommand(
  options: Options,
  flags: Map<string, string>,
  out: Write,
  _err: Write,
): Promise<number> {
  const name = requireName(options, "rollback");
  const target = parseRollbackTo(flags.get("to") ?? options.rollbackTo ?? "", "--to") ?? "previous";
  const clients = await createAwsClients();
  try {
    const plan = await planRollback(clients, name, target);
    out(describeRollback(plan));
    const wrote = await applyRollback(clients, plan);
    if (wrote) out(`Alias now routes to version ${plan.to.version}.`);
    return 0;
  } finally {
    clients.destroy();
  }
}

/** `kedro-sfn destroy --state-machine NAME --confirm NAME|--yes`: prints the plan; deletes only when confirmed. */
export async function destroyCommand(
  options: Options,
  flags: Map<string, string>,
  out: Write,
  err: Write,
): Promise<number> {
  const name = requireName(options, "destroy");
  const clients = await createAwsClients();
  try {
    const plan = await planDestroy(
      clients,
      name,
      options.ecrRepository ? { ecrRepository: options.ecrRepository } : {},
    );
    out(describeDestroy(plan));
    if (isEmpty(plan)) return 0;
    checkConfirmation(plan, { yes: flags.get("yes") === "true", confirm: flags.get("confirm") ?? "" });
    await applyDestroy(clients, plan, (line) => err(logText(line)));
    out(`Destroyed ${name}.`);
    return 0;
  } finally {
    clients.destroy();
  }
}
