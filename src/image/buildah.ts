import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors.js";
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

/** No daemon, no root-only kernel features: vfs storage and chroot isolation run anywhere. */
export const BUILDAH_GLOBAL = ["--storage-driver", "vfs"];

export function buildahBudArgs(request: BuildRequest): string[] {
  const args = [
    "buildah",
    ...BUILDAH_GLOBAL,
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
): string[] {
  const args = ["buildah", ...BUILDAH_GLOBAL, "push", "--digestfile", digestFile];
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
    const build = await runBuildah(io.run, buildahBudArgs(request), io.log);
    if (build.exitCode !== 0) throw buildFailure("buildah", request, build);
  },

  async runInImage(request: BuildRequest, argv: string[], io: BuildIO) {
    const from = await runBuildah(io.run, [
      "buildah",
      ...BUILDAH_GLOBAL,
      "from",
      "--pull-never",
      localImageName(request.repository),
    ]);
    if (from.exitCode !== 0) throw new Error(`buildah from failed:\n${outputTail(from, 10)}`);
    const container = from.stdout.trim().split("\n").pop() ?? "";
    try {
      return await runBuildah(io.run, [
        "buildah",
        ...BUILDAH_GLOBAL,
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
      await runBuildah(io.run, ["buildah", ...BUILDAH_GLOBAL, "rm", container]);
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
    const push = await runBuildah(io.run, buildahPushArgs(request, digestFile, authFile), io.log);
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
