import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { createAwsClients } from "../aws/clients.js";
import { Input, Output } from "../constants.js";
import { describeError, UserError } from "../errors.js";
import { parseGraph } from "../graph/parse.js";
import { buildAndPushImage } from "../image/build.js";
import { renderTimings, runJob, type JobIO } from "../job.js";
import { inspectProject } from "../kedro/inspect.js";
import { parseOptions } from "../options.js";
import { planJson } from "../plan/plan.js";
import { renderNodeTableText } from "../report/nodeTable.js";
import { imageOptionsFrom } from "../stages/deploy.js";
import { runCommand } from "../stages/runDeployed.js";
import { parseArgs } from "./args.js";
import { compileCommand } from "./compileCommand.js";

const USAGE = `kedro-sfn: ship a Kedro project to AWS Step Functions

  kedro-sfn inspect --project DIR [--pipeline P] [--kedro-env E] [--python PY]   graph JSON
  kedro-sfn compile --graph FILE [--durations FILE] [--group-by none|namespace|memory] [--structure dag|layered]
  kedro-sfn build   --project DIR --ecr-repository REPO [--builder docker|buildah] ...   image URI with digest
  kedro-sfn plan    --project DIR --state-machine-name NAME [--json] ...        plan (Markdown, or JSON)
  kedro-sfn deploy  --project DIR --state-machine-name NAME --ecr-repository REPO
                    --lambda-role-arn ARN --state-machine-role-arn ARN ...      deploys, prints the summary
  kedro-sfn run     --state-machine NAME [--input JSON] [--wait]                per-node status table

Every action input is also a flag: --<input-name> VALUE (see action.yml).`;

const INPUT_FLAGS = new Set<string>(Object.values(Input));
const EXTRA_FLAGS = new Set(["graph", "help", "json"]);

/** Runs one command; returns the process exit code. Output goes to stdout, diagnostics to stderr. */
export async function runCli(argv: string[], out = process.stdout, err = process.stderr): Promise<number> {
  try {
    const { command, flags } = parseArgs(argv, new Set([...INPUT_FLAGS, ...EXTRA_FLAGS]));
    const options = parseOptions((name) => flags.get(name) ?? "");
    switch (command) {
      case "inspect": {
        const graph = await inspectProject(options);
        out.write(`${JSON.stringify(graph, null, 2)}\n`);
        return 0;
      }
      case "compile": {
        const file = flags.get("graph");
        if (!file)
          throw new UserError("kedro-sfn compile needs --graph FILE (the output of kedro-sfn inspect).");
        const graph = parseGraph(readText(file, "--graph"), file);
        out.write(compileCommand(graph, options, (w: string) => err.write(`warning: ${w}\n`)));
        return 0;
      }
      case "plan":
      case "deploy": {
        const io = terminalIO(err);
        const result = await runJob({ ...options, mode: command }, io, process.env);
        if (flags.get("json") === "true") {
          // The plan as the `plan-json` output has it, for scripts; the Markdown goes nowhere.
          if (result.plan) out.write(`${planJson(result.plan)}\n`);
        } else {
          out.write(`${result.summary}\n`);
          if (result.run) out.write(`${renderNodeTableText(result.run.nodes)}\n`);
        }
        err.write(`Stage timings: ${renderTimings(result.timings)}\n`);
        if (result.failure) {
          err.write(`error: ${result.failure.message}\n`);
          return 1;
        }
        return 0;
      }
      case "build": {
        // The graph says which Kedro, packages and dataset types the image must hold.
        const graph = await inspectProject(options);
        const clients = await createAwsClients();
        try {
          const image = await buildAndPushImage(
            imageOptionsFrom(options, process.env["GITHUB_SHA"] ?? "", graph),
            {
              ecr: clients.ecr,
              log: (line) => err.write(`${line}\n`),
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
            out: (text) => out.write(text.endsWith("\n") ? text : `${text}\n`),
            err: (line) => err.write(`${line}\n`),
            sleep: (ms) => sleep(ms),
            now: Date.now,
            env: process.env,
          });
        } finally {
          clients.destroy();
        }
      }
      case "help":
      case "--help":
        out.write(`${USAGE}\n`);
        return 0;
      default:
        throw new UserError(`Unknown command '${command}'.`, { hint: USAGE });
    }
  } catch (error) {
    err.write(`error: ${describeError(error)}\n`);
    return error instanceof UserError ? 2 : 1;
  }
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
  return {
    info: (line) => err.write(`${line}\n`),
    // A terminal shows the detail (build lines) as it comes: there is no folded log to open.
    debug: (line) => err.write(`${line}\n`),
    group: async (name, work) => {
      err.write(`== ${name} ==\n`);
      return await work();
    },
    warning: (message, w) => err.write(`warning${where(w)}: ${message}\n`),
    error: (message, w) => err.write(`error${where(w)}: ${message}\n`),
    setOutput: (_name: Output, _value: string) => undefined,
    setSecret: () => undefined,
  };
}
