import type { Finding } from "../../src/graph/preflight.js";
import type {
  FunctionChange,
  FunctionRow,
  PlanTask,
  PlanView,
  TaskChange,
} from "../../src/report/planComment.js";

/** The Kedro spaceflights tutorial: 6 nodes in two namespaces, with the tutorial's edges. */
const SPACEFLIGHTS: { node: string; dependsOn: string[] }[] = [
  { node: "data_processing.preprocess_companies_node", dependsOn: [] },
  { node: "data_processing.preprocess_shuttles_node", dependsOn: [] },
  {
    node: "data_processing.create_model_input_table_node",
    dependsOn: ["data_processing.preprocess_companies_node", "data_processing.preprocess_shuttles_node"],
  },
  { node: "data_science.split_data_node", dependsOn: ["data_processing.create_model_input_table_node"] },
  { node: "data_science.train_model_node", dependsOn: ["data_science.split_data_node"] },
  {
    node: "data_science.evaluate_model_node",
    dependsOn: ["data_science.train_model_node", "data_science.split_data_node"],
  },
];

export const REPO = { owner: "octo", repo: "spaceflights" };
const RUN_URL = "https://github.com/octo/spaceflights/actions/runs/4242";
const IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/spaceflights@sha256:" + "ab".repeat(32);

export function functionName(node: string): string {
  return `spaceflights-${node.replace(/\./g, "-")}`;
}

function row(node: string, change: FunctionChange, extra: Partial<FunctionRow> = {}): FunctionRow {
  return { name: functionName(node), nodes: [node], change, memoryMb: 1024, timeoutSeconds: 900, ...extra };
}

function task(node: string, dependsOn: string[], change: TaskChange): PlanTask {
  return { id: node, label: node, nodes: [node], dependsOn, change };
}

const base = {
  target: "spaceflights",
  findings: [] as Finding[],
  summaryUrl: RUN_URL,
  commit: "9f2c4e1d0b7a6c5e4f3a2b1c0d9e8f7a6b5c4d3e",
};

/** Nothing to do: deployed functions and state machine match. */
export function noChanges(): PlanView {
  return {
    ...base,
    counts: { create: 0, update: 0, delete: 0 },
    tasks: SPACEFLIGHTS.map((n) => task(n.node, n.dependsOn, "none")),
    functions: SPACEFLIGHTS.map((n) => row(n.node, "noop")),
    stateMachine: { name: "spaceflights", change: "noop", definitionDiff: "" },
    image: { state: "unchanged", uri: IMAGE },
    planHash: "1".repeat(64),
  };
}

/** train_model_node's code changed, and it gets more memory. */
export function oneNodeChanged(): PlanView {
  const changed = "data_science.train_model_node";
  return {
    ...base,
    counts: { create: 0, update: 1, delete: 0 },
    tasks: SPACEFLIGHTS.map((n) => task(n.node, n.dependsOn, n.node === changed ? "changed" : "none")),
    functions: SPACEFLIGHTS.map((n) =>
      n.node === changed
        ? row(n.node, "update-code", { memoryMb: 3008, previous: { memoryMb: 1024 } })
        : row(n.node, "noop"),
    ),
    stateMachine: { name: "spaceflights", change: "noop", definitionDiff: "" },
    image: {
      state: "would-build",
      repository: "spaceflights",
      baseImage: "public.ecr.aws/lambda/python:3.12",
    },
    planHash: "2".repeat(64),
  };
}

/** explain_model_node added after train_model_node, evaluate_model_node removed. */
export function nodeAddedAndRemoved(): PlanView {
  const added = "data_science.explain_model_node";
  const removed = "data_science.evaluate_model_node";
  const kept = SPACEFLIGHTS.filter((n) => n.node !== removed);
  const finding: Finding = {
    severity: "warning",
    code: "ephemeral-output-discarded",
    dataset: "shap_values",
    producer: added,
    consumers: [],
    message: `Dataset 'shap_values' written by '${added}' is kept in memory only: it is discarded when the Lambda ends.`,
    catalogEntry:
      "shap_values:\n  type: pickle.PickleDataset\n  filepath: s3://<your-bucket>/data/shap_values.pkl",
    file: "conf/aws/catalog.yml",
  };
  const evaluate = functionName(removed);
  const explain = functionName(added);
  return {
    ...base,
    findings: [finding],
    counts: { create: 1, update: 1, delete: 1 },
    tasks: [
      ...kept.map((n) => task(n.node, n.dependsOn, "none")),
      task(added, ["data_science.train_model_node"], "new"),
      task(removed, ["data_science.train_model_node", "data_science.split_data_node"], "removed"),
    ],
    functions: [
      ...kept.map((n) => row(n.node, "noop")),
      row(added, "create", { memoryMb: 2048, timeoutSeconds: 600 }),
      row(removed, "delete", { memoryMb: null, timeoutSeconds: null }),
    ],
    stateMachine: {
      name: "spaceflights",
      change: "update",
      definitionDiff: [
        "--- deployed",
        "+++ planned",
        "@@ -40,12 +40,12 @@",
        '     "data_science.train_model_node": {',
        '       "Type": "Task",',
        '-      "Next": "data_science.evaluate_model_node"',
        '+      "Next": "data_science.explain_model_node"',
        "     },",
        '-    "data_science.evaluate_model_node": {',
        '+    "data_science.explain_model_node": {',
        '       "Type": "Task",',
        '       "Resource": "arn:aws:states:::lambda:invoke",',
        '       "Parameters": {',
        `-        "FunctionName": "${evaluate}",`,
        `-        "Payload": { "nodes": ["${removed}"] }`,
        `+        "FunctionName": "${explain}",`,
        `+        "Payload": { "nodes": ["${added}"] }`,
        "       },",
      ].join("\n"),
    },
    image: {
      state: "would-build",
      repository: "spaceflights",
      baseImage: "public.ecr.aws/lambda/python:3.12",
    },
    planHash: "3".repeat(64),
  };
}

/**
 * `count` nodes in 10 namespaces, each reading the two before it (parallel
 * branches joining), a few changes of every kind, and the state machine
 * created from nothing so its diff is the whole definition.
 */
export function largePipeline(count = 300): PlanView {
  const name = (i: number): string =>
    `pipeline_${String(i % 10).padStart(2, "0")}.transform_step_${String(i).padStart(4, "0")}_node`;
  const changeOf = (i: number): FunctionChange =>
    i % 50 === 7 ? "create" : i % 50 === 19 ? "update-code" : i % 50 === 31 ? "update-config" : "noop";
  const tasks: PlanTask[] = [];
  const functions: FunctionRow[] = [];
  const diff = ["--- deployed", "+++ planned", `@@ -0,0 +1,${count * 12} @@`];
  for (let i = 0; i < count; i++) {
    const deps = [i - 1, i - 2].filter((d) => d >= 0).map(name);
    const change = changeOf(i);
    tasks.push({
      id: name(i),
      label: name(i),
      nodes: [name(i)],
      dependsOn: deps,
      change: change === "create" ? "new" : change === "noop" ? "none" : "changed",
    });
    functions.push(row(name(i), change));
    diff.push(
      `+    "${name(i)}": {`,
      '+      "Type": "Task",',
      '+      "Resource": "arn:aws:states:::lambda:invoke",',
      '+      "Parameters": {',
      `+        "FunctionName": "${functionName(name(i))}",`,
      `+        "Payload": { "nodes": ["${name(i)}"], "run_id.$": "$$.Execution.Name", "params.$": "$.params" }`,
      "+      },",
      '+      "ResultPath": null,',
      '+      "Retry": [{ "ErrorEquals": ["Lambda.TooManyRequestsException"], "MaxAttempts": 6 }],',
      `+      "Next": "${name(i + 1)}"`,
      "+    },",
      "+",
    );
  }
  const create = functions.filter((f) => f.change === "create").length;
  const update = functions.filter((f) => f.change.startsWith("update")).length;
  return {
    ...base,
    target: "big",
    counts: { create: create + 1, update, delete: 0 },
    tasks,
    functions,
    stateMachine: { name: "big", change: "create", definitionDiff: diff.join("\n") },
    image: { state: "would-build", repository: "big" },
    planHash: "4".repeat(64),
  };
}
