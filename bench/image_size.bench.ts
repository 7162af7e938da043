/**
 * Image size and build time of a starter-layout project (requirements.txt with
 * notebook, viz and lint tools, as `kedro new --starter spaceflights-pandas`
 * writes it): installed as written (input `requirements: requirements.txt`)
 * against the default rule (development tools left out), with the docker
 * builder, and the smoke test's own seconds. Writes bench/image-size-results.json.
 *
 *   NODE_OPTIONS=--experimental-vm-modules npx jest --roots '<rootDir>/bench' --testMatch '**\/image_size.bench.ts'
 */
import { ECRClient } from "@aws-sdk/client-ecr";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildAndPushImage } from "../src/image/build.js";
import { localImageName } from "../src/image/builder.js";
import { inspectProject } from "../src/kedro/inspect.js";
import { PYTHON } from "../__tests__/harness/python.js";
import { writeStarterProject } from "../__tests__/harness/userProjects.js";

const BASE_IMAGE = "localhost/kedro-sfn-test-base:bookworm";

test("starter layout: image size with and without development tools", async () => {
  const scratch = mkdtempSync(join(tmpdir(), "kedro-sfn-image-size-"));
  const stackDir = join(scratch, "stack");
  execFileSync("python3", [resolve("scripts/make_base_image.py"), "--tag", BASE_IMAGE], { stdio: "inherit" });
  execFileSync("python3", [resolve("scripts/docker_engine.py"), "load-base", "--tag", BASE_IMAGE]);
  const dockerHost = (
    JSON.parse(
      execFileSync("python3", [resolve("scripts/docker_engine.py"), "start"], { encoding: "utf8" }),
    ) as {
      host: string;
    }
  ).host;
  process.env["DOCKER_HOST"] = dockerHost;
  const stack = JSON.parse(
    execFileSync(
      PYTHON,
      [resolve("scripts/local_stack.py"), "start", "--state-dir", stackDir, "--registry"],
      {
        encoding: "utf8",
      },
    )
      .trim()
      .split("\n")
      .pop() ?? "{}",
  ) as { endpoint: string; region: string; registry: string };
  const ecr = new ECRClient({
    endpoint: stack.endpoint,
    region: stack.region,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  });
  const kedro = execFileSync(PYTHON, ["-c", "import kedro; print(kedro.__version__)"], {
    encoding: "utf8",
  }).trim();
  const results: Record<
    string,
    { seconds: number; megabytes: number; compressedMegabytes: number; smoke?: string }
  > = {};
  try {
    for (const [label, requirementsFile] of [
      ["as written (dev tools in)", "requirements.txt"],
      ["default rule (dev tools out)", ""],
    ] as const) {
      const project = writeStarterProject(join(scratch, label.replace(/\W+/g, "-")), kedro);
      const graph = await inspectProject({
        projectPath: project.dir,
        python: PYTHON,
        pipeline: "__default__",
        kedroEnv: "aws",
      });
      const lines: string[] = [];
      const started = Date.now();
      const image = await buildAndPushImage(
        {
          projectPath: project.dir,
          python: PYTHON,
          builder: "docker",
          baseImage: BASE_IMAGE,
          architecture: "x86_64",
          ecrRepository: `size-${Object.keys(results).length}`,
          registry: stack.registry,
          keepImages: 5,
          kedroEnv: "aws",
          pipeline: "__default__",
          graph,
          ...(requirementsFile ? { requirementsFile } : {}),
        },
        { ecr, log: (line) => lines.push(line), debug: () => undefined },
      );
      const seconds = (Date.now() - started) / 1000;
      const bytes = Number(
        spawnSync("docker", ["image", "inspect", "--format", "{{.Size}}", localImageName(image.repository)], {
          encoding: "utf8",
          env: { ...process.env, DOCKER_HOST: dockerHost },
        }).stdout.trim(),
      );
      const smoke = lines.find((l) => l.startsWith("Smoke test"));
      results[label] = {
        seconds,
        megabytes: Math.round(bytes / 1e6),
        compressedMegabytes: Math.round(image.imageBytes / 1e6),
        ...(smoke !== undefined ? { smoke } : {}),
      };
    }
  } finally {
    ecr.destroy();
    spawnSync(PYTHON, [resolve("scripts/local_stack.py"), "stop", "--state-dir", stackDir]);
    rmSync(scratch, { recursive: true, force: true });
  }
  writeFileSync(resolve("bench/image-size-results.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log(JSON.stringify(results, null, 2));
  expect(Object.keys(results)).toHaveLength(2);
}, 3_600_000);
