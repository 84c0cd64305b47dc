/**
 * Container image references (`[registry[:port]/]path[:tag][@digest]`), checked with the grammar of
 * the distribution reference that Docker, containerd and the kubelet use, so a typo is an apply-time
 * error naming the field rather than an ErrImagePull minutes later.
 */

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
/** The longest repository name a registry accepts. */
const MAX_NAME = 255;

/** What keeps `image` from being a valid image reference; undefined when it is one. */
export function imageReferenceProblem(image: string): string | undefined {
  const bad = (why: string) => `image ${JSON.stringify(image)} is not a valid image reference: ${why}`;
  if (image.trim() === '') return 'must not be empty';
  if (/\s/.test(image)) return `image ${JSON.stringify(image)} must not contain whitespace`;
  let rest = image;
  const at = rest.indexOf('@');
  if (at !== -1) {
    if (!DIGEST.test(rest.slice(at + 1))) return bad('the digest after "@" must look like sha256:<64 hex digits>');
    rest = rest.slice(0, at);
  }
  const lastSlash = rest.lastIndexOf('/');
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > lastSlash) {
    if (!TAG.test(rest.slice(lastColon + 1))) return bad('the tag after ":" must be 1-128 letters, digits, "_", "." or "-", not starting with "." or "-"');
    rest = rest.slice(0, lastColon);
  }
  if (rest === '') return bad('it has no repository name');
  if (rest.length > MAX_NAME) return bad(`the repository name is longer than ${MAX_NAME} characters`);
  const parts = rest.split('/');
  const first = parts[0] ?? '';
  // Like Docker: the first part is a registry only if it looks like a host (a dot, a port or localhost).
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))) {
    if (!DOMAIN.test(first)) return bad(`${JSON.stringify(first)} is not a valid registry host[:port]`);
    parts.shift();
  }
  for (const part of parts) {
    if (!PATH_COMPONENT.test(part)) {
      return bad(`${JSON.stringify(part)} must be lowercase letters and digits, separated by ".", "_", "__" or "-"`);
    }
  }
  return undefined;
}

const QUANTITY = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/;

/** What keeps `value` from being a Kubernetes resource quantity ("500m", "1Gi", "2"); undefined when it is one. */
export function quantityProblem(value: string): string | undefined {
  if (QUANTITY.test(value)) return undefined;
  return `${JSON.stringify(value)} is not a resource quantity: write a number with an optional suffix, such as "500m", "2", "256Mi" or "1Gi"`;
}
