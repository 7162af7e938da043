import { lambdaTasksOf } from "../compile/lambdaTasks.js";
import { readSucceededRuns } from "../aws/learnedDurations.js";
import { errorMessage } from "../errors.js";
import type { DeployedState } from "../plan/types.js";
import { chooseStructure, learnedDurationsOf } from "../run/durationsLearned.js";
import { compileOptionsFrom } from "./compileSettings.js";
import { warn, type JobContext } from "./context.js";
import type { Inspected } from "./inspect.js";

/**
 * `learn-durations` (default on): once the deployed state is read, compile
 * again with the durations of the deployed state machine's last successful
 * executions, and keep that structure only when it is worth a new version
 * (src/run/durationsLearned.ts). Nothing deployed yet, or `structure:
 * layered`: nothing to learn or choose. A failed read warns and keeps the
 * compile without them: learning never blocks a deploy.
 */
export async function withLearnedDurations(
  ctx: Pick<JobContext, "options" | "io" | "warnings" | "aws">,
  inspected: Inspected,
  deployed: DeployedState | null,
): Promise<Inspected> {
  const { options, io } = ctx;
  const stateMachine = deployed?.stateMachine;
  if (!options.learnDurations || options.structure === "layered" || !stateMachine) return inspected;
  const tasks = lambdaTasksOf(inspected.compiled).map((f) => ({
    stateName: f.stateName,
    functionName: f.functionName,
    nodes: f.nodes,
  }));
  let read;
  try {
    const clients = await ctx.aws.clients();
    read = await readSucceededRuns(clients.sfn, stateMachine.arn, tasks);
  } catch (error) {
    warn(
      ctx,
      `Could not read past executions of ${stateMachine.name} to learn node durations (${errorMessage(error)}); compiling without them. Set 'learn-durations: false' to skip the read.`,
    );
    return inspected;
  }
  const choice = chooseStructure(
    inspected.graph,
    compileOptionsFrom(options, options.projectPath, inspected.graph),
    inspected.compiled,
    { durations: learnedDurationsOf(read.executions), executions: read.executions.length },
    stateMachine.definition,
  );
  io.info(`${choice.note} (${read.calls} read call(s)).`);
  return { ...inspected, compiled: choice.compiled, structureNote: choice.note };
}
