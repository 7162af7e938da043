/** A JobIO for tests of the whole job: it records what the job says and sets, and prints nothing. */
import type { JobIO } from "../../src/job.js";

export interface RecordingIO extends JobIO {
  outputs: Map<string, string>;
  infos: string[];
  warnings: string[];
  errors: { message: string; file?: string }[];
}

export function recordingIO(): RecordingIO {
  const recorded = {
    outputs: new Map<string, string>(),
    infos: [] as string[],
    warnings: [] as string[],
    errors: [] as { message: string; file?: string }[],
  };
  return {
    ...recorded,
    info: (line) => void recorded.infos.push(line),
    debug: () => undefined,
    warning: (line) => void recorded.warnings.push(line),
    error: (message, where) =>
      void recorded.errors.push({ message, ...(where?.file ? { file: where.file } : {}) }),
    group: (_name, work) => work(),
    setOutput: (name, value) => void recorded.outputs.set(name, value),
    setSecret: () => undefined,
  };
}
