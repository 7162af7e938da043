/**
 * Real image builds: buildah (vfs, chroot) builds the spaceflights example on
 * a Debian Python base made by scripts/make_base_image.py, pushes it to
 * Debian's docker-registry on 127.0.0.1 (scripts/local_registry.py), with ECR's
 * API served by moto (scripts/local_stack.py). Needs root, buildah, skopeo,
 * docker-registry and debootstrap (`make system-deps`).
 */
import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetLifecyclePolicyCommand,
  PutLifecyclePolicyCommand,
} from "@aws-sdk/client-ecr";
import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureRepository, lifecyclePolicy } from "../src/aws/ecr.js";
import { RegistryClient, MEDIA_TYPES } from "../src/image/registry.js";
import { UserError } from "../src/errors.js";
import { buildAndPushImage, contentTag, verifyLambdaImage, type ImageResult } from "../src/image/build.js";
import { localImageName } from "../src/image/builder.js";
import { platformFor, type ImageOptions } from "../src/image/options.js";

// The base image and this file's clean-up live in buildah's vfs storage (scripts/make_base_image.py);
// the builder would otherwise pick overlay where it works (bench/image_push.ts measures both).
process.env["STORAGE_DRIVER"] ??= "vfs";
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const venvPython = process.env.KEDRO_SFN_TEST_PYTHON ?? join(repoRoot, ".venv", "bin", "python");
const BASE_IMAGE = "localhost/kedro-sfn-test-base:bookworm";
const REPOSITORY = "kedro-sfn-test/spaceflights";
const TINY_REPOSITORY = "kedro-sfn-test/tiny";
const scratch = mkdtempSync(join(tmpdir(), "kedro-sfn-image-build-"));
const buildah = (...args: string[]): string =>
  execFileSync("buildah", ["--storage-driver", process.env["STORAGE_DRIVER"] ?? "vfs", ...args], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
  }).trim();
const skopeo = (...args: string[]): string => execFileSync("skopeo", args, { encoding: "utf8" }).trim();

let registryState: { address: string; url: string; storage: string; pid: number };
let stackDir: string;
let ecr: ECRClient;
let project: string;
let tiny: string;
/** A snapshot of python/kedro_sfn: the handler may be edited while the tests run. */
const handlerRoot = join(scratch, "python");
const masked: string[] = [];
const logs: string[] = [];
/** Images in buildah's storage before this file ran: never removed. */
let imagesAtStart = new Set<string>();

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

/** Bytes of blob data the registry stores: what pushes have uploaded. */
function registryBytes(): number {
  const blobs = join(registryState.storage, "docker", "registry", "v2", "blobs");
  if (!existsSync(blobs)) return 0;
  return readdirSync(blobs, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((sum, entry) => sum + statSync(join(entry.parentPath, entry.name)).size, 0);
}

function options(overrides: Partial<ImageOptions> = {}): ImageOptions {
  return {
    projectPath: project,
    python: venvPython,
    builder: "buildah",
    kedroEnv: "aws",
    pipeline: "__default__",
    baseImage: BASE_IMAGE,
    architecture: "x86_64",
    ecrRepository: REPOSITORY,
    registry: registryState.address,
    commitSha: "1111111111111111111111111111111111111111",
    keepImages: 7,
    handlerRoot,
    ...overrides,
  };
}

const deps = () => ({
  ecr,
  mask: (secret: string) => masked.push(secret),
  log: (line: string) => logs.push(line),
});

/** The example project copied to a scratch folder (kedro package writes dist/, build/; tests edit code). */
function copyProject(source: string, target: string): string {
  cpSync(source, target, {
    recursive: true,
    filter: (path) => !/\/(dist|build|data|__pycache__|[^/]*\.egg-info)$/.test(path),
  });
  return target;
}

function tinyProject(dir: string): string {
  mkdirSync(join(dir, "src", "tiny"), { recursive: true });
  mkdirSync(join(dir, "conf", "base"), { recursive: true });
  mkdirSync(join(dir, "conf", "local"), { recursive: true });
  writeFileSync(
    join(dir, "pyproject.toml"),
    '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n[project]\nname = "tiny"\nversion = "0.1"\ndependencies = ["kedro==1.7.0"]\n[tool.kedro]\npackage_name = "tiny"\nproject_name = "tiny"\nkedro_init_version = "1.7.0"\nsource_dir = "src"\n[tool.setuptools.packages.find]\nwhere = ["src"]\n',
  );
  writeFileSync(join(dir, "src", "tiny", "__init__.py"), '__version__ = "0.1"\n');
  writeFileSync(join(dir, "src", "tiny", "settings.py"), "");
  writeFileSync(
    join(dir, "src", "tiny", "pipeline_registry.py"),
    'from kedro.pipeline import Pipeline, node\n\ndef double(x):\n    return x * 2\n\ndef register_pipelines():\n    return {"__default__": Pipeline([node(double, "params:x", "y", name="double_node")])}\n',
  );
  writeFileSync(join(dir, "conf", "base", "parameters.yml"), "x: 21\n");
  writeFileSync(join(dir, "conf", "base", "catalog.yml"), "{}\n");
  // The env the Lambdas run (kedro-env): the smoke test refuses an image whose conf lacks it.
  mkdirSync(join(dir, "conf", "aws"), { recursive: true });
  writeFileSync(join(dir, "conf", "aws", "catalog.yml"), "{}\n");
  return dir;
}

/** A local HTTP server; `handle` gets every request. */
async function serve(
  handle: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void,
): Promise<{ server: Server; url: string; port: number }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handle(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return { server, url: `http://127.0.0.1:${port}`, port };
}

beforeAll(() => {
  execFileSync("python3", [join(repoRoot, "scripts", "make_base_image.py"), "--tag", BASE_IMAGE], {
    stdio: "inherit",
  });
  imagesAtStart = imageIds();
  registryState = JSON.parse(
    execFileSync(
      "python3",
      [join(repoRoot, "scripts", "local_registry.py"), "start", "--dir", join(scratch, "registry")],
      { encoding: "utf8" },
    ),
  ) as typeof registryState;
  stackDir = join(scratch, "stack");
  const stack = JSON.parse(
    execFileSync(
      venvPython,
      [join(repoRoot, "scripts", "local_stack.py"), "start", "--state-dir", stackDir],
      { encoding: "utf8" },
    )
      .trim()
      .split("\n")
      .pop() ?? "{}",
  ) as { endpoint: string; region: string };
  ecr = new ECRClient({
    endpoint: stack.endpoint,
    region: stack.region,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  });

  cpSync(join(repoRoot, "python", "kedro_sfn"), join(handlerRoot, "kedro_sfn"), { recursive: true });
  project = copyProject(join(repoRoot, "examples", "spaceflights"), join(scratch, "spaceflights"));
  execFileSync(
    venvPython,
    [join(project, "scripts", "make_data.py"), "--out", join(project, "data", "01_raw")],
    { cwd: project },
  );
  tiny = tinyProject(join(scratch, "tiny"));
}, 900_000);

afterAll(() => {
  ecr?.destroy();
  if (stackDir)
    execFileSync(venvPython, [join(repoRoot, "scripts", "local_stack.py"), "stop", "--state-dir", stackDir]);
  if (registryState) {
    writeFileSync(join(scratch, "registry.json"), JSON.stringify(registryState));
    execFileSync("python3", [
      join(repoRoot, "scripts", "local_registry.py"),
      "stop",
      "--state",
      join(scratch, "registry.json"),
    ]);
  }
  if (imagesAtStart.size > 0) removeProjectLayers(imagesAtStart);
  rmSync(scratch, { recursive: true, force: true });
});

describe("buildah + docker-registry + moto's ECR", () => {
  let first: ImageResult;
  let registry: RegistryClient;

  test("builds and pushes the spaceflights image: one manifest, linux/amd64, the handler as CMD", async () => {
    const started = Date.now();
    first = await buildAndPushImage(options(), deps());
    logs.push(`cold-or-warm build: ${Date.now() - started} ms`);
    registry = new RegistryClient({ host: registryState.address, url: registryState.url }, REPOSITORY);

    expect(first.skipped).toBe(false);
    expect(first.imageUri).toBe(`${registryState.address}/${REPOSITORY}@${first.digest}`);
    expect(first.tags).toEqual([contentTag(first.contentHash), "1111111111111111111111111111111111111111"]);
    expect(first.tag).toBe("1111111111111111111111111111111111111111");

    const raw = JSON.parse(
      skopeo("inspect", "--raw", "--tls-verify=false", `docker://${first.imageUri}`),
    ) as { mediaType: string; layers: unknown[] };
    expect(raw.mediaType).toBe(MEDIA_TYPES.ociManifest);
    const inspected = JSON.parse(
      skopeo("inspect", "--tls-verify=false", `docker://${registryState.address}/${REPOSITORY}:${first.tag}`),
    ) as {
      Digest: string;
      Architecture: string;
      Os: string;
      Layers: string[];
    };
    expect(inspected).toMatchObject({ Digest: first.digest, Architecture: "amd64", Os: "linux" });
    const config = JSON.parse(
      skopeo("inspect", "--config", "--tls-verify=false", `docker://${first.imageUri}`),
    ) as {
      config: { Cmd: string[]; Env: string[]; WorkingDir: string };
    };
    expect(config.config.Cmd).toEqual(["kedro_sfn.handler.handler"]);
    expect(config.config.WorkingDir).toBe("/var/task");
    expect(config.config.Env).toEqual(
      expect.arrayContaining([
        "KEDRO_SFN_PACKAGE=spaceflights",
        "KEDRO_SFN_CONF_SOURCE=/var/task/conf",
        "PYTHONPATH=/var/task",
      ]),
    );

    const head = await registry.headManifest(contentTag(first.contentHash));
    expect(head?.digest).toBe(first.digest);
    expect(first.imageBytes).toBeGreaterThan(50_000_000);

    const repo = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [REPOSITORY] })))
      .repositories?.[0];
    expect(repo?.imageScanningConfiguration?.scanOnPush).toBe(true);
    const policy = await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: REPOSITORY }));
    expect(JSON.parse(policy.lifecyclePolicyText ?? "{}")).toMatchObject({
      rules: [
        // Images a kept state machine version runs are never expired (deploy.test.ts shows the tags).
        { rulePriority: 1, selection: { tagPrefixList: ["kedro-sfn-kept-"] } },
        {
          rulePriority: 2,
          selection: { countType: "imageCountMoreThan", countNumber: 7 },
          action: { type: "expire" },
        },
      ],
    });
    // The ECR token was masked, and it never reached the log or the (non-ECR) registry.
    expect(masked.length).toBeGreaterThanOrEqual(2);
    for (const secret of masked) expect(logs.join("\n")).not.toContain(secret);
  }, 1_800_000);

  test("the image's handler runs one spaceflights node inside the image, on local data", () => {
    const container = buildah("from", "--tls-verify=false", `docker://${first.imageUri}`);
    try {
      const event = JSON.stringify({
        nodes: ["data_processing.preprocess_companies_node"],
        run_id: "image-test",
      });
      const out = buildah(
        "run",
        "--isolation",
        "chroot",
        "--volume",
        `${join(project, "data")}:/var/task/data`,
        "--env",
        "KEDRO_ENV=local",
        container,
        "--",
        "python3",
        "-m",
        "kedro_sfn.handler",
        "--event",
        event,
      );
      const result = JSON.parse(
        out
          .split("\n")
          .filter((line) => line.startsWith("{"))
          .pop() ?? "{}",
      ) as { nodes: { name: string }[] };
      expect(result.nodes.map((n) => n.name)).toEqual(["data_processing.preprocess_companies_node"]);
      expect(existsSync(join(project, "data", "02_intermediate", "preprocessed_companies.parquet"))).toBe(
        true,
      );
    } finally {
      buildah("rm", container);
    }
  }, 600_000);

  test("the same content again is not rebuilt: only the new commit's tag is added", async () => {
    const before = registryBytes();
    const again = await buildAndPushImage(
      options({ commitSha: "2222222222222222222222222222222222222222" }),
      deps(),
    );
    expect(again.skipped).toBe(true);
    expect(again.digest).toBe(first.digest);
    expect(again.contentHash).toBe(first.contentHash);
    expect((await registry.headManifest("2222222222222222222222222222222222222222"))?.digest).toBe(
      first.digest,
    );
    expect(registryBytes() - before).toBeLessThan(10_000);
  }, 600_000);

  test("a one-line code change rebuilds and pushes only the project's layers", async () => {
    const nodes = join(project, "src", "spaceflights", "pipelines", "data_processing", "nodes.py");
    writeFileSync(nodes, `${readFileSync(nodes, "utf8")}\n# a one-line change\n`);
    const before = registryBytes();
    const changed = await buildAndPushImage(
      options({ commitSha: "3333333333333333333333333333333333333333" }),
      deps(),
    );
    const pushed = registryBytes() - before;

    expect(changed.skipped).toBe(false);
    expect(changed.digest).not.toBe(first.digest);
    const oldLayers = (await registry.getManifest(first.digest)).json.layers ?? [];
    const newLayers = (await registry.getManifest(changed.digest)).json.layers ?? [];
    expect(newLayers).toHaveLength(oldLayers.length);
    // Base, requirements, dependencies, handler + conf: the same blobs. Wheel copy and install: new.
    expect(newLayers.slice(0, -2).map((l) => l.digest)).toEqual(oldLayers.slice(0, -2).map((l) => l.digest));
    expect(newLayers.slice(-2).map((l) => l.digest)).not.toEqual(oldLayers.slice(-2).map((l) => l.digest));
    expect(pushed).toBeLessThan(changed.imageBytes / 100);
  }, 1_800_000);

  test("an image index under the content tag is refused: Lambda takes single-platform manifests", async () => {
    const manifest = await registry.getManifest(first.digest);
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociIndex,
        manifests: [
          {
            mediaType: MEDIA_TYPES.ociManifest,
            digest: manifest.digest,
            size: manifest.body.length,
            platform: { architecture: "amd64", os: "linux" },
          },
        ],
      }),
    );
    const digest = await registry.putManifest("an-index", { body: index, mediaType: MEDIA_TYPES.ociIndex });
    await expect(verifyLambdaImage(registry, digest, platformFor("x86_64"), true)).rejects.toThrow(
      /is an image index \(1 entries\), which Lambda rejects/,
    );
    await expect(verifyLambdaImage(registry, first.digest, platformFor("arm64"), false)).rejects.toThrow(
      /is linux\/amd64, not linux\/arm64/,
    );
  });
});

describe("a project's own Dockerfile and an existing repository", () => {
  test("builds with the project's Dockerfile, the project as context and kedro-sfn's build args", async () => {
    writeFileSync(
      join(tiny, "Dockerfile.lambda"),
      [
        "ARG BASE_IMAGE",
        "FROM ${BASE_IMAGE}",
        "ARG KEDRO_SFN_STAGING",
        "ARG KEDRO_SFN_WHEEL",
        "WORKDIR /var/task",
        'CMD ["kedro_sfn.handler.handler"]',
        "ENV PYTHONPATH=/var/task KEDRO_SFN_PACKAGE=tiny",
        "COPY ${KEDRO_SFN_STAGING}/requirements.txt /tmp/requirements.txt",
        "RUN python3 -m pip install --no-cache-dir --target /var/task -r /tmp/requirements.txt",
        "COPY ${KEDRO_SFN_STAGING}/task/ /var/task/",
        "COPY ${KEDRO_SFN_WHEEL} /tmp/",
        "RUN python3 -m pip install --no-cache-dir --no-deps --target /var/task /tmp/*.whl",
        // Not the AWS Lambda base: the runtime interface client starts the handler (the smoke test checks).
        "RUN python3 -m pip install --no-cache-dir --target /var/task awslambdaric==4.2.2",
        'ENTRYPOINT ["python3", "-m", "awslambdaric"]',
        "",
      ].join("\n"),
    );
    const own = await buildAndPushImage(
      options({ projectPath: tiny, ecrRepository: TINY_REPOSITORY, dockerfile: "Dockerfile.lambda" }),
      deps(),
    );
    expect(own.skipped).toBe(false);
    const config = JSON.parse(
      skopeo("inspect", "--config", "--tls-verify=false", `docker://${own.imageUri}`),
    ) as { config: { Cmd: string[]; Env: string[] } };
    expect(config.config.Cmd).toEqual(["kedro_sfn.handler.handler"]);
    expect(config.config.Env).toContain("KEDRO_SFN_PACKAGE=tiny");
    const container = buildah("from", "--tls-verify=false", `docker://${own.imageUri}`);
    try {
      const out = buildah(
        "run",
        "--isolation",
        "chroot",
        container,
        "--",
        "python3",
        "-c",
        "import tiny, kedro_sfn.handler; print(tiny.__version__)",
      );
      expect(out.split("\n").pop()).toBe("0.1");
    } finally {
      buildah("rm", container);
    }
  }, 1_800_000);

  test("an existing repository keeps the user's lifecycle policy; ours is brought up to date", async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: "kedro-sfn-test/users-own" }));
    const users = JSON.stringify({
      rules: [
        {
          rulePriority: 1,
          selection: {
            tagStatus: "untagged",
            countType: "sinceImagePushed",
            countUnit: "days",
            countNumber: 1,
          },
          action: { type: "expire" },
        },
      ],
    });
    await ecr.send(
      new PutLifecyclePolicyCommand({
        repositoryName: "kedro-sfn-test/users-own",
        lifecyclePolicyText: users,
      }),
    );
    const kept = await ensureRepository(ecr, "kedro-sfn-test/users-own", 5);
    expect(kept).toMatchObject({
      created: false,
      uri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/kedro-sfn-test/users-own",
    });
    expect(
      JSON.parse(
        (await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: "kedro-sfn-test/users-own" })))
          .lifecyclePolicyText ?? "",
      ),
    ).toEqual(JSON.parse(users));

    expect((await ensureRepository(ecr, "kedro-sfn-test/ours", 5)).created).toBe(true);
    expect((await ensureRepository(ecr, "kedro-sfn-test/ours", 9)).created).toBe(false);
    const ours =
      (await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: "kedro-sfn-test/ours" })))
        .lifecyclePolicyText ?? "";
    expect(JSON.parse(ours)).toEqual(JSON.parse(lifecyclePolicy(9)));
  });
});

describe("bad input, with the real tools", () => {
  test("a base image that cannot be pulled", async () => {
    const failure = buildAndPushImage(
      options({
        projectPath: tiny,
        ecrRepository: TINY_REPOSITORY,
        baseImage: "127.0.0.1:1/nope/python:3.12",
      }),
      deps(),
    );
    await expect(failure).rejects.toThrow(UserError);
    await expect(failure).rejects.toThrow(
      "The base image '127.0.0.1:1/nope/python:3.12' could not be pulled for linux/amd64.",
    );
  }, 600_000);

  test("a registry that rejects the push", async () => {
    const denying = await serve((req, res) => {
      if (req.url === "/v2/" || req.method === "HEAD") {
        res.writeHead(req.url === "/v2/" ? 200 : 404, {
          "Content-Type": "application/json",
          "Docker-Distribution-Api-Version": "registry/2.0",
        });
        res.end(req.method === "HEAD" ? undefined : "{}");
        return;
      }
      res.writeHead(403, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "DENIED", message: "pushes are not allowed here" }] }));
    });
    try {
      const failure = buildAndPushImage(
        options({ projectPath: tiny, ecrRepository: TINY_REPOSITORY, registry: `127.0.0.1:${denying.port}` }),
        deps(),
      );
      await expect(failure).rejects.toThrow(
        new RegExp(`The registry 127.0.0.1:${denying.port} rejected the push of ${TINY_REPOSITORY}`),
      );
      await expect(failure).rejects.toMatchObject({
        hint: expect.stringContaining("ecr:PutImage") as unknown,
      });
    } finally {
      denying.server.close();
    }
  }, 1_800_000);

  test("ECR refusing the login stops before any build, naming the permission", async () => {
    const stack = JSON.parse(readFileSync(join(stackDir, "local-stack.json"), "utf8")) as {
      endpoint: string;
    };
    const target = new URL(stack.endpoint);
    // In front of moto: every ECR call passes, except GetAuthorizationToken.
    const front = await serve((req, res, body) => {
      if (String(req.headers["x-amz-target"]).endsWith(".GetAuthorizationToken")) {
        res.writeHead(400, {
          "Content-Type": "application/x-amz-json-1.1",
          "x-amzn-ErrorType": "AccessDeniedException",
        });
        res.end(
          JSON.stringify({
            __type: "AccessDeniedException",
            message: "User is not authorized to perform: ecr:GetAuthorizationToken",
          }),
        );
        return;
      }
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.end(body);
    });
    const denied = new ECRClient({
      endpoint: front.url,
      region: "us-east-1",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      maxAttempts: 1,
    });
    rmSync(join(tiny, "dist"), { recursive: true, force: true });
    try {
      const started = Date.now();
      const failure = buildAndPushImage(options({ projectPath: tiny, ecrRepository: TINY_REPOSITORY }), {
        ...deps(),
        ecr: denied,
      });
      await expect(failure).rejects.toThrow(
        /AWS denied access while trying to log in to ECR \(GetAuthorizationToken\)/,
      );
      await expect(failure).rejects.toMatchObject({
        hint: expect.stringContaining("ecr:GetAuthorizationToken") as unknown,
      });
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(existsSync(join(tiny, "dist", "kedro-sfn"))).toBe(false);
    } finally {
      denied.destroy();
      front.server.close();
    }
  });

  test("an architecture Lambda does not run", async () => {
    await expect(buildAndPushImage(options({ architecture: "ppc64le" }), deps())).rejects.toThrow(
      /'architecture' must be x86_64 or arm64/,
    );
  });
});

test("the local image name is per repository (the layer cache survives between runs)", () => {
  expect(localImageName(REPOSITORY)).toBe("localhost/kedro-sfn/kedro-sfn-test/spaceflights:build");
});
