export { functionNameOf } from "../compile/names.js";
export { bindDefinition, boundTasks, readableDefinition, taskFunctionNames } from "./bind.js";
export { stableStringify } from "../canonicalJson.js";
export { sha256Hex } from "./canonical.js";
export {
  arnAccount,
  desiredHash,
  functionDescription,
  functionHashes,
  functionTags,
  parseFunctionDescription,
  stateMachineTags,
  Tag,
  validateDeployInputs,
  validateStateMachineName,
} from "./desired.js";
export { diffJson } from "./diff.js";
export { deployOutputs, planOutputs } from "./outputs.js";
export {
  desiredLogging,
  NEW_VERSION,
  planDeployment,
  planFunction,
  planHash,
  planJson,
  type PlanOptions,
} from "./plan.js";
export { renderPlanText } from "./render.js";
export * from "./types.js";
