/**
 * Where the handler's run store keeps a crossing in-memory dataset (kedro_sfn/runstore.py
 * implements the same rule): `<data-location>/<state machine>/<run id>/<key>/`, where the key
 * is the dataset name without its transcoding suffix, every character outside
 * `A-Z a-z 0-9 . _ -` written as `~` plus two upper-case hex digits per UTF-8 byte, and a
 * name made only of dots fully encoded.
 */
export function encodeKey(text: string): string {
  if (text.length > 0 && /^\.+$/.test(text)) return "~2E".repeat(text.length);
  let out = "";
  for (const char of text) {
    if (/^[A-Za-z0-9._-]$/.test(char)) out += char;
    else
      for (const byte of Buffer.from(char, "utf8"))
        out += `~${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

export function runStoreKey(dataset: string): string {
  const at = dataset.indexOf("@");
  return encodeKey(at > 0 ? dataset.slice(0, at) : dataset);
}

/** The folder of `dataset` for a run; `location` is `<data-location>/<state machine>`. */
export function runStoreFolder(location: string, dataset: string, runId = "<run id>"): string {
  const run = runId === "<run id>" ? runId : encodeKey(runId);
  return `${location.replace(/\/+$/, "")}/${run}/${runStoreKey(dataset)}/`;
}
