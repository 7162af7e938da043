/**
 * The schedule of a state machine: what the `schedule` inputs ask for against what GetSchedule
 * showed. Pure. The schedule is ours when its Description carries our marker
 * (`kedro-sfn:<state machine>:<hash>`, Scheduler schedules have no tags); one of our name that
 * is not ours is refused, never taken over or deleted.
 */
import { UserError } from "../errors.js";
import { Input } from "../constants.js";
import { stableStringify } from "../canonicalJson.js";
import { shortHash } from "./canonical.js";
import { scheduleName } from "./schedule.js";
import type { DeployedSchedule, DesiredSchedule, FieldChange, SchedulePlan } from "./types.js";

/** Scheduler's default group: schedules of kedro-sfn live there, named after the state machine. */
export const SCHEDULE_GROUP = "default";

const MARKER = "kedro-sfn:";

/** `kedro-sfn:<state machine>:<hash of what it is>`: who owns the schedule, and what it was made from. */
export function scheduleDescription(
  stateMachineName: string,
  desired: DesiredSchedule,
  targetArn: string,
): string {
  return `${MARKER}${stateMachineName}:${shortHash({ ...desired, targetArn })}`.slice(0, 512);
}

/** Whether the schedule carries this state machine's marker. */
export function isOurSchedule(schedule: DeployedSchedule, stateMachineName: string): boolean {
  return schedule.description.startsWith(`${MARKER}${stateMachineName}:`);
}

/** The schedule's execution input in one spelling, for comparison (AWS keeps the text it was given). */
export function canonicalInput(input: string): string {
  try {
    return stableStringify(JSON.parse(input));
  } catch {
    return input;
  }
}

/**
 * create / update / delete / noop, or undefined when there is no schedule on either side.
 * `targetArn` is the alias ARN (null before the state machine exists: the schedule is created).
 * `deployed` undefined means it was not read: taken as absent (the read skips GetSchedule only
 * when the state machine's tag says there is none).
 */
export function planSchedule(
  stateMachineName: string,
  desired: DesiredSchedule | undefined,
  deployed: DeployedSchedule | null | undefined,
  targetArn: string | null,
): SchedulePlan | undefined {
  const name = scheduleName(stateMachineName);
  const existing = deployed ?? null;
  if (existing && !isOurSchedule(existing, stateMachineName)) {
    if (!desired) return undefined; // not ours and not wanted: left alone
    throw new UserError(
      `Input '${Input.Schedule}': an EventBridge Scheduler schedule named "${name}" (group ${SCHEDULE_GROUP}) already exists and was not made by kedro-sfn for state machine "${stateMachineName}" (its description is ${JSON.stringify(existing.description)}); refusing to take it over.`,
      {
        hint: "Delete or rename that schedule if nothing uses it, or choose another state-machine-name (the schedule's name derives from it).",
      },
    );
  }
  if (!desired) {
    if (!existing) return undefined;
    return {
      name,
      action: "delete",
      expression: existing.expression,
      timezone: existing.timezone,
      changes: [],
    };
  }
  const base = { name, expression: desired.expression, timezone: desired.timezone };
  if (!existing) return { ...base, action: "create", changes: [] };
  const changes: FieldChange[] = [];
  const add = (field: string, before: string, after: string): void => {
    if (before !== after) changes.push({ field, before, after });
  };
  add("expression", existing.expression, desired.expression);
  add("timezone", existing.timezone, desired.timezone);
  add("input", canonicalInput(existing.input), canonicalInput(desired.input));
  add("roleArn", existing.roleArn, desired.roleArn);
  // Before the state machine exists its alias ARN is not known: the apply checks it.
  if (targetArn) add("target", existing.targetArn, targetArn);
  add("state", existing.state, "ENABLED");
  add("flexibleTimeWindow", existing.flexibleWindow, "OFF");
  return { ...base, action: changes.length > 0 ? "update" : "noop", changes };
}
