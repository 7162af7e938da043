import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserError } from "../src/errors.js";
import type { RuntimeProfile } from "../src/graph/types.js";
import { refuseUnpackagedEnv } from "../src/image/package.js";
import {
  describeRequirements,
  findRequirementsFile,
  planRequirements,
  requirementName,
} from "../src/image/requirements.js";

const scratch = mkdtempSync(join(tmpdir(), "kedro-sfn-requirements-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let count = 0;
function project(files: Record<string, string>): string {
  const dir = join(scratch, `p${count++}`);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

const runtime: RuntimeProfile = {
  python: "3.11.7",
  kedro: "1.7.0",
  imports: [],
  data_requirements: [
    { requirement: "kedro-datasets[pandas-csvdataset]", why: "dataset type pandas.CSVDataset (companies)" },
    { requirement: "s3fs", why: "datasets on s3:// (companies)" },
  ],
};

/** The official spaceflights-pandas starter keeps everything, notebooks and linters too, in requirements.txt. */
const STARTER = `ipython>=8.10
jupyterlab>=3.0
kedro~=1.7.0
kedro-datasets[pandas-csvdataset, pandas-exceldataset, pandas-parquetdataset]>=3.0
kedro-telemetry>=0.3.1
kedro-viz>=6.7.0
notebook
pytest~=7.2
pytest-cov~=3.0
ruff~=0.1.8
scikit-learn~=1.5.1
`;

describe("the image's requirements", () => {
  test("data-location adds what the run store imports (s3fs once, cloudpickle), with the reason", () => {
    const dir = project({ "requirements.txt": "kedro~=1.7.0\n" });
    const plan = planRequirements({
      projectPath: dir,
      wheelRequires: [],
      runtime,
      dataLocation: "s3://runs/team",
    });
    expect(plan.requirements.filter((r) => r === "s3fs")).toHaveLength(1);
    expect(plan.requirements).toContain("cloudpickle");
    expect(plan.added.find((a) => a.requirement === "cloudpickle")?.why).toBe(
      "input 'data-location' (s3://runs/team) stores in-memory datasets that cross Lambdas",
    );
    const without = planRequirements({ projectPath: dir, wheelRequires: [], runtime });
    expect(without.requirements).not.toContain("cloudpickle");
  });

  test("a starter's requirements.txt: found by default, dev tools dropped, Kedro pinned, data deps added", () => {
    const dir = project({ "requirements.txt": STARTER });
    const plan = planRequirements({ projectPath: dir, wheelRequires: ["pytest-mock>=1.7"], runtime });
    expect(plan.source).toBe("requirements.txt");
    expect(plan.explicit).toBe(false);
    expect(plan.requirements).toEqual([
      "kedro~=1.7.0",
      "kedro-datasets[pandas-csvdataset, pandas-exceldataset, pandas-parquetdataset]>=3.0",
      "scikit-learn~=1.5.1",
      "kedro-datasets[pandas-csvdataset]",
      "s3fs",
    ]);
    expect(plan.dropped).toEqual([
      "ipython>=8.10",
      "jupyterlab>=3.0",
      "kedro-telemetry>=0.3.1",
      "kedro-viz>=6.7.0",
      "notebook",
      "pytest~=7.2",
      "pytest-cov~=3.0",
      "ruff~=0.1.8",
      "pytest-mock>=1.7",
    ]);
    expect(plan.constraints).toEqual(["kedro==1.7.0"]);
    expect(plan.added.map((a) => a.requirement)).toEqual(["kedro-datasets[pandas-csvdataset]", "s3fs"]);
    const log = describeRequirements(plan).join("\n");
    expect(log).toContain("Image dependencies: requirements.txt and the wheel's own dependencies.");
    expect(log).toContain("Kedro pinned to 1.7.0");
    expect(log).toContain("Not installed (development tools): ipython>=8.10");
    expect(log).toContain("Added s3fs: datasets on s3:// (companies).");
  });

  test("an explicit file is installed as written; -r and -c are followed; a declared s3fs is not added twice", () => {
    const dir = project({
      "requirements/lock.txt":
        "-r common.txt\n-c pins.txt\nipython==8.0  # a user who wants it\ns3fs==2024.6.0\n",
      "requirements/common.txt": "--prefer-binary\npandas==2.2.3 \\\n  ; python_version >= '3.10'\n-e .\n",
      "requirements/pins.txt": "numpy<3\n",
    });
    const plan = planRequirements({
      projectPath: dir,
      requirementsFile: "requirements/lock.txt",
      wheelRequires: [],
      runtime,
    });
    expect(plan.explicit).toBe(true);
    expect(plan.source).toBe("requirements/lock.txt");
    expect(plan.requirements).toEqual([
      "--prefer-binary",
      "pandas==2.2.3 ; python_version >= '3.10'",
      "ipython==8.0",
      "s3fs==2024.6.0",
      "kedro-datasets[pandas-csvdataset]",
    ]);
    expect(plan.constraints).toEqual(["kedro==1.7.0", "numpy<3"]);
    expect(plan.dropped).toEqual([]);
  });

  test("src/requirements.txt (older starters) is the second place looked", () => {
    const dir = project({ "src/requirements.txt": "kedro>=0.19\n" });
    expect(findRequirementsFile(dir, undefined)).toEqual({
      path: join(dir, "src", "requirements.txt"),
      explicit: false,
    });
    const none = project({ "README.md": "no requirements\n" });
    expect(findRequirementsFile(none, "")).toBeUndefined();
    const plan = planRequirements({ projectPath: none, wheelRequires: ["kedro>=1"], kedroVersion: "1.7.0" });
    expect(plan.requirements).toEqual(["kedro>=1"]);
    expect(describeRequirements(plan)[0]).toContain("the wheel's own");
  });

  test("bad input: a missing file, a local path, a Kedro pin that cannot be the inspected one", () => {
    const dir = project({
      "requirements.txt": "./libs/helpers\n",
      "pinned.txt": "pandas\nkedro==0.19.15\n",
      "broken.txt": "-r missing.txt\n",
    });
    const thrown = (fn: () => unknown): UserError => {
      try {
        fn();
      } catch (error) {
        if (error instanceof UserError) return error;
        throw error;
      }
      throw new Error("expected a UserError");
    };
    const missing = thrown(() =>
      planRequirements({ projectPath: dir, requirementsFile: "reqs/prod.txt", wheelRequires: [] }),
    );
    expect(missing.message).toBe(
      `Input 'requirements' names 'reqs/prod.txt', which does not exist in '${dir}'.`,
    );
    expect(missing.hint).toContain("requirements.txt, src/requirements.txt");

    const local = thrown(() => planRequirements({ projectPath: dir, wheelRequires: [] }));
    expect(local.message).toContain("requirements.txt line 1 installs the local path './libs/helpers'");

    const pin = thrown(() =>
      planRequirements({ projectPath: dir, requirementsFile: "pinned.txt", wheelRequires: [], runtime }),
    );
    expect(pin.message).toContain(
      "pinned.txt line 2 pins kedro==0.19.15, but the project was inspected with Kedro 1.7.0",
    );
    expect(pin.hint).toContain("Pin kedro==1.7.0");

    const include = thrown(() =>
      planRequirements({ projectPath: dir, requirementsFile: "broken.txt", wheelRequires: [] }),
    );
    expect(include.message).toContain("broken.txt line 1 includes 'missing.txt', which does not exist.");
  });

  test("a hashed lock file is installed as written and nothing unhashed is added to it", () => {
    const dir = project({ "requirements.txt": "pandas==2.2.3 --hash=sha256:abc\n" });
    const plan = planRequirements({ projectPath: dir, wheelRequires: ["kedro>=1"], runtime });
    expect(plan.hashed).toBe(true);
    expect(plan.requirements).toEqual(["pandas==2.2.3 --hash=sha256:abc"]);
    expect(describeRequirements(plan).join("\n")).toContain("uses --hash: installed as written");
  });

  test("requirement names are canonical", () => {
    expect(requirementName("Scikit_Learn>=1.5")).toBe("scikit-learn");
    expect(requirementName("kedro-datasets[pandas]")).toBe("kedro-datasets");
    expect(requirementName("s3fs")).toBe("s3fs");
    expect(requirementName("git+https://example/x.git")).toBeUndefined();
  });
});

test("kedro-env 'local' is refused: kedro package leaves conf/local out of the image", () => {
  expect(() => refuseUnpackagedEnv("local")).toThrow(
    "Input 'kedro-env' is 'local', but 'kedro package' leaves conf/local out of the package",
  );
  expect(() => refuseUnpackagedEnv("aws")).not.toThrow();
});
