/**
 * conf-source on S3 (moto server): conf goes to a folder named by the sha256 of the conf tree,
 * the functions' KEDRO_SFN_CONF_SOURCE names that folder (so it is part of the plan and its
 * hash), an unchanged conf uploads nothing and updates no function, and a changed conf goes to
 * a new folder while the old one stays for the executions still reading it.
 */
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "@jest/globals";
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { CONF_COMPLETE_MARKER, parseS3Url, uploadConf } from "../src/aws/confUpload.js";
import { compilePipeline } from "../src/compile/index.js";
import { Input } from "../src/constants.js";
import { UserError } from "../src/errors.js";
import { confLocation } from "../src/kedro/confTree.js";
import { parseOptions } from "../src/options.js";
import { compileOptionsFrom } from "../src/stages/compileSettings.js";
import { deploy } from "./harness/deploy.js";
import { TEST_CREDENTIALS, useLocalStack } from "./harness/localStack.js";
import { desiredDeployment, spaceflightsGraph } from "./harness/pipelines.js";
import { copyExample, EXAMPLE } from "./harness/python.js";

const HASHED = /^s3:\/\/kedro-conf\/spaceflights\/conf\/[0-9a-f]{64}$/;

describe("conf-source on S3 (moto server)", () => {
  const stack = useLocalStack();

  // Set-up and read-back go through a client the IAM test does not record: the action never calls them.
  async function withSetup<T>(work: (s3: S3Client) => Promise<T>): Promise<T> {
    const setup = new S3Client({
      endpoint: stack().endpoint,
      region: stack().region,
      credentials: TEST_CREDENTIALS,
      forcePathStyle: true,
    });
    try {
      return await work(setup);
    } finally {
      setup.destroy();
    }
  }
  const listKeys = (prefix = ""): Promise<string[]> =>
    withSetup(async (s3) =>
      ((await s3.send(new ListObjectsV2Command({ Bucket: "kedro-conf", Prefix: prefix }))).Contents ?? [])
        .map((o) => o.Key ?? "")
        .sort(),
    );

  it("uploads conf/ without conf/local into a content-addressed folder, once", async () => {
    await withSetup((s3) => s3.send(new CreateBucketCommand({ Bucket: "kedro-conf" })));
    const clients = await stack().clients();
    const location = confLocation("s3://kedro-conf/spaceflights/conf/", EXAMPLE);
    expect(location).toMatch(HASHED);
    const folder = parseS3Url(location, Input.ConfSource).prefix;

    const first = await uploadConf(clients.s3, EXAMPLE, location);
    expect(first.uploaded).toBe(true);
    expect(first.keys).toContain(`${folder}/aws/catalog.yml`);
    expect(first.keys).toContain(`${folder}/base/parameters_data_science.yml`);
    expect(first.keys.some((k) => k.includes("/local/"))).toBe(false);
    expect(await listKeys()).toEqual([...first.keys, `${folder}/${CONF_COMPLETE_MARKER}`].sort());

    stack().actions.clear();
    const again = await uploadConf(clients.s3, EXAMPLE, location);
    expect(again).toEqual({ keys: first.keys, uploaded: false });
    expect(stack().actions.writes()).toEqual([]);
  }, 60_000);

  it("puts the folder in the functions' environment: same conf, no update; new conf, a new folder", async () => {
    await withSetup((s3) => s3.send(new CreateBucketCommand({ Bucket: "kedro-conf" })));
    const clients = await stack().clients();
    const project = copyExample();
    const imageUri = await stack().putImage("spaceflights", "v1");
    const desiredFor = () => {
      const options = parseOptions(
        (name) =>
          ({
            [Input.ProjectPath]: project,
            [Input.StateMachineName]: "spaceflights",
            [Input.ConfSource]: "s3://kedro-conf/spaceflights/conf",
          })[name as string] ?? "",
      );
      const compiled = compilePipeline(spaceflightsGraph(), compileOptionsFrom(options, project));
      return {
        location: confLocation(options.confSource, project),
        desired: desiredDeployment({
          stateMachineName: "spaceflights",
          compiled,
          imageUri,
          lambdaRoleArn: stack().roles.lambda,
          stateMachineRoleArn: stack().roles.stateMachine,
        }),
      };
    };

    const v1 = desiredFor();
    expect(v1.location).toMatch(HASHED);
    for (const fn of v1.desired.compiled.functions)
      expect(fn.environment["KEDRO_SFN_CONF_SOURCE"]).toBe(v1.location);
    expect((await uploadConf(clients.s3, project, v1.location)).uploaded).toBe(true);
    await deploy(clients, v1.desired);

    const same = desiredFor();
    expect(same.location).toBe(v1.location);
    expect((await uploadConf(clients.s3, project, same.location)).uploaded).toBe(false);
    const unchanged = await deploy(clients, same.desired);
    expect(unchanged.plan.summary).toMatchObject({ hasChanges: false, toUpdate: 0 });

    appendFileSync(join(project, "conf", "base", "parameters_data_science.yml"), "\nextra_setting: 1\n");
    const v2 = desiredFor();
    expect(v2.location).toMatch(HASHED);
    expect(v2.location).not.toBe(v1.location);
    expect((await uploadConf(clients.s3, project, v2.location)).uploaded).toBe(true);
    const changed = await deploy(clients, v2.desired);
    // Every function (its environment changed) and the state machine (it binds their new versions).
    expect(changed.plan.summary.toUpdate).toBe(v2.desired.compiled.functions.length + 1);
    expect(changed.plan.desiredHash).not.toBe(unchanged.plan.desiredHash);
    // The executions started before keep reading the folder their function versions name.
    const old = parseS3Url(v1.location, Input.ConfSource).prefix;
    expect(await listKeys(`${old}/`)).toContain(`${old}/${CONF_COMPLETE_MARKER}`);
  }, 120_000);

  it("names the input for a malformed URL", () => {
    expect(() => parseS3Url("s3:/nope", "conf-source")).toThrow(UserError);
    expect(() => parseS3Url("s3:/nope", "conf-source")).toThrow(
      /Input 'conf-source' must look like s3:\/\/bucket\/prefix/,
    );
  });
});
