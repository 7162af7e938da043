import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UserError, errorMessage } from "../errors.js";
import { CommandNotFoundError, outputTail, type CommandRunner } from "../process/command.js";
import {
  LAMBDA_LIKE_USER,
  buildFailure,
  localImageName,
  pushFailure,
  type BuildIO,
  type BuildRequest,
  type ImageBuilder,
} from "./builder.js";
import { isLoopbackHost } from "./options.js";

/**
 * buildah's storage: overlay shares unchanged layers between steps and images; vfs (no
 * kernel feature needed, works anywhere) copies the whole tree for every layer, so each
 * step after the big dependency layer copies it again (a one-line change cost 41 s of
 * copying on vfs). Overlay where it works, vfs otherwise; buildah's own STORAGE_DRIVER
 * variable picks one outright.
 */
export interface StorageChoice {
  driver: string;
  /** One line for the log: which storage, and why. */
  note: string;
}

export function storageArgs(driver: string): string[] {
  return ["--storage-driver", driver];
}

/** Probed once per command runner and STORAGE_DRIVER value: build, smoke test and push agree. */
const chosen = new WeakMap<CommandRunner, Map<string, Promise<StorageChoice>>>();

/** The storage driver buildah uses here. */
export function buildahStorage(run: CommandRunner): Promise<StorageChoice> {
  const pinned = (process.env["STORAGE_DRIVER"] ?? "").trim();
  const byValue = chosen.get(run) ?? new Map<string, Promise<StorageChoice>>();
  chosen.set(run, byValue);
  let choice = byValue.get(pinned);
  if (choice === undefined) {
    choice =
      pinned !== ""
        ? Promise.resolve({ driver: pinned, note: `buildah storage: ${pinned} (STORAGE_DRIVER)` })
        : probeOverlay(run);
    byValue.set(pinned, choice);
  }
  return choice;
}

/**
 * Overlay works when buildah can mount a container with it: `buildah from scratch` and
 * `buildah mount` (in buildah's user namespace when not root), then the container is removed.
 */
export async function probeOverlay(run: CommandRunner): Promise<StorageChoice> {
  const overlay = ["buildah", ...storageArgs("overlay")];
  const fallBack = (why: string): StorageChoice => ({
    driver: "vfs",
    note: `buildah storage: vfs, because overlay does not work here (${why}): every layer is a full copy, so builds are slower. STORAGE_DRIVER=overlay or vfs picks one.`,
  });
  let from;
  try {
    from = await run({
      argv: [...overlay, "from", "--pull-never", "scratch"],
      env: { BUILDAH_ISOLATION: "chroot" },
    });
  } catch (error) {
    return fallBack(errorMessage(error));
  }
  if (from.exitCode !== 0) return fallBack(lastLine(from));
  const container = from.stdout.trim().split("\n").pop() ?? "";
  try {
    const rootless = typeof process.getuid === "function" && process.getuid() !== 0;
    const mount = await run({
      argv: rootless
        ? ["buildah", "unshare", ...overlay, "mount", container]
        : [...overlay, "mount", container],
    });
    if (mount.exitCode !== 0) return fallBack(lastLine(mount));
  } finally {
    await run({ argv: [...overlay, "rm", container] });
  }
  return { driver: "overlay", note: "buildah storage: overlay (unchanged layers are shared, not copied)" };
}

function lastLine(result: { output: string; exitCode: number }): string {
  return result.output.trim().split("\n").pop() || `exit ${result.exitCode}`;
}

export function buildahBudArgs(request: BuildRequest, driver: string): string[] {
  const args = [
    "buildah",
    ...storageArgs(driver),
    "bud",
    "--isolation",
    "chroot",
    // Reuse unchanged steps: the dependency layer is rebuilt only when requirements change.
    "--layers",
    "--platform",
    request.platform.platform,
    // Same content, same layer and config digests: a rebuild of unchanged steps pushes nothing.
    "--timestamp",
    "0",
    "--format",
    "oci",
    "--file",
    request.dockerfile,
  ];
  if (isLoopbackHost(imageHost(request.baseImage))) args.push("--tls-verify=false");
  for (const [key, value] of Object.entries(request.buildArgs).sort(([a], [b]) => (a < b ? -1 : 1))) {
    args.push("--build-arg", `${key}=${value}`);
  }
  args.push("--tag", localImageName(request.repository), request.contextDir);
  return args;
}

export function buildahPushArgs(
  request: BuildRequest,
  digestFile: string,
  authFile: string | undefined,
  driver: string,
): string[] {
  const args = ["buildah", ...storageArgs(driver), "push", "--digestfile", digestFile];
  if (request.registry.insecure) args.push("--tls-verify=false");
  if (authFile !== undefined) args.push("--authfile", authFile);
  args.push(localImageName(request.repository), `docker://${request.target}`);
  return args;
}

/** The registry host of an image reference, as buildah resolves it (`docker.io` when none). */
function imageHost(reference: string): string {
  const first = reference.split("/")[0] ?? "";
  return reference.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost")
    ? first
    : "docker.io";
}

export const buildahBuilder: ImageBuilder = {
  name: "buildah",
  async build(request: BuildRequest, io: BuildIO): Promise<void> {
    const storage = await buildahStorage(io.run);
    io.log(storage.note);
    const build = await runBuildah(io.run, buildahBudArgs(request, storage.driver), io.log);
    if (build.exitCode !== 0) throw buildFailure("buildah", request, build);
  },

  async runInImage(request: BuildRequest, argv: string[], io: BuildIO) {
    const global = storageArgs((await buildahStorage(io.run)).driver);
    const from = await runBuildah(io.run, [
      "buildah",
      ...global,
      "from",
      "--pull-never",
      localImageName(request.repository),
    ]);
    if (from.exitCode !== 0) throw new Error(`buildah from failed:\n${outputTail(from, 10)}`);
    const container = from.stdout.trim().split("\n").pop() ?? "";
    try {
      return await runBuildah(io.run, [
        "buildah",
        ...global,
        "run",
        // chroot isolation (no daemon, no user namespaces) shares the host's network: buildah
        // refuses --network none with it. Docker's smoke test runs without a network.
        "--isolation",
        "chroot",
        "--user",
        LAMBDA_LIKE_USER,
        container,
        "--",
        ...argv,
      ]);
    } finally {
      await runBuildah(io.run, ["buildah", ...global, "rm", container]);
    }
  },

  async push(request: BuildRequest, io: BuildIO): Promise<{ digest: string }> {
    // Credentials go in a 0600 file in a private folder, never on a command line.
    let authFile: string | undefined;
    if (request.credentials) {
      authFile = join(request.workDir, "auth.json");
      const auth = Buffer.from(`${request.credentials.username}:${request.credentials.password}`).toString(
        "base64",
      );
      writeFileSync(authFile, JSON.stringify({ auths: { [request.registry.host]: { auth } } }), {
        mode: 0o600,
      });
    }
    const digestFile = join(request.workDir, "digest");
    io.log(`Pushing ${request.target}`);
    const { driver } = await buildahStorage(io.run);
    const push = await runBuildah(io.run, buildahPushArgs(request, digestFile, authFile, driver), io.log);
    if (push.exitCode !== 0) throw pushFailure(request, push);
    const digest = readFileSync(digestFile, "utf8").trim();
    if (!/^sha256:[0-9a-f]{64}$/.test(digest))
      throw new Error(`buildah push wrote no digest (got '${digest}').`);
    return { digest };
  },
};

async function runBuildah(run: CommandRunner, argv: string[], log?: (line: string) => void) {
  try {
    return await run({ argv, env: { BUILDAH_ISOLATION: "chroot" }, ...(log ? { onLine: log } : {}) });
  } catch (error) {
    if (error instanceof CommandNotFoundError) {
      throw new UserError("Builder 'buildah' is not installed on this machine.", {
        hint: "Install it (Debian/Ubuntu: apt-get install buildah), or use builder 'docker'.",
      });
    }
    throw error;
  }
}
