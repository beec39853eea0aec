/**
 * `[policy] always_allow` entries: image IDs in every usual form (`sha256:<64 hex>`, 64 hex, or a
 * prefix of at least 12 hex) and image references (`nginx`, `nginx:1.27`, `docker.io/library/nginx:1.27`,
 * `registry:5000/app@sha256:…`), compared in Docker's normalised form.
 */

const HEX_ID = /^(?:sha256:)?([0-9a-f]{12,64})$/;
/** Names of Docker Hub that the engine treats as `docker.io`. */
const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** `nginx`, `docker.io/nginx` → `docker.io/library/nginx:latest`, as the engine resolves short names. */
export function normalizeReference(reference: string): string {
  let name = reference.trim();
  const digestAt = name.indexOf('@');
  const digest = digestAt >= 0 ? name.slice(digestAt) : '';
  if (digestAt >= 0) name = name.slice(0, digestAt);
  const hasTag = name.lastIndexOf(':') > name.lastIndexOf('/');
  const slash = name.indexOf('/');
  const first = slash >= 0 ? name.slice(0, slash) : '';
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let registry = hasRegistry ? first : 'docker.io';
  let path = hasRegistry ? name.slice(slash + 1) : name;
  if (DOCKER_HUB.has(registry.toLowerCase())) {
    registry = 'docker.io';
    if (!path.includes('/')) path = `library/${path}`;
  }
  name = `${registry}/${path}`;
  if (!hasTag && digest === '') name += ':latest';
  return (name + digest).toLowerCase();
}

export interface ImageIdentity {
  /** `sha256:<64 hex>`. */
  imageId: string;
  /** References the container or image is known by (`Config.Image`, RepoTags, RepoDigests). */
  references: readonly string[];
}

export class ImageAllowList {
  private readonly idPrefixes: string[] = [];
  private readonly references = new Set<string>();

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const id = HEX_ID.exec(entry.trim().toLowerCase());
      if (id?.[1] !== undefined) this.idPrefixes.push(id[1]);
      else this.references.add(normalizeReference(entry));
    }
  }

  get empty(): boolean {
    return this.idPrefixes.length === 0 && this.references.size === 0;
  }

  /** Whether only references (not IDs) could still match, so image data is worth fetching. */
  get hasReferences(): boolean {
    return this.references.size > 0;
  }

  matches({ imageId, references }: ImageIdentity): boolean {
    const hex = imageId.replace(/^sha256:/, '').toLowerCase();
    if (this.idPrefixes.some((prefix) => hex.startsWith(prefix))) return true;
    return references.some((reference) => this.references.has(normalizeReference(reference)));
  }
}
