/**
 * How a run reads an ECS Task: the stopped task's description in a failure's cause (as Step
 * Functions writes it on AWS, and embedded in moto's message locally), the node's own error from
 * the end of the task's log, and the summary's log link to the task's awslogs stream.
 */
import type { HistoryEvent } from "@aws-sdk/client-sfn";
import type { RunTask } from "../src/run/types.js";
import { describe, expect, it } from "@jest/globals";
import { nodeErrorFromLog, parseEcsFailure, ecsLogStreamOf } from "../src/run/ecsFailure.js";
import { ecsRunTasks, runTasksOf } from "../src/run/ecsErrors.js";
import { renderStatusFlowchart } from "../src/report/summary.js";
import { foldHistory, nodeStatusesOf } from "../src/run/historyFold.js";
import { compilePipeline, parseFunctionOverrides } from "../src/compile/index.js";
import { ECS_RUN_TASK } from "../src/compile/ecs.js";
import type { AslDefinition } from "../src/compile/types.js";
import { familyOf } from "../src/run/ecsTaskState.js";
import { pipelineTasksFromDefinition, pipelineTasksFromGraph } from "../src/run/tasks.js";
import { FUNCTION_DEFAULTS, spaceflightsGraph } from "./harness/pipelines.js";

const TASK_ARN = "arn:aws:ecs:eu-west-1:123456789012:task/kedro/0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const STOPPED = {
  TaskArn: TASK_ARN,
  LastStatus: "STOPPED",
  StopCode: "EssentialContainerExited",
  StoppedReason: "Essential container in task exited",
  Containers: [{ Name: "kedro", ExitCode: 1, LastStatus: "STOPPED" }],
};
const ENTRY_ERROR = {
  errorType: "RuntimeError",
  errorMessage: "Kedro node 'data_science.train_model_node' failed: the regressor refuses to train",
};

describe("an ECS Task in the run's history", () => {
  it("reads the exit code and stop reason from the cause, on AWS and as moto words it", () => {
    const expected = {
      type: "States.TaskFailed",
      message:
        "ECS task stopped: container kedro exited with code 1 (Essential container in task exited); the node's error is at the end of the task's log.",
      traceback: [],
    };
    expect(parseEcsFailure("States.TaskFailed", JSON.stringify(STOPPED))).toEqual(expected);
    const local = `An error occurred (ClientException) when calling the DescribeTasks operation: ${JSON.stringify(STOPPED)}`;
    expect(parseEcsFailure("States.Runtime", local)).toEqual({ ...expected, type: "States.Runtime" });
    expect(ecsLogStreamOf(local)).toBe("kedro-sfn/kedro/0f1e2d3c4b5a69788796a5b4c3d2e1f0");
    // Not a task description (a timeout, a capacity failure): the cause as it is.
    expect(parseEcsFailure("AmazonECS.Unknown", "Capacity is unavailable at this time.")).toMatchObject({
      type: "AmazonECS.Unknown",
      message: "Capacity is unavailable at this time.",
    });
  });

  it("takes the node's error from the entry's last log line, with the traceback before it", () => {
    const stopped = parseEcsFailure("States.TaskFailed", JSON.stringify(STOPPED));
    const lines = [
      "INFO kedro: Running node",
      "Traceback (most recent call last):",
      '  File "nodes.py", line 3',
      "RuntimeError: the regressor refuses to train",
      JSON.stringify(ENTRY_ERROR),
    ];
    const error = nodeErrorFromLog(lines, stopped);
    expect(error.type).toBe("RuntimeError");
    expect(error.message).toBe(ENTRY_ERROR.errorMessage);
    expect(error.traceback.at(-1)).toBe("RuntimeError: the regressor refuses to train");
    expect(nodeErrorFromLog(["no json here"], stopped)).toBe(stopped);
  });

  it("links the failed node to its task's log stream in the family's log group", () => {
    const tasks = ecsRunTasks([
      {
        family: "spaceflights-ecs",
        taskName: "spaceflights-data_science-train_model_node",
        stateName: "data_science.train_model_node",
        nodes: ["data_science.train_model_node"],
        cpu: 1024,
        memoryMb: 4096,
        timeoutSeconds: 7200,
        architecture: "x86_64",
        environment: {},
      },
    ]);
    const at = (s: number) => new Date(Date.UTC(2026, 11, 2, 4, 0, s));
    const events: HistoryEvent[] = [
      { id: 1, type: "ExecutionStarted", timestamp: at(0) },
      {
        id: 2,
        type: "TaskStateEntered",
        timestamp: at(1),
        previousEventId: 1,
        stateEnteredEventDetails: { name: "data_science.train_model_node" },
      },
      { id: 3, type: "TaskScheduled", timestamp: at(1), previousEventId: 2 },
      { id: 4, type: "TaskStarted", timestamp: at(2), previousEventId: 3 },
      { id: 5, type: "TaskSubmitted", timestamp: at(2), previousEventId: 4 },
      {
        id: 6,
        type: "TaskFailed",
        timestamp: at(30),
        previousEventId: 5,
        taskFailedEventDetails: {
          resourceType: "ecs",
          resource: "runTask.sync",
          error: "States.TaskFailed",
          cause: JSON.stringify(STOPPED),
        },
      },
      {
        id: 7,
        type: "TaskStateExited",
        timestamp: at(30),
        previousEventId: 6,
        stateExitedEventDetails: { name: "data_science.train_model_node" },
      },
      {
        id: 8,
        type: "ExecutionFailed",
        timestamp: at(31),
        previousEventId: 7,
        executionFailedEventDetails: { error: "KedroSfn.EcsTaskFailed" },
      },
    ];
    const runs = foldHistory(events, tasks).runs();
    expect(runs[0]).toMatchObject({
      status: "failed",
      logGroup: "/ecs/spaceflights-ecs",
      logStream: "kedro-sfn/kedro/0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    });
    const [status] = nodeStatusesOf(runs, {
      partition: "aws",
      region: "eu-west-1",
      accountId: "123456789012",
    });
    expect(status?.logUrl).toBe(
      "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Fecs$252Fspaceflights-ecs/log-events/kedro-sfn$252Fkedro$252F0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    );
    expect(status?.durationMs).toBe(29_000);
  });
});

describe("an ECS Task read back from the deployed definition", () => {
  const SPLIT = "data_science.split_data_node";
  const TRAIN = "data_science.train_model_node";
  const EVALUATE = "data_science.evaluate_model_node";
  const compiled = compilePipeline(spaceflightsGraph(), {
    stateMachineName: "spaceflights",
    groupBy: [],
    structure: "dag",
    functionDefaults: FUNCTION_DEFAULTS,
    overrides: parseFunctionOverrides(
      `functions:\n  overrides:\n    - node: ${TRAIN}\n      runner: ecs\n      cpu: 1024\n      memory: 4096\n`,
      "conf/aws/sfn.yml",
    ),
    ecs: {
      cluster: "kedro",
      subnets: ["subnet-0123456789abcdef0"],
      securityGroups: [],
      assignPublicIp: false,
    },
  });

  /** The definition as deployed: the ECS Task bound to a revision's ARN (src/plan/bind.ts). */
  function bound(definition: AslDefinition): AslDefinition {
    const copy = JSON.parse(JSON.stringify(definition)) as AslDefinition;
    for (const state of Object.values(copy.States))
      if (state["Resource"] === ECS_RUN_TASK)
        (state["Parameters"] as Record<string, unknown>)["TaskDefinition"] =
          "arn:aws:ecs:eu-west-1:123456789012:task-definition/spaceflights-ecs:7";
    return copy;
  }

  it("lists it with its nodes, its family and its place in the pipeline, beside the Lambda Tasks", () => {
    for (const definition of [compiled.definition, bound(compiled.definition)]) {
      const tasks = pipelineTasksFromDefinition(definition);
      expect(
        tasks
          .map((t) => t.nodes)
          .flat()
          .sort(),
      ).toEqual([...compiled.functions.flatMap((f) => f.nodes), TRAIN].sort());
      const train = tasks.find((t) => t.nodes.includes(TRAIN));
      expect(train).toEqual({
        stateName: TRAIN,
        functionName: "spaceflights-ecs",
        nodes: [TRAIN],
        logGroup: "/ecs/spaceflights-ecs",
        dependsOn: [SPLIT],
      });
      expect(tasks.find((t) => t.nodes.includes(EVALUATE))?.dependsOn).toEqual([TRAIN]);
      expect(tasks.filter((t) => t.logGroup)).toHaveLength(1);
    }
    expect(familyOf("spaceflights-ecs:3")).toBe("spaceflights-ecs");
    expect(familyOf("")).toBeUndefined();
  });

  it("is in the action's flowchart too, with the same dependencies as read from the definition", () => {
    const fromGraph = pipelineTasksFromGraph(runTasksOf(compiled), spaceflightsGraph());
    const fromDefinition = pipelineTasksFromDefinition(compiled.definition);
    const train = fromGraph.find((t) => t.stateName === TRAIN);
    expect(train).toMatchObject({ nodes: [TRAIN], dependsOn: [SPLIT] });
    expect(fromGraph.map((t) => t.stateName).sort()).toEqual(fromDefinition.map((t) => t.stateName).sort());
    expect(renderStatusFlowchart(fromGraph, [])).toContain(TRAIN);
  });

  it("is skipped on a resume when every node of it is in the run context's skip list, as the container decides", () => {
    const [train] = pipelineTasksFromDefinition(compiled.definition).filter((t) => t.logGroup);
    const grouped = { ...(train as RunTask), nodes: [SPLIT, TRAIN] };
    const first = "arn:aws:states:eu-west-1:123456789012:execution:spaceflights:first";
    const at = (s: number) => new Date(Date.UTC(2026, 11, 2, 4, 0, s));
    const history = (skip: string[]): HistoryEvent[] => [
      {
        id: 1,
        type: "ExecutionStarted",
        timestamp: at(0),
        executionStartedEventDetails: {
          input: JSON.stringify({ params: {}, kedro_sfn: { run_id: "first", skip, resumed_from: first } }),
        },
      },
      { id: 2, type: "TaskStateEntered", timestamp: at(1), stateEnteredEventDetails: { name: TRAIN } },
      { id: 3, type: "TaskScheduled", timestamp: at(1), previousEventId: 2 },
      { id: 4, type: "TaskSubmitted", timestamp: at(2), previousEventId: 3 },
      {
        id: 5,
        type: "TaskSucceeded",
        timestamp: at(20),
        previousEventId: 4,
        taskSucceededEventDetails: {
          resourceType: "ecs",
          resource: "runTask.sync",
          output: JSON.stringify(STOPPED),
        },
      },
      { id: 6, type: "TaskStateExited", timestamp: at(20), stateExitedEventDetails: { name: TRAIN } },
    ];
    const statusOf = (task: RunTask, skip: string[]) => foldHistory(history(skip), [task]).runs()[0];
    expect(statusOf(train as RunTask, [SPLIT, TRAIN])).toMatchObject({
      status: "skipped",
      skippedFrom: first,
    });
    // A Task with only some of its nodes in the list runs them all (kedro_sfn.resume.skip_result).
    expect(statusOf(grouped, [TRAIN])?.status).toBe("succeeded");
    expect(statusOf(grouped, [SPLIT, TRAIN])?.status).toBe("skipped");
    // Not a resume: the skip list is empty.
    expect(statusOf(train as RunTask, [])?.status).toBe("succeeded");
  });
});
