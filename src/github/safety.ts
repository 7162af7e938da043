import { Input } from "../constants.js";
import type { JobMode, Mode } from "../options.js";
import { isPullRequestEvent, type EventContext } from "./context.js";

/** Events `mode: auto` acts on: plans for the first two, deploys for the others. */
export const SUPPORTED_EVENTS = ["pull_request", "pull_request_target", "push", "workflow_dispatch"] as const;

export interface Refusal {
  /** The `failure-reason` output. */
  reason: "fork-deploy" | "unsupported-event";
  message: string;
  hint: string;
}

export interface EventCheck {
  warnings: string[];
  /** Set when the run must stop before touching AWS. */
  refusal?: Refusal;
}

/**
 * Whether this event may run in `mode` (as resolved from `requested`).
 * Deploying code from a fork is refused whatever the mode; an event the
 * action does not know is refused under `auto`, which would deploy on it.
 */
export function checkEvent(context: EventContext, requested: Mode, mode: JobMode): EventCheck {
  const warnings = [...context.warnings];
  const { eventName, pullRequest } = context;
  if (eventName === "") return { warnings };
  const supported = (SUPPORTED_EVENTS as readonly string[]).includes(eventName);

  if (isPullRequestEvent(eventName)) {
    // A payload without the head repository cannot prove the code is ours.
    const fork = pullRequest === null || pullRequest.isFork;
    if (mode === "deploy" && fork) {
      const risk =
        "code from a fork would run in your AWS account, with your credentials, before anyone merged it.";
      return {
        warnings,
        refusal: {
          reason: "fork-deploy",
          message:
            pullRequest === null
              ? `Refusing to deploy on a ${eventName} event whose payload does not show the pull request comes from this repository: ${risk}`
              : `Refusing to deploy on a ${eventName} event for a pull request from a fork (${pullRequest.headRepo ?? "a deleted repository"}): ${risk}`,
          hint: `Deploy from pushes to your default branch; on pull requests use '${Input.Mode}: auto' or 'plan'.`,
        },
      };
    }
    if (eventName === "pull_request_target" && fork) {
      warnings.push(
        "pull_request_target from a fork: planning runs the checked-out project's Python code with this " +
          "workflow's secrets. Check out the base branch, or use the pull_request event, unless you trust the fork.",
      );
    }
    return { warnings };
  }

  if (!supported) {
    const list = SUPPORTED_EVENTS.join(", ");
    if (requested === "auto") {
      return {
        warnings,
        refusal: {
          reason: "unsupported-event",
          message: `The ${eventName} event is not handled by kedro-sfn-action in '${Input.Mode}: auto'; it supports ${list}.`,
          hint: `Trigger the workflow on one of those, or set '${Input.Mode}: plan' or '${Input.Mode}: deploy' to choose explicitly.`,
        },
      };
    }
    warnings.push(
      `The ${eventName} event is not one kedro-sfn-action knows (${list}); running '${mode}' because '${Input.Mode}' says so.`,
    );
  }
  return { warnings };
}
