import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { UserError } from "../src/errors.js";
import { buildFailure, localImageName, pushFailure, type BuildRequest } from "../src/image/builder.js";
import {
  buildahBudArgs,
  buildahBuilder,
  buildahPushArgs,
  buildahStorage,
  probeOverlay,
} from "../src/image/buildah.js";
import { runCommand, type CommandResult, type CommandRunner } from "../src/process/command.js";
import {
  checkUserDockerfile,
  compileCommand,
  contentTime,
  prepareBuildContext,
  renderDockerfile,
} from "../src/image/context.js";
import { dockerBuildArgs, dockerBuilder } from "../src/image/docker.js";
import { contextSources, finalStage, parseDockerfile } from "../src/image/dockerfile.js";
import { contentHash, filesUnder } from "../src/image/hash.js";
import {
  confInImage,
  isLoopbackHost,
  parseRegistry,
  platformFor,
  validateRepositoryName,
} from "../src/image/options.js";
import { packageProject } from "../src/image/package.js";
import { inspectProject } from "../src/kedro/inspect.js";
import type { RequirementsPlan } from "../src/image/requirements.js";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const python = process.env.KEDRO_SFN_TEST_PYTHON ?? join(repoRoot, ".venv", "bin", "python");
const scratch = mkdtempSync(join(tmpdir(), "kedro-sfn-image-unit-"));
const TINY_REQUIREMENTS: RequirementsPlan = {
  requirements: ["kedro>=1.0"],
  constraints: ["kedro==1.7.0"],
  explicit: false,
  dropped: [],
  added: [],
  hashed: false,
};
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A Kedro project small enough to package in seconds: one node, kedro as its only dependency. */
function tinyProject(name: string, body = "return x * 2"): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, "src", "tiny"), { recursive: true });
  mkdirSync(join(dir, "conf", "base"), { recursive: true });
  mkdirSync(join(dir, "conf", "local"), { recursive: true });
  writeFileSync(
    join(dir, "pyproject.toml"),
    [
      "[build-system]",
      'requires = ["setuptools>=61"]',
      'build-backend = "setuptools.build_meta"',
      "[project]",
      'name = "tiny"',
      'version = "0.1"',
      'dependencies = ["kedro>=1.0"]',
      "[project.optional-dependencies]",
      'dev = ["pytest"]',
      "[tool.kedro]",
      'package_name = "tiny"',
      'project_name = "tiny"',
      'kedro_init_version = "1.7.0"',
      'source_dir = "src"',
      "[tool.setuptools.packages.find]",
      'where = ["src"]',
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "src", "tiny", "__init__.py"), '__version__ = "0.1"\n');
  writeFileSync(join(dir, "src", "tiny", "settings.py"), "");
  writeFileSync(join(dir, "src", "tiny", "nodes.py"), `def double(x):\n    ${body}\n`);
  writeFileSync(
    join(dir, "src", "tiny", "pipeline_registry.py"),
    'from kedro.pipeline import Pipeline, node\nfrom tiny.nodes import double\n\ndef register_pipelines():\n    return {"__default__": Pipeline([node(double, "params:x", "y", name="double_node")])}\n',
  );
  writeFileSync(join(dir, "conf", "base", "parameters.yml"), "x: 21\n");
  writeFileSync(join(dir, "conf", "base", "catalog.yml"), "{}\n");
  writeFileSync(join(dir, "conf", "local", "credentials.yml"), "secret: do-not-ship\n");
  return dir;
}

function result(exitCode: number, output: string): CommandResult {
  return { exitCode, stdout: output, stderr: "", output };
}

const request: BuildRequest = {
  contextDir: "/ctx",
  dockerfile: "/ctx/Dockerfile",
  buildArgs: { B: "2", A: "1" },
  platform: platformFor("x86_64"),
  baseImage: "public.ecr.aws/lambda/python:3.12",
  registry: parseRegistry("123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
  repository: "spaceflights",
  target: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/spaceflights:kedro-sfn-abc",
  workDir: "/work",
};

describe("options", () => {
  test("architecture maps to a platform, and only Lambda's two are accepted", () => {
    expect(platformFor("x86_64").platform).toBe("linux/amd64");
    expect(platformFor("arm64")).toEqual({
      architecture: "arm64",
      platform: "linux/arm64",
      ociArchitecture: "arm64",
    });
    expect(() => platformFor("amd64")).toThrow(UserError);
    expect(() => platformFor("amd64")).toThrow(/'architecture' must be x86_64 or arm64/);
    try {
      platformFor("aarch64");
    } catch (error) {
      expect((error as UserError).hint).toContain("arm64");
    }
    expect(() => platformFor("s390x")).toThrow(/got 's390x'/);
  });

  test("repository names follow ECR's rules", () => {
    expect(validateRepositoryName("team/spaceflights")).toBe("team/spaceflights");
    expect(() => validateRepositoryName("")).toThrow(/'ecr-repository' is required/);
    expect(() => validateRepositoryName("Spaceflights")).toThrow(/not a valid ECR repository name/);
    expect(() => validateRepositoryName("1234.dkr.ecr.eu-west-1.amazonaws.com/x")).toThrow(
      /name, not its URI/,
    );
  });

  test("registry: https by default, plain http only on loopback", () => {
    expect(parseRegistry("123456789012.dkr.ecr.eu-west-1.amazonaws.com")).toEqual({
      host: "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
      url: "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com",
      insecure: false,
    });
    expect(parseRegistry("127.0.0.1:5000")).toEqual({
      host: "127.0.0.1:5000",
      url: "http://127.0.0.1:5000",
      insecure: true,
    });
    expect(parseRegistry("https://localhost:5000/").insecure).toBe(false);
    expect(() => parseRegistry("http://registry.example.com")).toThrow(
      /plain HTTP for 'registry.example.com'/,
    );
    expect(() => parseRegistry("127.0.0.1:5000/repo")).toThrow(/'registry' must be a registry host/);
    expect(isLoopbackHost("[::1]:5000")).toBe(true);
    expect(isLoopbackHost("127.10.0.1")).toBe(true);
    expect(isLoopbackHost("128.0.0.1")).toBe(false);
  });

  test("conf-source: image or s3://", () => {
    expect(confInImage(undefined)).toBe(true);
    expect(confInImage("image")).toBe(true);
    expect(confInImage("s3://bucket/conf.tar.gz")).toBe(false);
    expect(() => confInImage("/tmp/conf")).toThrow(/'conf-source' must be 'image' or an s3:\/\/ URL/);
  });
});

describe("Dockerfile", () => {
  test("generated: dependencies before the wheel, handler as CMD, /var/task on the path", () => {
    const text = renderDockerfile({
      baseImage: "public.ecr.aws/lambda/python:3.12",
      packageName: "spaceflights",
      wheelName: "spaceflights-0.1-py3-none-any.whl",
      confSource: "/var/task/conf",
    });
    const instructions = parseDockerfile(text);
    expect(instructions.map((i) => i.keyword)).toEqual([
      "FROM",
      "ENV",
      "WORKDIR",
      "ENTRYPOINT",
      "CMD",
      "COPY",
      "RUN",
      "COPY",
      "RUN",
    ]);
    expect(instructions[0]?.args).toBe("public.ecr.aws/lambda/python:3.12");
    const runs = instructions.filter((i) => i.keyword === "RUN").map((i) => i.args);
    expect(runs[0]).toContain("-r /tmp/kedro-sfn/requirements.txt");
    expect(runs[0]?.startsWith("umask 022 && python3 -m pip install")).toBe(true);
    // pip's mtime-checked .pyc are replaced by hash-based ones (buildah commits mtime 0):
    // every dependency, then only the handler and the project's package.
    expect(runs[0]).toContain("--no-compile");
    expect(runs[0]).toMatch(/UNCHECKED_HASH.*" \/var\/task$/);
    expect(runs[1]).toBe(
      "umask 022 && python3 -m kedro_sfn.install /var/task/.kedro-sfn/spaceflights-0.1-py3-none-any.whl --target /var/task --compile /var/task/kedro_sfn /var/task/spaceflights",
    );
    expect(text).toContain('CMD ["kedro_sfn.handler.handler"]');
    expect(text).toContain("PYTHONPATH=/var/task");
    expect(text).toContain('KEDRO_SFN_CONF_SOURCE="/var/task/conf"');
    expect(text).toContain("KEDRO_SFN_PACKAGE=spaceflights");
  });

  test("the compile step writes .pyc that Python uses whatever the sources' mtimes", () => {
    const root = join(scratch, "compile");
    mkdirSync(join(root, "pkg", "sub"), { recursive: true });
    writeFileSync(join(root, "pkg", "__init__.py"), "X = 1\n");
    writeFileSync(join(root, "pkg", "sub", "mod.py"), "def f():\n    return 2\n");
    writeFileSync(join(root, "pkg", "broken.py"), "def (:\n");
    execFileSync("sh", ["-c", compileCommand([join(root, "pkg"), join(root, "absent")])]);
    // What buildah bud --timestamp 0 does to every file it commits.
    execFileSync("touch", ["-d", "@0", join(root, "pkg", "__init__.py"), join(root, "pkg", "sub", "mod.py")]);
    const pyc = readdirSync(join(root, "pkg", "sub", "__pycache__"));
    expect(pyc).toHaveLength(1);
    // PEP 552 flags word: 0b01 = hash-based, source not checked.
    expect(readFileSync(join(root, "pkg", "sub", "__pycache__", pyc[0] ?? "")).readUInt32LE(4)).toBe(1);
    expect(existsSync(join(root, "pkg", "__pycache__"))).toBe(true);
    // Python runs the .pyc without looking at the source: changed after compiling, the old
    // code still runs (an image's files never change, so this is the point, not a risk).
    writeFileSync(join(root, "pkg", "sub", "mod.py"), "def f():\n    return 3\n");
    execFileSync("touch", ["-d", "@0", join(root, "pkg", "sub", "mod.py")]);
    const out = execFileSync("python3", ["-c", "import pkg.sub.mod as m; print(m.f())"], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
    });
    expect(out.trim()).toBe("2");
  });

  test("parser: continuations, comments, final stage, COPY sources", () => {
    const text = [
      "# syntax=docker/dockerfile:1",
      "ARG BASE_IMAGE",
      "FROM python:3.12 AS deps",
      "COPY requirements.txt /r.txt",
      "RUN pip install \\",
      "  # a comment inside",
      "  -r /r.txt",
      "FROM ${BASE_IMAGE}",
      "COPY --from=deps /usr/lib /usr/lib",
      'COPY ["dist/kedro-sfn/task/", "/var/task/"]',
      "ADD --chown=1:1 https://example.com/x.tgz dist/*.whl /tmp/",
      'cmd ["kedro_sfn.handler.handler"]',
    ].join("\n");
    const instructions = parseDockerfile(text);
    expect(instructions.map((i) => i.keyword)).toEqual([
      "ARG",
      "FROM",
      "COPY",
      "RUN",
      "FROM",
      "COPY",
      "COPY",
      "ADD",
      "CMD",
    ]);
    expect(instructions[3]?.args).toBe("pip install -r /r.txt");
    expect(instructions[3]?.line).toBe(5);
    expect(finalStage(instructions).map((i) => i.keyword)).toEqual(["FROM", "COPY", "COPY", "ADD", "CMD"]);
    expect(contextSources(instructions)).toEqual(["requirements.txt", "dist/kedro-sfn/task/", "dist/*.whl"]);
  });

  test("a project's Dockerfile without CMD in its final stage is refused, naming the file", () => {
    const dir = join(scratch, "dockerfiles");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "Dockerfile");
    writeFileSync(file, 'FROM python:3.12 AS build\nCMD ["x"]\nFROM python:3.12\nRUN true\n');
    expect(() => checkUserDockerfile(file)).toThrow(/has no CMD in its final stage/);
    try {
      checkUserDockerfile(file);
    } catch (error) {
      expect((error as UserError).file).toBe(file);
      expect((error as UserError).hint).toContain('CMD ["kedro_sfn.handler.handler"]');
    }
    expect(() => checkUserDockerfile(join(dir, "missing"))).toThrow(/does not exist/);
    writeFileSync(file, 'FROM python:3.12\nCMD ["kedro_sfn.handler.handler"]\n');
    expect(checkUserDockerfile(file)).toHaveLength(2);
  });
});

describe("content hash", () => {
  test("ignores mtimes and location, sees content, names and the executable bit", () => {
    const a = join(scratch, "hash-a");
    const b = join(scratch, "hash-b");
    for (const dir of [a, b]) {
      mkdirSync(join(dir, "pkg"), { recursive: true });
      writeFileSync(join(dir, "pkg", "x.py"), "x = 1\n");
      writeFileSync(join(dir, "Dockerfile"), "FROM base\n");
    }
    utimesSync(join(b, "pkg", "x.py"), 1, 1);
    const header = { baseImage: "base", platform: "linux/amd64" };
    const hashA = contentHash(header, filesUnder(a, ""));
    expect(contentHash(header, filesUnder(b, ""))).toBe(hashA);
    expect(contentHash({ ...header, platform: "linux/arm64" }, filesUnder(a, ""))).not.toBe(hashA);
    writeFileSync(join(b, "pkg", "x.py"), "x = 2\n");
    expect(contentHash(header, filesUnder(b, ""))).not.toBe(hashA);
    writeFileSync(join(b, "pkg", "x.py"), "x = 1\n");
    chmodSync(join(b, "pkg", "x.py"), 0o755);
    expect(contentHash(header, filesUnder(b, ""))).not.toBe(hashA);
  });
});

describe("kedro package and the build context (real Python)", () => {
  test("packages a project: wheel, conf archive, runtime dependencies without extras", async () => {
    const project = tinyProject("pkg-ok");
    const pkg = await packageProject({ projectPath: project, python }, runCommand);
    expect(pkg.packageName).toBe("tiny");
    expect(pkg.wheel).toBe(join(project, "dist", "tiny-0.1-py3-none-any.whl"));
    expect(existsSync(pkg.confArchive)).toBe(true);
    expect(pkg.requirements).toEqual(["kedro>=1.0"]);
  });

  test("the context is world-readable, has conf without local secrets, and hashes the same twice", async () => {
    const project = tinyProject("ctx");
    const options = {
      projectPath: project,
      baseImage: "localhost/base:1",
      confInImage: true,
      platform: "linux/amd64",
      handlerRoot: join(repoRoot, "python"),
      requirements: TINY_REQUIREMENTS,
    };
    const first = await prepareBuildContext(
      options,
      await packageProject({ projectPath: project, python }, runCommand),
      runCommand,
    );
    const staging = first.stagingDir;
    expect(first.contextDir).toBe(staging);
    expect(readFileSync(join(staging, "requirements.txt"), "utf8")).toBe("kedro>=1.0\n");
    expect(readFileSync(join(staging, "constraints.txt"), "utf8")).toBe("kedro==1.7.0\n");
    expect(existsSync(join(staging, "task", "kedro_sfn", "entrypoint.sh"))).toBe(true);
    expect(existsSync(join(staging, "task", "kedro_sfn", "handler.py"))).toBe(true);
    expect(existsSync(join(staging, "task", "kedro_sfn", "tests"))).toBe(false);
    expect(readFileSync(join(staging, "task", "conf", "base", "parameters.yml"), "utf8")).toBe("x: 21\n");
    expect(existsSync(join(staging, "task", "conf", "local", "credentials.yml"))).toBe(false);
    for (const file of first.files) {
      const stat = statSync(file.path);
      expect(stat.mode & 0o444).toBe(0o444);
      // Content decides the mtime: BuildKit resends only files whose size or mtime changed.
      expect(stat.mtimeMs).toBe(contentTime(readFileSync(file.path)) * 1000);
    }
    const dockerfile = join(staging, "Dockerfile");
    expect(statSync(dockerfile).mtimeMs).not.toBe(
      contentTime(Buffer.from(readFileSync(dockerfile, "utf8").replace(/tiny/g, "tinx"))) * 1000,
    );
    const firstHash = contentHash(first.header, first.files);

    // A fresh checkout (new mtimes) packaged again: same hash, so the build would be skipped.
    execFileSync("touch", [
      join(project, "src", "tiny", "nodes.py"),
      join(project, "conf", "base", "parameters.yml"),
    ]);
    const again = await prepareBuildContext(
      options,
      await packageProject({ projectPath: project, python }, runCommand),
      runCommand,
    );
    expect(contentHash(again.header, again.files)).toBe(firstHash);

    writeFileSync(join(project, "src", "tiny", "nodes.py"), "def double(x):\n    return x * 3\n");
    const changed = await prepareBuildContext(
      options,
      await packageProject({ projectPath: project, python }, runCommand),
      runCommand,
    );
    expect(contentHash(changed.header, changed.files)).not.toBe(firstHash);

    const s3 = await prepareBuildContext(
      { ...options, confInImage: false, confSource: "s3://bucket/conf-tiny.tar.gz" },
      await packageProject({ projectPath: project, python }, runCommand),
      runCommand,
    );
    expect(existsSync(join(s3.stagingDir, "task", "conf"))).toBe(false);
    expect(readFileSync(s3.dockerfile, "utf8")).toContain(
      'KEDRO_SFN_CONF_SOURCE="s3://bucket/conf-tiny.tar.gz"',
    );
  }, 120_000);

  test("the node index goes into task/.kedro-sfn, is hashed, and a failure to make it only warns", async () => {
    const project = tinyProject("node-index");
    const options = {
      projectPath: project,
      baseImage: "localhost/base:1",
      confInImage: true,
      platform: "linux/amd64",
      handlerRoot: join(repoRoot, "python"),
      requirements: TINY_REQUIREMENTS,
    };
    const pkg = await packageProject({ projectPath: project, python }, runCommand);
    const lines: string[] = [];
    const context = await prepareBuildContext(
      { ...options, python, log: (line) => lines.push(line) },
      pkg,
      runCommand,
    );
    const file = join(context.stagingDir, "task", ".kedro-sfn", "node-index.json");
    const index = JSON.parse(readFileSync(file, "utf8")) as {
      package: string;
      nodes: Record<string, { func: { module: string; qualname: string } }>;
    };
    expect(index.package).toBe("tiny");
    expect(index.nodes["double_node"]?.func).toEqual({ module: "tiny.nodes", qualname: "double" });
    expect(context.files.map((f) => f.name)).toContain("task/.kedro-sfn/node-index.json");
    expect(lines).toContain("Node index: 1 of 1 nodes start by importing only their own module");
    const hash = contentHash(context.header, context.files);
    // Made again from the same sources: the same bytes, so the same content hash.
    const again = await prepareBuildContext({ ...options, python }, pkg, runCommand);
    expect(contentHash(again.header, again.files)).toBe(hash);

    const bare = join(scratch, "bare-venv-index");
    execFileSync("python3", ["-m", "venv", "--without-pip", bare]);
    const warned: string[] = [];
    const without = await prepareBuildContext(
      { ...options, python: join(bare, "bin", "python"), log: (line) => warned.push(line) },
      pkg,
      runCommand,
    );
    expect(existsSync(join(without.stagingDir, "task", ".kedro-sfn", "node-index.json"))).toBe(false);
    expect(warned.join("\n")).toMatch(/Warning: the node index could not be made .*full pipeline registry/);
  }, 120_000);

  test("the inspector's node index goes into the image as is: no second registry import", async () => {
    const project = tinyProject("inspected-index");
    const graph = await inspectProject({
      projectPath: project,
      pipeline: "__default__",
      kedroEnv: "base",
      python,
      nodeIndex: true,
    });
    const file = graph.node_index_file ?? "";
    expect(file).toMatch(/node-index\.json$/);
    const pkg = await packageProject({ projectPath: project, python }, runCommand);
    const lines: string[] = [];
    // An interpreter that cannot start: the index must come from the file, not from Python.
    const context = await prepareBuildContext(
      {
        projectPath: project,
        baseImage: "localhost/base:1",
        confInImage: true,
        platform: "linux/amd64",
        handlerRoot: join(repoRoot, "python"),
        requirements: TINY_REQUIREMENTS,
        python: join(scratch, "no-such-python"),
        nodeIndexFile: file,
        log: (line) => lines.push(line),
      },
      pkg,
      runCommand,
    );
    const copied = join(context.stagingDir, "task", ".kedro-sfn", "node-index.json");
    expect(readFileSync(copied, "utf8")).toBe(readFileSync(file, "utf8"));
    expect(lines).toEqual(["Node index: 1 of 1 nodes start by importing only their own module"]);
    // The same bytes the registry's own command writes: the content hash does not move.
    const own = join(scratch, "inspected-index-own.json");
    execFileSync(python, ["-m", "kedro_sfn.node_index", "--project", project, "--out", own], {
      cwd: project,
      env: { ...process.env, PYTHONPATH: join(repoRoot, "python"), KEDRO_DISABLE_TELEMETRY: "1" },
    });
    expect(readFileSync(own, "utf8")).toBe(readFileSync(file, "utf8"));
  }, 120_000);

  test("a project's own Dockerfile: project as context, build args, COPY sources hashed", async () => {
    const project = tinyProject("own-dockerfile");
    writeFileSync(
      join(project, "Dockerfile"),
      'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY extra/ /var/task/extra/\nCOPY ${KEDRO_SFN_STAGING}/task/ /var/task/\nCMD ["kedro_sfn.handler.handler"]\n',
    );
    mkdirSync(join(project, "extra"));
    writeFileSync(join(project, "extra", "a.txt"), "a\n");
    const options = {
      projectPath: project,
      baseImage: "localhost/base:1",
      confInImage: true,
      platform: "linux/amd64",
      handlerRoot: join(repoRoot, "python"),
      requirements: TINY_REQUIREMENTS,
      dockerfile: "Dockerfile",
    };
    const pkg = await packageProject({ projectPath: project, python }, runCommand);
    const context = await prepareBuildContext(options, pkg, runCommand);
    expect(context.generated).toBe(false);
    expect(context.contextDir).toBe(project);
    expect(context.buildArgs).toMatchObject({
      BASE_IMAGE: "localhost/base:1",
      KEDRO_SFN_PACKAGE: "tiny",
      KEDRO_SFN_STAGING: "dist/kedro-sfn",
      KEDRO_SFN_WHEEL: "dist/tiny-0.1-py3-none-any.whl",
    });
    const names = context.files.map((f) => f.name);
    expect(names).toContain("project/extra/a.txt");
    expect(names).toContain("project/dist/kedro-sfn/task/conf/base/parameters.yml");
    const before = contentHash(context.header, context.files);
    writeFileSync(join(project, "extra", "a.txt"), "b\n");
    const after = await prepareBuildContext(options, pkg, runCommand);
    expect(contentHash(after.header, after.files)).not.toBe(before);
  }, 60_000);

  test("an interpreter without kedro and build is named, with what to install", async () => {
    const bare = join(scratch, "bare-venv");
    execFileSync("python3", ["-m", "venv", "--without-pip", bare]);
    const project = tinyProject("no-kedro");
    await expect(
      packageProject({ projectPath: project, python: join(bare, "bin", "python") }, runCommand),
    ).rejects.toThrow(/has no 'kedro' and 'build' package: 'kedro package' needs both/);
    await expect(
      packageProject({ projectPath: project, python: join(scratch, "no-such-python") }, runCommand),
    ).rejects.toThrow(/Python interpreter '.*no-such-python' was not found/);
    await expect(
      packageProject({ projectPath: join(scratch, "nowhere"), python }, runCommand),
    ).rejects.toThrow(/No pyproject.toml/);
  });

  test("only 'build' missing: the message names it", async () => {
    const probeOnly: CommandRunner = () =>
      Promise.resolve(result(0, '{"python": "3.12.1", "missing": ["build"], "package_name": "tiny"}\n'));
    await expect(
      packageProject({ projectPath: tinyProject("no-build"), python: "python3" }, probeOnly),
    ).rejects.toThrow(/has no 'build' package/);
  });

  test("a failing 'kedro package' shows its output", async () => {
    const project = tinyProject("broken");
    writeFileSync(
      join(project, "pyproject.toml"),
      readFileSync(join(project, "pyproject.toml"), "utf8").replace(
        'version = "0.1"',
        'version = "not a version!"',
      ),
    );
    const failure = packageProject({ projectPath: project, python }, runCommand);
    await expect(failure).rejects.toThrow(UserError);
    await expect(failure).rejects.toThrow(
      /Packaging the project \(its wheel, as 'kedro package' builds it\) failed in .*broken' \(exit \d+\):\n[\s\S]*`project.version` must be pep440/,
    );
  }, 60_000);
});

describe("builders' command lines", () => {
  test("buildah: the storage driver given, chroot, layer cache, reproducible timestamps, platform; secrets only in an auth file", () => {
    expect(buildahBudArgs(request, "overlay").slice(0, 4)).toEqual([
      "buildah",
      "--storage-driver",
      "overlay",
      "bud",
    ]);
    const bud = buildahBudArgs(request, "vfs");
    expect(bud.slice(0, 4)).toEqual(["buildah", "--storage-driver", "vfs", "bud"]);
    expect(bud).toEqual(
      expect.arrayContaining([
        "--isolation",
        "chroot",
        "--layers",
        "--timestamp",
        "0",
        "--platform",
        "linux/amd64",
      ]),
    );
    expect(bud.join(" ")).toContain("--build-arg A=1 --build-arg B=2");
    expect(bud).not.toContain("--tls-verify=false");
    expect(buildahBudArgs({ ...request, baseImage: "127.0.0.1:5000/base:1" }, "vfs")).toContain(
      "--tls-verify=false",
    );
    const push = buildahPushArgs(request, "/work/digest", "/work/auth.json", "overlay");
    expect(push.slice(0, 4)).toEqual(["buildah", "--storage-driver", "overlay", "push"]);
    expect(push).toEqual(
      expect.arrayContaining(["--authfile", "/work/auth.json", "--digestfile", "/work/digest"]),
    );
    expect(push.at(-1)).toBe(`docker://${request.target}`);
    expect(push).not.toContain("--tls-verify=false");
    expect(
      buildahPushArgs({ ...request, registry: parseRegistry("127.0.0.1:5000") }, "/d", undefined, "vfs"),
    ).toContain("--tls-verify=false");
  });

  test("docker: buildx, one platform, no attestations, loaded for the smoke test, registry cache only with a container driver", () => {
    const plan = dockerBuildArgs(request, { exportCache: true });
    expect(plan.argv.slice(0, 3)).toEqual(["docker", "buildx", "build"]);
    expect(plan.argv).toEqual(
      expect.arrayContaining(["--platform", "linux/amd64", "--provenance=false", "--sbom=false"]),
    );
    expect(plan.argv.join(" ")).toContain(`--load --tag ${localImageName(request.repository)}`);
    expect(plan.argv.join(" ")).toContain(
      "--cache-to type=registry,ref=123456789012.dkr.ecr.eu-west-1.amazonaws.com/spaceflights:kedro-sfn-buildcache,mode=max,image-manifest=true",
    );
    expect(dockerBuildArgs(request, { exportCache: false }).argv).not.toContain("--cache-to");
  });

  test("docker without buildx or without a daemon: an error that says which, and the way out", async () => {
    const noBuildx: CommandRunner = () =>
      Promise.resolve(result(1, "docker: unknown command: docker buildx\n"));
    await expect(dockerBuilder.build(request, { run: noBuildx, log: () => undefined })).rejects.toThrow(
      /needs the buildx plugin/,
    );
    const noDaemon: CommandRunner = () =>
      Promise.resolve(
        result(
          1,
          "ERROR: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n",
        ),
      );
    await expect(dockerBuilder.build(request, { run: noDaemon, log: () => undefined })).rejects.toThrow(
      /needs a running Docker daemon/,
    );
  });

  test("docker: the password goes to 'docker login' on stdin, never into argv", async () => {
    const calls: { argv: string[]; input?: string }[] = [];
    const fake: CommandRunner = (command) => {
      calls.push({ argv: command.argv, ...(command.input !== undefined ? { input: command.input } : {}) });
      if (command.argv[2] === "inspect") return Promise.resolve(result(0, "Name: default\nDriver: docker\n"));
      if (command.argv[1] === "login") return Promise.resolve(result(0, "Login Succeeded\n"));
      return Promise.resolve(
        result(
          1,
          'ERROR: failed to solve: process "/bin/sh -c false" did not complete successfully: exit code: 1\n',
        ),
      );
    };
    const withAuth = { ...request, credentials: { username: "AWS", password: "s3cret-token" } };
    await expect(dockerBuilder.build(withAuth, { run: fake, log: () => undefined })).rejects.toThrow(
      /The image build failed \(builder docker/,
    );
    expect(calls.map((c) => c.argv.slice(0, 3).join(" "))).toEqual([
      "docker buildx inspect",
      "docker login --username",
      "docker buildx build",
    ]);
    expect(calls[1]?.input).toBe("s3cret-token");
    expect(calls.flatMap((c) => c.argv).join(" ")).not.toContain("s3cret-token");
    expect(calls[2]?.argv).not.toContain("--cache-to");
  });

  test("buildah: ECR credentials go in a private auth file for the push, never into argv", async () => {
    const workDir = mkdtempSync(join(scratch, "buildah-auth-"));
    const seen: { argv: string[]; auth?: unknown; mode?: number }[] = [];
    const fake: CommandRunner = (command) => {
      const call: (typeof seen)[number] = { argv: command.argv };
      const authAt = command.argv.indexOf("--authfile");
      const authFile = command.argv[authAt + 1];
      if (authAt >= 0 && authFile !== undefined) {
        call.auth = JSON.parse(readFileSync(authFile, "utf8"));
        call.mode = statSync(authFile).mode & 0o777;
        const digestAt = command.argv.indexOf("--digestfile");
        writeFileSync(command.argv[digestAt + 1] ?? "", `sha256:${"a".repeat(64)}`);
      }
      seen.push(call);
      return Promise.resolve(result(0, ""));
    };
    const withAuth = { ...request, workDir, credentials: { username: "AWS", password: "s3cret-token" } };
    const io = { run: fake, log: () => undefined };
    await buildahBuilder.build(withAuth, io);
    await expect(buildahBuilder.push(withAuth, io)).resolves.toEqual({ digest: `sha256:${"a".repeat(64)}` });
    // The storage probe (from, mount, rm) ran first, once (unless STORAGE_DRIVER is set); then bud and push.
    const steps = seen.filter((c) => c.argv.includes("bud") || c.argv.includes("push"));
    const pinned = process.env["STORAGE_DRIVER"];
    expect(seen.filter((c) => c.argv.includes("mount"))).toHaveLength(pinned ? 0 : 1);
    expect(steps).toHaveLength(2);
    expect(steps.map((c) => c.argv[2])).toEqual(Array(2).fill(pinned || "overlay"));
    expect(steps[0]?.auth).toBeUndefined();
    expect(steps[1]?.auth).toEqual({
      auths: { [request.registry.host]: { auth: Buffer.from("AWS:s3cret-token").toString("base64") } },
    });
    expect(steps[1]?.mode).toBe(0o600);
    expect(seen.flatMap((c) => c.argv).join(" ")).not.toContain("s3cret-token");
  });

  test("buildah storage: overlay when a container mounts with it, else vfs with a note; STORAGE_DRIVER wins", async () => {
    const runner = (mountExit: number): { run: CommandRunner; argv: string[][] } => {
      const argv: string[][] = [];
      const run: CommandRunner = (command) => {
        argv.push(command.argv);
        if (command.argv.includes("from")) return Promise.resolve(result(0, "working-container\n"));
        if (command.argv.includes("mount"))
          return Promise.resolve(
            result(mountExit, mountExit ? "Error: mounting: overlay is not supported over extfs" : "/m"),
          );
        return Promise.resolve(result(0, ""));
      };
      return { run, argv };
    };
    const saved = process.env["STORAGE_DRIVER"];
    delete process.env["STORAGE_DRIVER"];
    try {
      const works = runner(0);
      await expect(probeOverlay(works.run)).resolves.toMatchObject({ driver: "overlay" });
      expect(works.argv.at(-1)).toEqual([
        "buildah",
        "--storage-driver",
        "overlay",
        "rm",
        "working-container",
      ]);
      const broken = runner(1);
      const fallback = await buildahStorage(broken.run);
      expect(fallback.driver).toBe("vfs");
      expect(fallback.note).toMatch(
        /vfs, because overlay does not work here \(Error: mounting: overlay is not supported/,
      );
      expect(broken.argv.at(-1)?.slice(-2)).toEqual(["rm", "working-container"]);
      await buildahStorage(broken.run);
      expect(broken.argv.filter((a) => a.includes("mount"))).toHaveLength(1); // probed once
      process.env["STORAGE_DRIVER"] = "vfs";
      const pinned = runner(0);
      await expect(buildahStorage(pinned.run)).resolves.toEqual({
        driver: "vfs",
        note: "buildah storage: vfs (STORAGE_DRIVER)",
      });
      expect(pinned.argv).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env["STORAGE_DRIVER"];
      else process.env["STORAGE_DRIVER"] = saved;
    }
  });

  test("failures are explained: emulation, base image, registry", () => {
    const pip = buildFailure(
      "docker",
      request,
      result(
        1,
        "ERROR: No matching distribution found for pandaz==9.9\nERROR: failed to solve: exit code: 1",
      ),
    );
    expect(pip.message).toBe(
      "pip could not install the image's requirements (no version of pandaz==9.9 fits); nothing was pushed.",
    );
    expect(
      buildFailure("buildah", request, result(1, "error running container: exec format error")).message,
    ).toMatch(/exec format error/);
    const pull = buildFailure(
      "buildah",
      request,
      result(
        125,
        "Error: creating build container: initializing source docker://public.ecr.aws/lambda/python:3.12: pinging container registry public.ecr.aws: dial tcp: lookup public.ecr.aws: no such host",
      ),
    );
    expect(pull.message).toBe(
      "The base image 'public.ecr.aws/lambda/python:3.12' could not be pulled for linux/amd64.",
    );
    expect(pull.hint).toContain("'base-image'");
    const denied = pushFailure(
      request,
      result(
        125,
        "Error: writing blob: initiating layer upload to /v2/spaceflights/blobs/uploads/: denied: not allowed",
      ),
    );
    expect(denied.message).toContain("rejected the push of spaceflights");
    expect(denied.hint).toContain("ecr:PutImage");
  });
});
