import { readFileSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { createAwsClients } from "../aws/clients.js";
import { Input, Output } from "../constants.js";
import { describeError, errorMessage, UserError } from "../errors.js";
import { parseGraph } from "../graph/parse.js";
import { buildAndPushImage } from "../image/build.js";
import { renderTimings, runJobFromInputs, type JobIO } from "../job.js";
import { inspectProject, inspectProjects } from "../kedro/inspect.js";
import { parsePipelineSelection } from "../stages/pipelines.js";
import type { Plan } from "../plan/types.js";
import { imageGraph } from "../stages/several.js";
import { parseOptions } from "../options.js";
import { planJson } from "../plan/plan.js";
import { jsonText, logText } from "../report/escape.js";
import { renderNodeTableText } from "../report/nodeTable.js";
import { imageOptionsFrom } from "../stages/deploy.js";
import { resumeCommand } from "../stages/resume.js";
import { runCommand } from "../stages/runDeployed.js";
import { parseArgs } from "./args.js";
import { compileCommand } from "./compileCommand.js";
import { destroyCommand, rollbackCommand } from "./opsCommands.js";

const USAGE = `kedro-sfn: ship a Kedro project to AWS Step Functions

  kedro-sfn inspect --project DIR [--pipeline P] [--kedro-env E] [--python PY]   graph JSON
  kedro-sfn compile --graph FILE [--durations FILE] [--group-by none|namespace|memory] [--structure dag|layered]
                    [--function-sharing per-node|by-settings]
  kedro-sfn build   --project DIR --ecr-repository REPO [--builder docker|buildah] ...   image URI with digest
  kedro-sfn plan    --project DIR --state-machine-name NAME [--json] ...        plan (Markdown, or JSON)
  kedro-sfn deploy  --project DIR --state-machine-name NAME --ecr-repository REPO
                    --lambda-role-arn ARN --state-machine-role-arn ARN ...      deploys, prints the summary
  kedro-sfn run     --state-machine NAME [--input JSON] [--wait]                per-node status table
  kedro-sfn resume  --execution ARN [--state-machine NAME] [--wait]            rerun what failed, skip what succeeded
  kedro-sfn rollback --state-machine NAME [--to previous|N]                     points alias live back
  kedro-sfn destroy --state-machine NAME --confirm NAME|--yes [--ecr-repository REPO]
                    deletes what the state machine owns (prints the plan first)

Every action input is also a flag: --<input-name> VALUE (see action.yml).`;

const INPUT_FLAGS = new Set<string>(Object.values(Input));
const EXTRA_FLAGS = new Set(["graph", "help", "json", "to", "yes", "confirm"]);

/** Runs one command; returns the process exit code. Output goes to stdout, diagnostics to stderr. */
export async function runCli(argv: string[], out = process.stdout, err = process.stderr): Promise<number> {
  try {
    const { command, flags } = parseArgs(argv, new Set([...INPUT_FLAGS, ...EXTRA_FLAGS]));
    if (command === "plan" || command === "deploy") return await jobCommand(command, flags, out, err);
    const options = parseOptions((name) => flags.get(name) ?? "");
    switch (command) {
      case "inspect": {
        const selection = parsePipelineSelection(options.pipeline);
        if (selection.several) {
          // Several: one object keyed by pipeline (each value a graph), from one Python start-up.
          const graphs = await inspectProjects(options, selection.names);
          const byName = Object.fromEntries(graphs.map((g) => [g.pipeline ?? "", g]));
          out.write(jsonText(`${JSON.stringify(byName, null, 2)}\n`));
          return 0;
        }
        const graph = await inspectProject(options);
        out.write(jsonText(`${JSON.stringify(graph, null, 2)}\n`));
        return 0;
      }
      case "compile": {
        const file = flags.get("graph");
        if (!file)
          throw new UserError("kedro-sfn compile needs --graph FILE (the output of kedro-sfn inspect).");
        const graph = parseGraph(readText(file, "--graph"), file);
        out.write(
          jsonText(compileCommand(graph, options, (w: string) => err.write(`${logText(`warning: ${w}`)}\n`))),
        );
        return 0;
      }
      case "build": {
        // The graph says which Kedro, packages and dataset types the image must hold.
        const selection = parsePipelineSelection(options.pipeline);
        const graphs = selection.several
          ? await inspectProjects({ ...options, nodeIndex: true }, selection.names)
          : [await inspectProject({ ...options, nodeIndex: true })];
        // Several: the one image they share, smoke-tested for each (as a deploy builds it).
        const graph = selection.several ? imageGraph(graphs) : (graphs[0] as (typeof graphs)[number]);
        const clients = await createAwsClients();
        try {
          const image = await buildAndPushImage(
            {
              ...imageOptionsFrom(options, process.env["GITHUB_SHA"] ?? "", graph),
              ...(selection.several ? { pipelines: graphs.map((g) => g.pipeline ?? "") } : {}),
            },
            {
              ecr: clients.ecr,
              log: (line) => err.write(`${logText(line)}\n`),
            },
          );
          out.write(`${image.imageUri}\n`);
          return 0;
        } finally {
          clients.destroy();
        }
      }
      case "run": {
        const clients = await createAwsClients();
        try {
          return await runCommand(options, {
            sfn: clients.sfn,
            logs: clients.logs,
            out: (text) => out.write(`${logText(text.endsWith("\n") ? text.slice(0, -1) : text)}\n`),
            err: (line) => err.write(`${logText(line)}\n`),
            sleep: (ms) => sleep(ms),
            now: Date.now,
            env: process.env,
          });
        } finally {
          clients.destroy();
        }
      }
      case "resume": {
        const clients = await createAwsClients();
        try {
          return await resumeCommand(options, {
            sfn: clients.sfn,
            logs: clients.logs,
            out: (text) => out.write(`${logText(text.endsWith("\n") ? text.slice(0, -1) : text)}\n`),
            err: (line) => err.write(`${logText(line)}\n`),
            sleep: (ms) => sleep(ms),
            now: Date.now,
          });
        } finally {
          clients.destroy();
        }
      }
      case "rollback":
      case "destroy": {
        const write = (line: string) => out.write(`${logText(line)}\n`);
        const warn = (line: string) => err.write(`${logText(line)}\n`);
        return command === "rollback"
          ? await rollbackCommand(options, flags, write, warn)
          : await destroyCommand(options, flags, write, warn);
      }
      case "help":
      case "--help":
        out.write(`${USAGE}\n`);
        return 0;
      default:
        throw new UserError(`Unknown command '${command}'.`, { hint: USAGE });
    }
  } catch (error) {
    err.write(`${logText(`error: ${describeError(error)}`)}\n`);
    return error instanceof UserError ? 2 : 1;
  }
}

/**
 * `plan` and `deploy`: the job, then its summary on every outcome (stdout, and
 * --summary-file), progress on stderr. Exit 2 for what the user must fix
 * (a bad flag, a project error), 1 for a failure (pre-flight, a failed execution).
 */
async function jobCommand(
  command: "plan" | "deploy",
  flags: Map<string, string>,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const io = terminalIO(err);
  const { result } = await runJobFromInputs(
    () => ({ ...parseOptions((name) => flags.get(name) ?? ""), mode: command }),
    io,
    process.env,
  );
  const summaryFile = flags.get(Input.SummaryFile) ?? "";
  if (summaryFile) {
    try {
      writeFileSync(summaryFile, result.summary);
    } catch (error) {
      io.warning(`Could not write --${Input.SummaryFile} ${summaryFile}: ${errorMessage(error)}`);
    }
  }
  if (flags.get("json") === "true") {
    // The plan as the `plan-json` output has it, for scripts; the Markdown goes nowhere.
    if (result.plan) out.write(jsonText(`${planJson(result.plan)}\n`));
    // Several pipelines: one object keyed by pipeline, each value a plan as above.
    const plans = (result.pipelines ?? []).filter((p) => p.plan);
    if (plans.length > 0) {
      const byName = plans.map((p) => `${JSON.stringify(p.pipeline)}: ${planJson(p.plan as Plan)}`);
      out.write(jsonText(`{${byName.join(",\n")}}\n`));
    }
  } else {
    out.write(logText(result.summary));
    if (result.run) out.write(`${logText(renderNodeTableText(result.run.nodes))}\n`);
    for (const p of result.pipelines ?? [])
      if (p.run) out.write(`${logText(`${p.pipeline}:\n${renderNodeTableText(p.run.nodes)}`)}\n`);
  }
  if (result.timings.length > 0) err.write(`Stage timings: ${renderTimings(result.timings)}\n`);
  const failure = result.failure;
  if (!failure) return 0;
  if (failure.reason === "internal" && failure.thrown?.stack) err.write(`${logText(failure.thrown.stack)}\n`);
  const text = failure.hint ? `${failure.message}\n${failure.hint}` : failure.message;
  err.write(`${logText(`error (${failure.reason}): ${text}`)}\n`);
  return failure.thrown?.userError ? 2 : 1;
}

function readText(file: string, flag: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new UserError(`${flag}: cannot read '${file}': ${(error as Error).message}`);
  }
}

function terminalIO(err: NodeJS.WritableStream): JobIO {
  const where = (w?: { file?: string; startLine?: number }): string =>
    w?.file ? ` (${w.file}${w.startLine ? `:${w.startLine}` : ""})` : "";
  // The CLI may run in a workflow step too, where the runner reads commands from every line.
  const line = (text: string): boolean => err.write(`${logText(text)}\n`);
  return {
    info: (text) => line(text),
    // A terminal shows the detail (build lines) as it comes: there is no folded log to open.
    debug: (text) => line(text),
    group: async (name, work) => {
      line(`== ${name} ==`);
      return await work();
    },
    warning: (message, w) => line(`warning${where(w)}: ${message}`),
    error: (message, w) => line(`error${where(w)}: ${message}`),
    setOutput: (_name: Output, _value: string) => undefined,
    setSecret: () => undefined,
  };
}
