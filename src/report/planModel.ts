/** The plan as plain data: what the PR comment and the job summary show about a deploy. */
import type { Finding } from "../graph/preflight.js";
import type { FunctionAction, StateMachineAction } from "../plan/types.js";
import type { FlowchartTask } from "./flowchart.js";

// One declaration of each action: the plan's own.
export type FunctionChange = FunctionAction;
export type StateMachineChange = StateMachineAction;
export type TaskChange = "new" | "changed" | "removed" | "none";
export type PlanStatus = "planned" | "deploying" | "deployed" | "failed";

/** How much of the plan a rendering shows: the comment degrades through these in order. */
export type DetailLevel = "full" | "nodes" | "counts";

/** A box of the flowchart and what the plan does to its Lambda. */
export interface PlanTask extends FlowchartTask {
  change: TaskChange;
}

export interface FunctionRow {
  name: string;
  /** Kedro nodes the function runs. */
  nodes: string[];
  change: FunctionChange;
  /** Desired settings; null when unknown (a function being deleted). */
  memoryMb: number | null;
  timeoutSeconds: number | null;
  /** Deployed settings, when an update-config changes them. */
  previous?: { memoryMb?: number; timeoutSeconds?: number };
}

export type ImageView =
  | { state: "would-build"; repository: string; baseImage?: string }
  | { state: "built" | "unchanged"; uri: string };

export interface PlanLink {
  text: string;
  url: string;
}

/** Everything the PR comment and the job summary show about a plan, as plain data. */
export interface PlanView {
  /** The `label` input, else the state machine name: tells targets apart on one PR. */
  target: string;
  counts: { create: number; update: number; delete: number };
  findings: Finding[];
  tasks: PlanTask[];
  functions: FunctionRow[];
  stateMachine: {
    name: string;
    change: StateMachineChange;
    definitionDiff: string;
    /** Where the deploy moves the alias executions start through, as a sentence; absent when it stays. */
    alias?: string;
    /** A split pipeline: the child state machines the parent runs (each gets a new version if it changed). */
    children?: { name: string; tasks: number }[];
    /** What the deploy does to the EventBridge Scheduler schedule, as a sentence; absent without one. */
    schedule?: string;
    /** What the deploy does to the ECS task definition (`runner: ecs`), as a sentence; absent without one. */
    taskDefinition?: string;
  };
  image: ImageView;
  /** Shared functions (`function-sharing: by-settings`): how many functions serve how many Lambda Tasks. */
  sharing?: { functions: number; tasks: number };
  /** Old versions the deploy deletes after its cutover (`keep-versions`); absent when none. */
  oldVersions?: { keep: number; stateMachine: number; functions: number };
  planHash: string;
  /** Absent means planned. */
  status?: PlanStatus;
  /** Why a deploy failed; shown with status failed. */
  statusDetail?: string;
  /** State machine, execution, run: shown with the status. */
  links?: PlanLink[];
  /** The run page holding the job summary, where degraded comments point. */
  summaryUrl?: string;
  /** Commit the plan was made for. */
  commit?: string;
  /** Whether learned durations re-chose the structure, and why (learn-durations). */
  structureNote?: string;
}

/** The one-line verdict, e.g. "2 to create, 1 to update, 0 to delete" or "no changes". */
export function planVerdict(counts: PlanView["counts"]): string {
  if (counts.create + counts.update + counts.delete === 0) return "no changes";
  return `${counts.create} to create, ${counts.update} to update, ${counts.delete} to delete`;
}

export function hasChanges(view: PlanView): boolean {
  return view.counts.create + view.counts.update + view.counts.delete > 0;
}
