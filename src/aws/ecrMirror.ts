import { ImageAlreadyExistsException, PutImageCommand, type ECRClient } from "@aws-sdk/client-ecr";
import { RegistryClient } from "./registry.js";
import { parseRegistry } from "../image/options.js";

/**
 * With input `registry` the image's bytes go to another registry (a local one
 * for rehearsals against an emulator). Lambda only runs images its ECR
 * repository knows, so the pushed manifest is registered there too, under the
 * same digest: the functions' CodeSha256 then equals the image digest, as on AWS.
 */
export async function registerManifestInEcr(
  ecr: ECRClient,
  registry: string,
  repository: string,
  digest: string,
  tag: string,
): Promise<void> {
  const manifest = await new RegistryClient(parseRegistry(registry), repository).getManifest(digest);
  try {
    await ecr.send(
      new PutImageCommand({
        repositoryName: repository,
        imageManifest: manifest.body.toString("utf8"),
        imageManifestMediaType: manifest.mediaType,
        imageDigest: digest,
        imageTag: tag,
      }),
    );
  } catch (error) {
    if (!(error instanceof ImageAlreadyExistsException)) throw error;
  }
}
