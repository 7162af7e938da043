import type { DesiredDeployment, Plan } from "../plan/types.js";
import type { AwsClients } from "./clients.js";
import { explainAwsError } from "./failures.js";
import { deleteSchedule, putSchedule } from "./schedule.js";

/**
 * The plan's schedule step: create or update it to start `targetArn` (the alias, after the
 * deploy moved it), or delete it. A noop writes nothing.
 */
export async function applySchedule(
  clients: AwsClients,
  plan: Plan,
  desired: DesiredDeployment,
  targetArn: string | null,
  log: (line: string) => void,
): Promise<void> {
  const planned = plan.schedule;
  if (!planned || planned.action === "noop") return;
  try {
    if (planned.action === "delete") {
      if (await deleteSchedule(clients.scheduler, planned.name)) log(`deleted schedule ${planned.name}`);
      return;
    }
    if (!desired.schedule || !targetArn)
      throw new Error(
        `The plan ${planned.action}s schedule ${planned.name}, but the deploy has no schedule or alias for it.`,
      );
    await putSchedule(
      clients.scheduler,
      planned.name,
      desired.stateMachineName,
      desired.schedule,
      targetArn,
      planned.action === "update",
    );
    log(
      `${planned.action === "create" ? "created" : "updated"} schedule ${planned.name} (${desired.schedule.expression} ${desired.schedule.timezone})`,
    );
  } catch (error) {
    throw explainAwsError(error, {
      doing: `${planned.action} EventBridge Scheduler schedule "${planned.name}"`,
      stateMachineName: desired.stateMachineName,
    });
  }
}
