import { describe, expect, it } from "@jest/globals";
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { uploadConf, parseS3Url } from "../src/aws/confUpload.js";
import { UserError } from "../src/errors.js";
import { TEST_CREDENTIALS, useLocalStack } from "./harness/localStack.js";
import { EXAMPLE } from "./harness/python.js";

describe("conf-source on S3 (moto server)", () => {
  const stack = useLocalStack();

  it("uploads conf/ without conf/local under the prefix", async () => {
    const clients = await stack().clients();
    // Set-up and read-back go through a client the IAM test does not record: the action never calls them.
    const setup = new S3Client({
      endpoint: stack().endpoint,
      region: stack().region,
      credentials: TEST_CREDENTIALS,
    });
    await setup.send(new CreateBucketCommand({ Bucket: "kedro-conf" }));
    const keys = await uploadConf(clients.s3, EXAMPLE, "s3://kedro-conf/spaceflights/conf/");
    expect(keys).toContain("spaceflights/conf/aws/catalog.yml");
    expect(keys).toContain("spaceflights/conf/base/parameters_data_science.yml");
    expect(keys.some((k) => k.includes("/local/"))).toBe(false);
    const listed = await setup.send(new ListObjectsV2Command({ Bucket: "kedro-conf" }));
    setup.destroy();
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual([...keys].sort());
  });

  it("names the input for a malformed URL", () => {
    expect(() => parseS3Url("s3:/nope", "conf-source")).toThrow(UserError);
    expect(() => parseS3Url("s3:/nope", "conf-source")).toThrow(
      /Input 'conf-source' must look like s3:\/\/bucket\/prefix/,
    );
  });
});
