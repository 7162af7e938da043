import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeStateMachineCommand, type SFNClient } from "@aws-sdk/client-sfn";
import { findStateMachineArn } from "../aws/sfn.js";
import { describeAlias } from "../aws/alias.js";
import type { AslDefinition } from "../compile/types.js";
import { Input } from "../constants.js";
import { UserError, errorMessage } from "../errors.js";
import type { Options } from "../options.js";
import { renderNodeTableText } from "../report/nodeTable.js";
import { addEcsNodeErrors } from "../run/ecsErrors.js";
import { executePipeline, type RunReport } from "../run/execute.js";
import { executionName } from "../run/start.js";
import { pipelineTasksFromDefinition } from "../run/tasks.js";
import { childMachineReferences } from "../plan/bind.js";

export interface CliRunDeps {
  sfn: SFNClient;
  /** A failed ECS Task's node error is the end of its task's log; without it, the exit code's message. */
  logs?: CloudWatchLogsClient;
  /** The table and the verdict (stdout). */
  out: (text: string) => void;
  /** Progress and warnings (stderr). */
  err: (line: string) => void;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  /** GITHUB_SHA, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT when run inside a workflow. */
  env: Record<string, string | undefined>;
}

/**
 * `kedro-sfn run --state-machine NAME [--input JSON] [--wait]`: starts the
 * deployed machine, waits, prints the per-node table. The Tasks come from the
 * deployed definition, so no project is needed. Returns the exit code.
 */
export async function runCommand(options: Options, deps: CliRunDeps): Promise<number> {
  if (!options.stateMachineName) {
    throw new UserError("kedro-sfn run needs --state-machine NAME.", {
      hint: `Give the name the pipeline was deployed as ('${Input.StateMachineName}').`,
    });
  }
  const machineArn = await findStateMachine(deps.sfn, options.stateMachineName);
  // Through the alias when there is one (what deploys and schedules start), else the machine itself.
  const alias = await describeAlias(deps.sfn, machineArn);
  const stateMachineArn = alias?.versionArn ? alias.arn : machineArn;
  const described = await deps.sfn.send(
    new DescribeStateMachineCommand({ stateMachineArn: alias?.versionArn ?? machineArn }),
  );
  let definition: AslDefinition;
  try {
    definition = JSON.parse(described.definition ?? "") as AslDefinition;
  } catch (error) {
    throw new Error(`The definition of ${stateMachineArn} is not JSON: ${errorMessage(error)}`);
  }
  const tasks = pipelineTasksFromDefinition(definition);
  // A split pipeline: its Tasks are in the child state machine versions the parent starts.
  for (const child of childMachineReferences(definition)) {
    const described = await deps.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: child }));
    try {
      tasks.push(...pipelineTasksFromDefinition(JSON.parse(described.definition ?? "") as AslDefinition));
    } catch (error) {
      throw new Error(`The definition of ${child} is not JSON: ${errorMessage(error)}`);
    }
  }
  if (tasks.length === 0) {
    deps.err(
      `warning: ${options.stateMachineName} has no Task that runs Kedro nodes; per-node status will be empty.`,
    );
  }
  // The alias's version (or the machine's current definition): the Tasks read above are what runs.
  const report = await executePipeline(
    deps.sfn,
    {
      stateMachineArn,
      name: executionName({
        commitSha: deps.env["GITHUB_SHA"] ?? "",
        runId: deps.env["GITHUB_RUN_ID"] ?? "",
        runAttempt: deps.env["GITHUB_RUN_ATTEMPT"] ?? "",
        now: deps.now(),
      }),
      input: options.executionInput,
      wait: options.waitForExecution,
      timeoutMs: options.executionTimeoutMinutes * 60_000,
      tasks,
      failOnExecutionFailure: options.failOnExecutionFailure,
      versionArn: alias?.versionArn ?? null,
    },
    { log: deps.err, warn: (line) => deps.err(`warning: ${line}`), sleep: deps.sleep, now: deps.now },
  );
  if (deps.logs) await addEcsNodeErrors(deps.logs, report, (line) => deps.err(`warning: ${line}`));
  return printRunReport(report, deps, `${report.status}  ${report.name}`);
}

/**
 * A run as the terminal shows it: the execution ARN when not waited for, else the headline, the
 * node table and the console link; the exit code says whether the run failed.
 */
export function printRunReport(
  report: RunReport,
  deps: Pick<CliRunDeps, "out" | "err">,
  headline: string,
): number {
  if (!report.waited) {
    deps.out(`${report.executionArn}\n`);
    return 0;
  }
  const lines = [
    headline,
    "",
    renderNodeTableText(report.nodes, { executionStartMs: Date.parse(report.startedAt) }),
    "",
    report.consoleUrl,
  ];
  deps.out(`${lines.join("\n")}\n`);
  if (report.failure) {
    deps.err(`error: ${report.failure.message}`);
    return 1;
  }
  return 0;
}

/** The ARN of the state machine with this name in the client's account and region. */
export async function findStateMachine(sfn: SFNClient, name: string): Promise<string> {
  const arn = await findStateMachineArn(sfn, name);
  if (arn) return arn;
  throw new UserError(`No state machine named '${name}' in this account and region.`, {
    hint: "Deploy it first (kedro-sfn deploy), or check the name and AWS_REGION.",
  });
}
