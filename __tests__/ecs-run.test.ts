/**
 * How a run reads an ECS Task: the stopped task's description in a failure's cause (as Step
 * Functions writes it on AWS, and embedded in moto's message locally), the node's own error from
 * the end of the task's log, and the summary's log link to the task's awslogs stream.
 */
import type { HistoryEvent } from "@aws-sdk/client-sfn";
import { describe, expect, it } from "@jest/globals";
import { nodeErrorFromLog, parseEcsFailure, ecsLogStreamOf } from "../src/run/ecsFailure.js";
import { ecsRunTasks } from "../src/run/ecsErrors.js";
import { foldHistory, nodeStatusesOf } from "../src/run/historyFold.js";

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
