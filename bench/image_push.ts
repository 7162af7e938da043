/**
 * Bytes pushed and seconds taken by a second build after a one-line code change,
 * against the full image: only the project's own layers move, and the rebuild
 * (package, build, smoke test, push) takes under 30 s.
 *
 *   node bench/image_push.mjs [--project DIR] [--builder buildah|docker] [--log FILE] [--json] [--out FILE]
 *
 * buildah runs on the storage kedro-sfn picks (overlay where it works; STORAGE_DRIVER=vfs
 * for the old way); docker on the test engine (scripts/docker_engine.py).
 *
 * Real parts only: buildah (vfs, chroot) on the Debian base from
 * scripts/make_base_image.py, Debian's docker-registry on 127.0.0.1
 * (scripts/local_registry.py; bytes pushed = growth of its blob storage), and
 * moto for ECR's API (scripts/local_stack.py). Needs root and `make system-deps`.
 * The first build reuses buildah's layer cache when an earlier run left it.
 */
import { ECRClient } from "@aws-sdk/client-ecr";
import { execFileSync } from "node:child_process";
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { RegistryClient } from "../src/image/registry.js";
import { buildAndPushImage, type ImageResult } from "../src/image/build.js";
import { buildahStorage } from "../src/image/buildah.js";
import { inspectProject } from "../src/kedro/inspect.js";
import { runCommand } from "../src/process/command.js";

const root = resolve(process.env.KEDRO_SFN_REPO_ROOT ?? ".");
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const projectSource = resolve(flag("--project") ?? join(root, "examples", "spaceflights"));
const logFile = flag("--log");
const builder = (flag("--builder") ?? "buildah") as "buildah" | "docker";
const outFile = flag("--out");
let storage = "vfs";
const python = process.env.KEDRO_SFN_TEST_PYTHON ?? join(root, ".venv", "bin", "python");
const BASE_IMAGE = "localhost/kedro-sfn-test-base:bookworm";
const REPOSITORY = "kedro-sfn-bench/project";
/** Issue 14.7: a one-line code change rebuilds and pushes in under 30 s on the local stack. */
const REBUILD_GOAL_SECONDS = 30;

const buildah = (...a: string[]): string =>
  execFileSync("buildah", ["--storage-driver", storage, ...a], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
  }).trim();
const started = Date.now();
/** When each phase of the current build began (from the build's own log lines). */
let marks: Record<string, number> = {};
const PHASES: [string, RegExp][] = [
  ["package", /^Packaging /],
  ["requirements", /^Image dependencies/],
  ["build", /^Building /],
  ["smoke", /^Smoke test passed/],
  ["push", /^Pushing /],
];
/** The smoke test's own seconds, from its log line (it runs between the build and its line). */
let smokeSeconds = 0;
/** Of which the checks in Python (the rest: the builder's container start and removal). */
let smokeCheckSeconds = 0;
const log = (line: string): void => {
  for (const [phase, pattern] of PHASES)
    if (pattern.test(line) && !(phase in marks)) marks[phase] = Date.now();
  const smoke = /^Smoke test passed in the image \(([\d.]+) s\)/.exec(line);
  if (smoke) smokeSeconds = Number(smoke[1]);
  const checks = /([\d.]+) s of it in the checks$/.exec(line);
  if (checks) smokeCheckSeconds = Number(checks[1]);
  if (logFile) appendFileSync(logFile, `${((Date.now() - started) / 1000).toFixed(1).padStart(7)} ${line}\n`);
};

/**
 * CPU seconds of this process and of the children it waited for (kedro package, buildah and
 * the RUN steps under it), from /proc/self/stat: the figure a loaded shared machine does
 * not inflate the way it inflates wall time. The docker builder's work runs in the daemon,
 * not here, so for it this counts only kedro package, the index and the client.
 */
function cpuSeconds(): number {
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]?.split(" ") ?? [];
  // After "pid (comm) ": state is field 3, so utime..cstime (14-17) sit at 11-14 here.
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
  return ticks / 100;
}

/** Bytes of blob data in the registry's storage: what pushes have uploaded (each blob once). */
function blobBytes(storage: string): number {
  const blobs = join(storage, "docker", "registry", "v2", "blobs");
  if (!existsSync(blobs)) return 0;
  return readdirSync(blobs, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((sum, entry) => sum + statSync(join(entry.parentPath, entry.name)).size, 0);
}

function imageIds(): Set<string> {
  return new Set(
    buildah("images", "--all", "--noheading", "--no-trunc", "--format", "{{.ID}}")
      .split("\n")
      .filter(Boolean),
  );
}

/**
 * vfs stores every layer as a full copy of the tree (about 1 GB here), so the
 * project's own layers made by this run are removed at the end. The images up
 * to the dependency layer are tagged first: they are the next run's cache, and
 * `buildah rmi` also removes untagged parents left without children.
 */
function removeProjectLayers(since: Set<string>): void {
  const layers = (image: string): number =>
    Number(buildah("inspect", "--type", "image", "--format", "{{len .OCIv1.RootFS.DiffIDs}}", image));
  const dependencyLayers = layers(BASE_IMAGE) + 2;
  const made = [...imageIds()].filter((id) => !since.has(id)).map((id) => ({ id, count: layers(id) }));
  for (const { id } of made.filter((image) => image.count === dependencyLayers)) {
    buildah("tag", id, `localhost/kedro-sfn-test-cache:${id.replace("sha256:", "").slice(0, 12)}`);
  }
  for (const { id } of made.filter((image) => image.count > dependencyLayers)) {
    try {
      buildah("rmi", "--force", id);
    } catch {
      // Gone already, or in use by a container of another run.
    }
  }
}

/** The first .py file under the package's pipelines (or package) folder: where the one-line change goes. */
function someModule(project: string): string {
  const found = execFileSync(
    "find",
    [join(project, "src"), "-name", "nodes.py", "-o", "-name", "pipeline_registry.py"],
    { encoding: "utf8" },
  )
    .split("\n")
    .filter(Boolean)
    .sort();
  const file = found[0];
  if (file === undefined) throw new Error(`No nodes.py or pipeline_registry.py under ${project}/src`);
  return file;
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), "kedro-sfn-bench-image-"));
  storage = (await buildahStorage(runCommand)).driver;
  const imagesAtStart = builder === "buildah" ? imageIds() : new Set<string>();
  let registry: { address: string; url: string; storage: string } | undefined;
  const stackDir = join(scratch, "stack");
  let ecr: ECRClient | undefined;
  try {
    execFileSync(
      "python3",
      [join(root, "scripts", "make_base_image.py"), "--tag", BASE_IMAGE, "--storage", storage],
      { stdio: "inherit" },
    );
    if (builder === "docker") {
      execFileSync("python3", [join(root, "scripts", "docker_engine.py"), "load-base", "--tag", BASE_IMAGE]);
      const engine = JSON.parse(
        execFileSync("python3", [join(root, "scripts", "docker_engine.py"), "start"], { encoding: "utf8" }),
      ) as { host: string };
      process.env["DOCKER_HOST"] = engine.host;
    }
    registry = JSON.parse(
      execFileSync(
        "python3",
        [join(root, "scripts", "local_registry.py"), "start", "--dir", join(scratch, "registry")],
        { encoding: "utf8" },
      ),
    ) as typeof registry;
    const stack = JSON.parse(
      execFileSync(python, [join(root, "scripts", "local_stack.py"), "start", "--state-dir", stackDir], {
        encoding: "utf8",
      })
        .trim()
        .split("\n")
        .pop() ?? "{}",
    ) as {
      endpoint: string;
      region: string;
    };
    ecr = new ECRClient({
      endpoint: stack.endpoint,
      region: stack.region,
      credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
    });
    // A snapshot of the handler: python/ may be edited while the benchmark runs.
    cpSync(join(root, "python", "kedro_sfn"), join(scratch, "python", "kedro_sfn"), { recursive: true });
    const project = join(scratch, "project");
    cpSync(projectSource, project, {
      recursive: true,
      filter: (path) => !/\/(dist|build|data|__pycache__|[^/]*\.egg-info)$/.test(path),
    });

    const build = async (
      sha: string,
    ): Promise<{
      result: ImageResult;
      seconds: number;
      cpuSeconds: number;
      secondsWithoutInspect: number;
      pushed: number;
      phases: Record<string, number>;
    }> => {
      const before = blobBytes(registry!.storage);
      const t0 = Date.now();
      const cpu0 = cpuSeconds();
      marks = {};
      smokeSeconds = 0;
      smokeCheckSeconds = 0;
      // As a deploy does: the inspection (which also writes the node index) comes first.
      const graph = await inspectProject({
        projectPath: project,
        pipeline: "__default__",
        kedroEnv: "aws",
        python,
        nodeIndex: true,
        helperRoot: join(scratch, "python"),
      });
      const inspected = Date.now();
      const result = await buildAndPushImage(
        {
          projectPath: project,
          python,
          builder,
          kedroEnv: "aws",
          pipeline: "__default__",
          baseImage: BASE_IMAGE,
          architecture: "x86_64",
          ecrRepository: REPOSITORY,
          registry: registry!.address,
          commitSha: sha,
          keepImages: 10,
          handlerRoot: join(scratch, "python"),
          graph,
        },
        { ecr: ecr!, log },
      );
      const end = Date.now();
      // inspect (with the node index), credentials + probe, package (wheel + conf), requirements
      // and context, build, smoke test, push.
      const s = (from: number, to: number | undefined): number => Math.round(((to ?? end) - from) / 10) / 100;
      const built = marks["smoke"] ?? end;
      const phases: Record<string, number> = {
        inspect: s(t0, inspected),
        setup: s(inspected, marks["package"]),
        package: s(marks["package"] ?? end, marks["requirements"]),
        context: s(marks["requirements"] ?? end, marks["build"]),
      };
      if (!result.skipped) {
        phases["build"] = Math.round((s(marks["build"] ?? end, built) - smokeSeconds) * 100) / 100;
        phases["smokeTest"] = smokeSeconds;
        phases["smokeChecksInPython"] = smokeCheckSeconds;
        phases["push"] = s(built, end);
      }
      return {
        result,
        seconds: (end - t0) / 1000,
        secondsWithoutInspect: (end - inspected) / 1000,
        cpuSeconds: Math.round((cpuSeconds() - cpu0) * 10) / 10,
        pushed: blobBytes(registry!.storage) - before,
        phases,
      };
    };

    const first = await build("a".repeat(40));
    const module = someModule(project);
    writeFileSync(module, `${readFileSync(module, "utf8")}\n# one-line change for the benchmark\n`);
    const second = await build("b".repeat(40));
    const third = await build("c".repeat(40));

    const client = new RegistryClient({ host: registry!.address, url: registry!.url }, REPOSITORY);
    const oldLayers = (await client.getManifest(first.result.digest)).json.layers ?? [];
    const newLayers = (await client.getManifest(second.result.digest)).json.layers ?? [];
    const changed = newLayers.filter((layer, i) => layer.digest !== oldLayers[i]?.digest);
    const figures = {
      project: projectSource,
      builder: builder === "buildah" ? `buildah (${storage} storage)` : "docker buildx",
      imageBytes: second.result.imageBytes,
      layers: newLayers.length,
      firstBuild: {
        seconds: first.seconds,
        cpuSeconds: first.cpuSeconds,
        bytesPushed: first.pushed,
        phases: first.phases,
      },
      loadAverage: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number),
      codeChangeBuild: {
        seconds: second.seconds,
        secondsWithoutInspect: second.secondsWithoutInspect,
        cpuSeconds: second.cpuSeconds,
        phases: second.phases,
        bytesPushed: second.pushed,
        layersChanged: changed.length,
        changedLayerBytes: changed.reduce((sum, layer) => sum + layer.size, 0),
        pushedShareOfImage: second.pushed / second.result.imageBytes,
      },
      unchangedRebuild: { seconds: third.seconds, skipped: third.result.skipped, bytesPushed: third.pushed },
      goal: { rebuildSecondsUnder: REBUILD_GOAL_SECONDS, projectLayersOnly: changed.length <= 2 },
    };
    const goalMet = second.seconds < REBUILD_GOAL_SECONDS && changed.length <= 2;
    if (outFile) {
      const previous = existsSync(outFile)
        ? (JSON.parse(readFileSync(outFile, "utf8")) as Record<string, unknown>)
        : {};
      writeFileSync(outFile, JSON.stringify({ ...previous, [figures.builder]: figures }, null, 2) + "\n");
    }
    if (args.includes("--json")) {
      console.log(JSON.stringify(figures, null, 2));
    } else {
      const mb = (n: number): string => `${(n / 1e6).toFixed(2)} MB`;
      console.log(`image ${mb(figures.imageBytes)} compressed, ${figures.layers} layers (${projectSource})`);
      const phases = (p: Record<string, number>): string =>
        Object.entries(p)
          .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
          .join(", ");
      console.log(`builder ${figures.builder}`);
      console.log(
        `first build      ${first.seconds.toFixed(1).padStart(6)} s  pushed ${mb(first.pushed)} (${phases(first.phases)})`,
      );
      console.log(`  one-line change phases: ${phases(second.phases)}; CPU ${second.cpuSeconds} s`);
      const load = readFileSync("/proc/loadavg", "utf8").split(" ")[0];
      console.log(`  load average at the end: ${load} (wall times grow with it; CPU seconds do not)`);
      console.log(
        `one-line change  ${second.seconds.toFixed(1).padStart(6)} s  pushed ${mb(second.pushed)} = ${(100 * figures.codeChangeBuild.pushedShareOfImage).toFixed(3)}% of the image; ${changed.length} of ${newLayers.length} layers changed (${(figures.codeChangeBuild.changedLayerBytes / 1e3).toFixed(1)} kB)`,
      );
      console.log(
        `unchanged again  ${third.seconds.toFixed(1).padStart(6)} s  pushed ${mb(third.pushed)} (skipped: ${third.result.skipped})`,
      );
    }
    console.log(
      `goal: one-line change rebuilt and pushed in < ${REBUILD_GOAL_SECONDS} s, only the project layers pushed: ${goalMet ? "met" : "MISSED"}`,
    );
    if (!goalMet) process.exitCode = 1;
  } finally {
    ecr?.destroy();
    execFileSync(python, [join(root, "scripts", "local_stack.py"), "stop", "--state-dir", stackDir], {
      stdio: "ignore",
    });
    if (registry) {
      writeFileSync(join(scratch, "registry.json"), JSON.stringify(registry));
      execFileSync("python3", [
        join(root, "scripts", "local_registry.py"),
        "stop",
        "--state",
        join(scratch, "registry.json"),
      ]);
    }
    if (builder === "buildah") removeProjectLayers(imagesAtStart);
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
