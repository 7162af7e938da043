/**
 * The state machine's EventBridge Scheduler schedule: read by name (one GetSchedule, whatever
 * the account holds), created, updated and deleted idempotently (a retried call whose response
 * was lost, or another deploy, finds it done and converges).
 */
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  UpdateScheduleCommand,
  type SchedulerClient,
} from "@aws-sdk/client-scheduler";
import { SCHEDULE_GROUP, scheduleDescription } from "../plan/schedulePlan.js";
import type { DeployedSchedule, DesiredSchedule } from "../plan/types.js";
import { isAwsError } from "./failures.js";

export async function getSchedule(
  scheduler: SchedulerClient,
  name: string,
): Promise<DeployedSchedule | null> {
  try {
    const found = await scheduler.send(new GetScheduleCommand({ Name: name, GroupName: SCHEDULE_GROUP }));
    return {
      name,
      arn: found.Arn ?? null,
      description: found.Description ?? "",
      expression: found.ScheduleExpression ?? "",
      timezone: found.ScheduleExpressionTimezone ?? "UTC",
      targetArn: found.Target?.Arn ?? "",
      roleArn: found.Target?.RoleArn ?? "",
      input: found.Target?.Input ?? "",
      state: found.State ?? "ENABLED",
      flexibleWindow: found.FlexibleTimeWindow?.Mode ?? "OFF",
    };
  } catch (error) {
    if (isAwsError(error, "ResourceNotFoundException")) return null;
    throw error;
  }
}

/** Create, or update when it exists (a create finding it made meanwhile updates it; an update finding it gone creates it). */
export async function putSchedule(
  scheduler: SchedulerClient,
  name: string,
  stateMachineName: string,
  desired: DesiredSchedule,
  targetArn: string,
  exists: boolean,
): Promise<void> {
  const input = {
    Name: name,
    GroupName: SCHEDULE_GROUP,
    Description: scheduleDescription(stateMachineName, desired, targetArn),
    ScheduleExpression: desired.expression,
    ScheduleExpressionTimezone: desired.timezone,
    FlexibleTimeWindow: { Mode: "OFF" as const },
    State: "ENABLED" as const,
    Target: { Arn: targetArn, RoleArn: desired.roleArn, Input: desired.input },
  };
  if (!exists) {
    try {
      await scheduler.send(new CreateScheduleCommand(input));
      return;
    } catch (error) {
      if (!isAwsError(error, "ConflictException")) throw error;
    }
  }
  try {
    await scheduler.send(new UpdateScheduleCommand(input));
  } catch (error) {
    if (!isAwsError(error, "ResourceNotFoundException")) throw error;
    await scheduler.send(new CreateScheduleCommand(input));
  }
}

/** Deletes it; gone already is done. Returns whether it deleted. */
export async function deleteSchedule(scheduler: SchedulerClient, name: string): Promise<boolean> {
  try {
    await scheduler.send(new DeleteScheduleCommand({ Name: name, GroupName: SCHEDULE_GROUP }));
    return true;
  } catch (error) {
    if (isAwsError(error, "ResourceNotFoundException")) return false;
    throw error;
  }
}
