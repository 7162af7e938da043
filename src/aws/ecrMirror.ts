import { ImageAlreadyExistsException, PutImageCommand, type ECRClient } from "@aws-sdk/client-ecr";

/** A manifest as another registry stores it: the bytes, so the digest stays the same. */
export interface ManifestBytes {
  body: Buffer;
  mediaType: string;
}

/**
 * With input `registry` the image's bytes go to another registry (a local one
 * for rehearsals against an emulator). Lambda only runs images its ECR
 * repository knows, so the pushed manifest is registered there too, under the
 * same digest: the functions' CodeSha256 then equals the image digest, as on AWS.
 */
export async function registerManifestInEcr(
  ecr: ECRClient,
  manifest: ManifestBytes,
  where: { repository: string; digest: string; tag: string },
): Promise<void> {
  try {
    await ecr.send(
      new PutImageCommand({
        repositoryName: where.repository,
        imageManifest: manifest.body.toString("utf8"),
        imageManifestMediaType: manifest.mediaType,
        imageDigest: where.digest,
        imageTag: where.tag,
      }),
    );
  } catch (error) {
    if (!(error instanceof ImageAlreadyExistsException)) throw error;
  }
}
