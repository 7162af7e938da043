import * as core from "@actions/core";
import { writeFile } from "node:fs/promises";
import type { Input } from "./constants.js";
import { describeError, UserError } from "./errors.js";
import { renderTimings, runJob, type JobIO } from "./job.js";
import { parseOptions } from "./options.js";
import { renderNodeTableText } from "./report/nodeTable.js";

/** The job's IO on a runner: annotations, foldable groups, debug lines only with step debugging on. */
export const actionIO: JobIO = {
  info: (line) => core.info(line),
  debug: (line) => core.debug(line),
  warning: (message, where) => core.warning(message, where ?? {}),
  error: (message, where) => core.error(message, where ?? {}),
  group: (name, work) => core.group(name, work),
  setOutput: (name, value) => core.setOutput(name, value),
  setSecret: (secret) => core.setSecret(secret),
};

/** The action: inputs -> job -> outputs, summary, and the step's status. */
export async function run(): Promise<void> {
  try {
    const options = parseOptions((name: Input) => core.getInput(name));
    const result = await runJob(options, actionIO, process.env);
    if (result.run) core.info(renderNodeTableText(result.run.nodes));
    core.info(`Stage timings: ${renderTimings(result.timings)}`);
    await writeSummary(result.summary, options.summaryFile);
    if (result.failure) core.setFailed(result.failure.message);
  } catch (error) {
    if (error instanceof UserError && error.file) core.error(error.message, { file: error.file });
    core.setFailed(describeError(error));
  }
}

async function writeSummary(markdown: string, file: string): Promise<void> {
  if (file) await writeFile(file, `${markdown}\n`);
  if (!process.env["GITHUB_STEP_SUMMARY"]) {
    // Outside a runner there is no job summary: print it unless it went to a file.
    if (!file) core.info(markdown);
    return;
  }
  await core.summary.addRaw(markdown, true).write();
}
