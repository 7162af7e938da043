import * as core from "@actions/core";
import { writeFile } from "node:fs/promises";
import { Input, Output } from "./constants.js";
import { describeError, errorMessage } from "./errors.js";
import { renderTimings, runJobFromInputs, type Annotation, type JobIO, type JobResult } from "./job.js";
import { parseOptions } from "./options.js";
import { annotationText, annotationTitle, logText } from "./report/escape.js";
import { renderNodeTableText } from "./report/nodeTable.js";

/**
 * The job's IO on a runner: annotations, foldable groups, debug lines only with
 * step debugging on. Every line passes its sink's escaping here, so no text of
 * the project's (a node name, an exception message) can be a workflow command:
 * core.info writes lines as they are, while core's commands escape their data.
 */
export const actionIO: JobIO = {
  info: (line) => core.info(logText(line)),
  debug: (line) => core.debug(line),
  warning: (message, where) => core.warning(annotationText(message), annotationProperties(where)),
  error: (message, where) => core.error(annotationText(message), annotationProperties(where)),
  group: (name, work) => core.group(name, work),
  setOutput: (name, value) => core.setOutput(name, value),
  setSecret: (secret) => core.setSecret(secret),
};

function annotationProperties(where: Annotation | undefined): core.AnnotationProperties {
  if (!where) return {};
  return { ...where, ...(where.title !== undefined ? { title: annotationTitle(where.title) } : {}) };
}

/** The action: inputs -> job -> summary, outputs and the step's status, on every outcome. */
export async function run(): Promise<void> {
  try {
    const { options, result } = await runJobFromInputs(
      () => parseOptions((name: Input) => core.getInput(name)),
      actionIO,
      process.env,
    );
    await report(result, options?.summaryFile ?? core.getInput(Input.SummaryFile));
  } catch (error) {
    // runJobFromInputs never throws: this is a bug in reporting itself, still a failed step with a reason.
    core.setOutput(Output.FailureReason, "internal");
    core.setFailed(annotationText(describeError(error)));
  }
}

async function report(result: JobResult, summaryFile: string): Promise<void> {
  if (result.run) core.info(logText(renderNodeTableText(result.run.nodes)));
  for (const p of result.pipelines ?? [])
    if (p.run) core.info(logText(`${p.pipeline}:\n${renderNodeTableText(p.run.nodes)}`));
  if (result.timings.length > 0) core.info(`Stage timings: ${renderTimings(result.timings)}`);
  try {
    await writeSummary(result.summary, summaryFile);
  } catch (error) {
    core.warning(annotationText(`Could not write the job summary: ${errorMessage(error)}`));
  }
  const failure = result.failure;
  if (!failure) return;
  if (failure.file) core.error(annotationText(failure.message), { file: failure.file });
  // A bug to report: the stack goes to the log (other thrown errors keep it in debug lines).
  if (failure.reason === "internal" && failure.thrown?.stack) core.info(logText(failure.thrown.stack));
  core.setFailed(annotationText(failure.hint ? `${failure.message}\n${failure.hint}` : failure.message));
}

async function writeSummary(markdown: string, file: string): Promise<void> {
  if (file) await writeFile(file, markdown);
  if (!process.env["GITHUB_STEP_SUMMARY"]) {
    // Outside a runner there is no job summary: print it unless it went to a file.
    if (!file) core.info(logText(markdown));
    return;
  }
  await core.summary.addRaw(markdown, true).write();
}
