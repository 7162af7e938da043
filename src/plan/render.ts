import type { FieldChange, FunctionPlan, Plan } from "./types.js";

const SYMBOL: Record<FunctionPlan["action"], string> = {
  create: "+",
  "update-code": "~",
  "update-config": "~",
  noop: "=",
  delete: "-",
};

/** A short plain-text plan for logs and the CLI (the rich Markdown lives in report/). */
export function renderPlanText(plan: Plan): string {
  const { summary } = plan;
  const lines = [
    `Plan for state machine "${plan.stateMachineName}"${plan.region ? ` in ${plan.region}` : ""}: ` +
      `${summary.toCreate} to create, ${summary.toUpdate} to update, ${summary.toDelete} to delete, ${summary.unchanged} unchanged.`,
  ];
  if (plan.note) lines.push(`Note: ${plan.note}`);
  const width = Math.max(0, ...plan.functions.map((fn) => fn.functionName.length));
  for (const fn of plan.functions) {
    if (fn.action === "noop") continue;
    const detail = fn.changes.map(formatChange).join(", ");
    lines.push(
      `  ${SYMBOL[fn.action]} ${fn.action.padEnd(13)} ${fn.functionName.padEnd(width)}  ${detail}`.trimEnd(),
    );
  }
  for (const name of plan.retained)
    lines.push(`  ! retained      ${name.padEnd(width)}  left the pipeline; kept because prune is off`);
  const machine = plan.stateMachine;
  lines.push(`State machine: ${machine.action}`);
  for (const change of machine.changes) lines.push(`  ~ ${formatChange(change)}`);
  for (const change of machine.definitionChanges) {
    const symbol = change.kind === "added" ? "+" : change.kind === "removed" ? "-" : "~";
    const value =
      change.kind === "changed"
        ? `${short(change.before)} -> ${short(change.after)}`
        : short(change.kind === "added" ? change.after : change.before);
    lines.push(`  ${symbol} ${change.path}: ${value}`);
  }
  const old = plan.oldVersions;
  if (old.stateMachineVersions.length + old.functionVersions.length > 0) {
    lines.push(`Old versions deleted after the cutover (keep-versions ${old.keep}):`);
    if (old.stateMachineVersions.length > 0)
      lines.push(
        `  - state machine ${labels(old.stateMachineVersions)} (unless an execution still runs one)`,
      );
    if (old.functionVersions.length > 0) lines.push(`  - function ${labels(old.functionVersions)}`);
  }
  lines.push(`Plan hash: ${plan.hash}`);
  return lines.join("\n");
}

/** `name:version` of up to ten version ARNs, then how many more. */
function labels(arns: string[], limit = 10): string {
  const shown = arns.slice(0, limit).map((arn) => arn.split(":").slice(6).join(":"));
  return `${shown.join(", ")}${arns.length > limit ? ` and ${arns.length - limit} more` : ""}`;
}

function formatChange(change: FieldChange): string {
  return `${change.field} ${short(change.before)} -> ${short(change.after)}`;
}

function short(value: unknown, limit = 80): string {
  const text = value === undefined ? "(none)" : JSON.stringify(value);
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}
