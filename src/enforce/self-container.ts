import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** What the process can see of itself: `/proc/self/cgroup`, `/proc/self/mountinfo` and its host name. */
export interface ProcSelf {
  cgroup: string;
  mountinfo: string;
  hostname: string;
}

const CONTAINER_ID = /[0-9a-f]{64}/g;
/** Docker bind-mounts /etc/hostname, /etc/hosts and /etc/resolv.conf from its per-container folder. */
const CONTAINER_FILE = /\/containers\/([0-9a-f]{64})\/(?:hostname|hosts|resolv\.conf)$/;
const MOUNTED_AT = new Set(['/etc/hostname', '/etc/hosts', '/etc/resolv.conf']);
/** Docker's default host name for a container: the first 12 characters of its ID. */
const SHORT_ID = /^[0-9a-f]{12}$/;

/**
 * Container IDs that name the container this process runs in. cgroup v1 paths hold the ID
 * (`/docker/<id>`, `/system.slice/docker-<id>.scope`), but a private cgroup namespace (the default
 * under cgroup v2) hides it; mountinfo shows it either way, as the source of the bind mounts on
 * /etc/hostname, /etc/hosts and /etc/resolv.conf. Only those mounts count: on the host, mountinfo also
 * lists other containers' folders (their /dev/shm mounts), and overlay options list image layer IDs.
 */
export function containerIdsOf(self: Pick<ProcSelf, 'cgroup' | 'mountinfo'>): Set<string> {
  const ids = new Set(self.cgroup.match(CONTAINER_ID) ?? []);
  for (const line of self.mountinfo.split('\n')) {
    // Fields: mount ID, parent ID, major:minor, root (the source path), mount point, ...
    const [, , , root = '', mountPoint = ''] = line.split(' ');
    const id = CONTAINER_FILE.exec(root)?.[1];
    if (id !== undefined && MOUNTED_AT.has(mountPoint)) ids.add(id);
  }
  return ids;
}

/** Decides whether a container is the one docker-monitor itself runs in, which it never acts on. */
export class SelfContainer {
  private readonly ids: ReadonlySet<string>;
  /** Only when nothing else told: a host name that looks like a short container ID. */
  private readonly shortId: string | undefined;

  constructor(self: ProcSelf) {
    this.ids = containerIdsOf(self);
    this.shortId = this.ids.size === 0 && SHORT_ID.test(self.hostname) ? self.hostname : undefined;
  }

  /** The IDs found, for the start-up log. */
  get known(): readonly string[] {
    return [...this.ids, ...(this.shortId === undefined ? [] : [`${this.shortId}…`])];
  }

  matches(containerId: string): boolean {
    return this.ids.has(containerId) || (this.shortId !== undefined && containerId.startsWith(this.shortId));
  }
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Reads this process's own /proc entries (empty where they do not exist, e.g. off Linux). */
export function detectSelfContainer(): SelfContainer {
  return new SelfContainer({
    cgroup: readOrEmpty('/proc/self/cgroup'),
    mountinfo: readOrEmpty('/proc/self/mountinfo'),
    hostname: hostname(),
  });
}
