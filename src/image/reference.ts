import { UserError } from "../errors.js";

// The grammar of github.com/distribution/reference: [domain/]path[:tag][@digest].
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]{1,5})?`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const REFERENCE = new RegExp(
  `^(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`,
);
const REGISTRY_HOST = new RegExp(`^${DOMAIN}$`);

export interface ImageReference {
  /** The registry host[:port]; "" for Docker Hub's short names. */
  domain: string;
  path: string;
  tag: string | null;
  digest: string | null;
}

/**
 * Parses an image reference as Docker does: the first component is a registry only when it
 * has a dot or a port or is `localhost` (else `UPPER/name` would pass as a host).
 */
export function parseImageReference(value: string): ImageReference | null {
  const match = REFERENCE.exec(value);
  if (match === null) return null;
  let domain = match[1] ?? "";
  let path = match[2] ?? "";
  if (domain !== "" && !/[.:]/.test(domain) && domain !== "localhost") {
    // Docker reads it as a path component, which must be lower case.
    if (!new RegExp(`^${PATH_COMPONENT}$`).test(domain)) return null;
    path = `${domain}/${path}`;
    domain = "";
  }
  if (`${domain}/${path}`.length > 255) return null;
  return { domain, path, tag: match[3] ?? null, digest: match[4] ?? null };
}

/** Input 'base-image' is a reference Docker and buildah accept; it also ends up in a FROM line. */
export function validateBaseImage(baseImage: string): ImageReference {
  const parsed = parseImageReference(baseImage);
  if (parsed === null) {
    throw new UserError(`Input 'base-image' is not a valid image reference: ${JSON.stringify(baseImage)}.`, {
      hint: "Use [registry/]name[:tag][@sha256:digest] in lower case, e.g. public.ecr.aws/lambda/python:3.12 (the default).",
    });
  }
  return parsed;
}

/** host[:port] as image references spell it: DNS labels or an IPv4 address, or [IPv6]; port 1-65535. */
export function isRegistryHost(host: string): boolean {
  if (!REGISTRY_HOST.test(host)) return false;
  const port = /:(\d+)$/.exec(host.replace(/^\[[^\]]*\]/, ""))?.[1];
  return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
}
