import { HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { readFileSync } from "node:fs";
import { UserError } from "../errors.js";
import { confFiles } from "../kedro/confTree.js";
import { explainAwsError, isAwsError } from "./failures.js";

/** `s3://bucket/prefix` -> parts; the prefix never ends in a slash. */
export function parseS3Url(url: string, input: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (match === null) {
    throw new UserError(`Input '${input}' must look like s3://bucket/prefix; got '${url}'.`);
  }
  return { bucket: match[1] as string, prefix: (match[2] ?? "").replace(/\/+$/, "") };
}

/** Written last: its presence means every file of the folder is there. */
export const CONF_COMPLETE_MARKER = ".kedro-sfn-conf-complete";

export interface ConfUpload {
  /** Keys of the folder (the conf files, without the marker). */
  keys: string[];
  /** False when the folder was already complete: nothing was written. */
  uploaded: boolean;
}

/**
 * Uploads the project's conf/ (without conf/local) to `location`, the content-addressed folder
 * from confLocation(), where the handler reads it (KEDRO_SFN_CONF_SOURCE). A complete folder is
 * never written again: its name is its content's hash.
 */
export async function uploadConf(s3: S3Client, projectPath: string, location: string): Promise<ConfUpload> {
  const { bucket, prefix } = parseS3Url(location, "conf-source");
  const files = confFiles(projectPath);
  const keyOf = (name: string): string => [prefix, name].filter(Boolean).join("/");
  const keys = files.map((file) => keyOf(file.key));
  const marker = keyOf(CONF_COMPLETE_MARKER);
  const failure = (doing: string) => ({ doing, input: "conf-source", bucket });
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: marker }));
    return { keys, uploaded: false };
  } catch (error) {
    // HeadObject answers a bare 404 (NotFound) for a missing key and for a missing bucket alike,
    // and 403 for a missing key when the role may not list the bucket (the documented policy
    // does not need it): upload then; a role that may not write fails on the first PutObject.
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (!isAwsError(error, "NotFound", "NoSuchKey", "Forbidden") && status !== 403) {
      throw explainAwsError(error, failure(`check s3://${bucket}/${marker}`));
    }
  }
  for (const [index, file] of files.entries()) {
    const key = keys[index] as string;
    try {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(file.path) }));
    } catch (error) {
      throw explainAwsError(error, failure(`upload the configuration to s3://${bucket}/${key}`));
    }
  }
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: marker, Body: `${keys.length} files\n` }));
  } catch (error) {
    throw explainAwsError(error, failure(`mark s3://${bucket}/${prefix} complete`));
  }
  return { keys, uploaded: true };
}
