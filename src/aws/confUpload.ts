import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { UserError } from "../errors.js";
import { explainAwsError } from "./failures.js";

/** `s3://bucket/prefix` -> parts; the prefix never ends in a slash. */
export function parseS3Url(url: string, input: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (match === null) {
    throw new UserError(`Input '${input}' must look like s3://bucket/prefix; got '${url}'.`);
  }
  return { bucket: match[1] as string, prefix: (match[2] ?? "").replace(/\/+$/, "") };
}

/**
 * Uploads the project's `conf/` (without `conf/local`, which holds credentials
 * and never leaves the machine, as `kedro package` does) to `url`, where the
 * handler reads it at run time (KEDRO_SFN_CONF_SOURCE). Returns the keys written.
 */
export async function uploadConf(s3: S3Client, projectPath: string, url: string): Promise<string[]> {
  const { bucket, prefix } = parseS3Url(url, "conf-source");
  const root = join(projectPath, "conf");
  const files = listFiles(root).filter((file) => relative(root, file).split(sep)[0] !== "local");
  const keys: string[] = [];
  for (const file of files) {
    const key = [prefix, relative(root, file).split(sep).join("/")].filter(Boolean).join("/");
    try {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(file) }));
    } catch (error) {
      throw explainAwsError(error, {
        doing: `upload the configuration to s3://${bucket}/${key}`,
        input: "conf-source",
        bucket,
      });
    }
    keys.push(key);
  }
  return keys;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => !entry.name.startsWith("."))
    .flatMap((entry) => (entry.isDirectory() ? listFiles(join(dir, entry.name)) : [join(dir, entry.name)]))
    .sort();
}
