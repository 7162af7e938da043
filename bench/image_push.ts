/**
 * Bytes pushed by a second build after a one-line code change, against the
 * full image: the goal is that only the project's own layers move.
 *
 *   node bench/image_push.mjs [--project DIR] [--log FILE] [--json]
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

const root = resolve(process.env.KEDRO_SFN_REPO_ROOT ?? ".");
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const projectSource = resolve(flag("--project") ?? join(root, "examples", "spaceflights"));
const logFile = flag("--log");
const python = process.env.KEDRO_SFN_TEST_PYTHON ?? join(root, ".venv", "bin", "python");
const BASE_IMAGE = "localhost/kedro-sfn-test-base:bookworm";
const REPOSITORY = "kedro-sfn-bench/project";

const buildah = (...a: string[]): string =>
  execFileSync("buildah", ["--storage-driver", "vfs", ...a], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
  }).trim();
const started = Date.now();
const log = (line: string): void => {
  if (logFile) appendFileSync(logFile, `${((Date.now() - started) / 1000).toFixed(1).padStart(7)} ${line}\n`);
};

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
  const imagesAtStart = imageIds();
  let registry: { address: string; url: string; storage: string } | undefined;
  const stackDir = join(scratch, "stack");
  let ecr: ECRClient | undefined;
  try {
    execFileSync("python3", [join(root, "scripts", "make_base_image.py"), "--tag", BASE_IMAGE], {
      stdio: "inherit",
    });
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

    const build = async (sha: string): Promise<{ result: ImageResult; seconds: number; pushed: number }> => {
      const before = blobBytes(registry!.storage);
      const t0 = Date.now();
      const result = await buildAndPushImage(
        {
          projectPath: project,
          python,
          builder: "buildah",
          kedroEnv: "aws",
          pipeline: "__default__",
          baseImage: BASE_IMAGE,
          architecture: "x86_64",
          ecrRepository: REPOSITORY,
          registry: registry!.address,
          commitSha: sha,
          keepImages: 10,
          handlerRoot: join(scratch, "python"),
        },
        { ecr: ecr!, log },
      );
      return { result, seconds: (Date.now() - t0) / 1000, pushed: blobBytes(registry!.storage) - before };
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
      imageBytes: second.result.imageBytes,
      layers: newLayers.length,
      firstBuild: { seconds: first.seconds, bytesPushed: first.pushed },
      codeChangeBuild: {
        seconds: second.seconds,
        bytesPushed: second.pushed,
        layersChanged: changed.length,
        changedLayerBytes: changed.reduce((sum, layer) => sum + layer.size, 0),
        pushedShareOfImage: second.pushed / second.result.imageBytes,
      },
      unchangedRebuild: { seconds: third.seconds, skipped: third.result.skipped, bytesPushed: third.pushed },
    };
    if (args.includes("--json")) {
      console.log(JSON.stringify(figures, null, 2));
    } else {
      const mb = (n: number): string => `${(n / 1e6).toFixed(2)} MB`;
      console.log(`image ${mb(figures.imageBytes)} compressed, ${figures.layers} layers (${projectSource})`);
      console.log(`first build      ${first.seconds.toFixed(1).padStart(6)} s  pushed ${mb(first.pushed)}`);
      console.log(
        `one-line change  ${second.seconds.toFixed(1).padStart(6)} s  pushed ${mb(second.pushed)} = ${(100 * figures.codeChangeBuild.pushedShareOfImage).toFixed(3)}% of the image; ${changed.length} of ${newLayers.length} layers changed (${(figures.codeChangeBuild.changedLayerBytes / 1e3).toFixed(1)} kB)`,
      );
      console.log(
        `unchanged again  ${third.seconds.toFixed(1).padStart(6)} s  pushed ${mb(third.pushed)} (skipped: ${third.result.skipped})`,
      );
    }
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
    removeProjectLayers(imagesAtStart);
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
