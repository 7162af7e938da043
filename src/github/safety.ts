import { Input } from "../constants.js";
import type { JobMode, Mode } from "../options.js";
import { isPullRequestEvent, type EventContext, type HeadOrigin } from "./context.js";

/** Events `mode: auto` acts on: plans for the first two, deploys for the others. */
export const SUPPORTED_EVENTS = ["pull_request", "pull_request_target", "push", "workflow_dispatch"] as const;

/** Events that run with the base repository's secrets even when the head is a fork's. */
const PRIVILEGED_EVENTS = new Set([
  "pull_request_target",
  "workflow_run",
  "issue_comment",
  "check_run",
  "check_suite",
]);

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
  const { eventName, head } = context;
  if (eventName === "") return { warnings };
  const supported = (SUPPORTED_EVENTS as readonly string[]).includes(eventName);

  // Deny by default: whatever the event, a head not proven to be this repository never deploys.
  const untrusted = head.trust !== "ours";
  if (mode === "deploy" && untrusted) {
    return { warnings, refusal: forkRefusal(eventName, head) };
  }
  if (untrusted && PRIVILEGED_EVENTS.has(eventName)) {
    warnings.push(
      `${eventName} ${head.trust === "foreign" ? "from a fork" : "whose code the payload does not show is this repository's"}: planning runs the checked-out project's Python code with this ` +
        "workflow's secrets. Check out the base branch, or use the pull_request event, unless you trust the fork.",
    );
  }
  if (isPullRequestEvent(eventName)) return { warnings };

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

function forkRefusal(eventName: string, head: HeadOrigin): Refusal {
  const risk =
    "code from a fork would run in your AWS account, with your credentials, before anyone merged it.";
  const where = head.source ? `, from ${head.source}` : "";
  const message =
    head.trust === "foreign"
      ? `Refusing to deploy on a ${eventName} event whose code comes from a fork (${head.repo ?? "a deleted repository"}${where}): ${risk}`
      : `Refusing to deploy on a ${eventName} event whose payload does not show the code comes from this repository (${head.source ?? "no head"}): ${risk}`;
  return {
    reason: "fork-deploy",
    message,
    hint: `Deploy from pushes to your default branch; on pull requests use '${Input.Mode}: auto' or 'plan'.`,
  };
}
