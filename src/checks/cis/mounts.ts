import type { MountPoint } from '../../engine/types.js';
import { builtInCheck } from '../../policy/built-in-check.js';
import type { CheckReturn, ContainerView } from '../../policy/types.js';
import { isWithin, normalizePath } from './paths.js';

/** CIS 5.6's list: the host directories a writable mount of would let the container change the host. */
export const SENSITIVE_PATHS: readonly string[] = ['/', '/boot', '/dev', '/etc', '/lib', '/proc', '/sys', '/usr'];

function describeMount(mount: MountPoint): string {
  return `${mount.Source || mount.Name || '(anonymous)'}:${mount.Destination ?? ''}`;
}

/**
 * CIS 5.6: no sensitive host directory is mounted read-write, as source or as destination. Each mount
 * is judged on its own (docker-bench's pattern also flags a read-only /etc beside any writable mount);
 * subdirectories such as /etc/ssl are not listed and pass.
 */
export class SensitiveMountCheck extends builtInCheck({
  description: 'no sensitive host directory is mounted read-write',
  remediation: 'Do not mount host system directories, or mount them read-only (:ro).',
  severity: 'high',
  cisId: '5.6',
  inputs: ['inspect'],
  options: {
    extra_sensitive_paths: {
      type: 'list',
      default: [],
      description: 'more paths judged like /etc (e.g. /root, /var/lib/docker)',
    },
  },
}) {
  private readonly sensitive = new Set([...SENSITIVE_PATHS, ...this.config.extra_sensitive_paths].map(normalizePath));

  check({ inspect }: ContainerView): CheckReturn {
    const writable = (inspect.Mounts ?? []).filter(
      (mount) =>
        mount.RW === true &&
        [mount.Source, mount.Destination].some((path) => path !== undefined && path !== '' && this.sensitive.has(normalizePath(path))),
    );
    if (writable.length === 0) return this.PASS;
    return this.fail(`read-write mount${writable.length === 1 ? '' : 's'} of ${writable.map(describeMount).join(', ')}`);
  }
}

/** CIS 5.20: no mount propagates mounts back to the host (`shared` or `rshared`). */
export class MountPropagationCheck extends builtInCheck({
  description: 'no mount uses shared propagation',
  remediation: 'Mount with private propagation: drop the shared or rshared bind option.',
  severity: 'medium',
  cisId: '5.20',
  inputs: ['inspect'],
  options: {},
}) {
  check({ inspect }: ContainerView): CheckReturn {
    const shared = (inspect.Mounts ?? []).filter((mount) => mount.Propagation === 'shared' || mount.Propagation === 'rshared');
    if (shared.length === 0) return this.PASS;
    return this.fail(shared.map((mount) => `${describeMount(mount)} (${mount.Propagation ?? ''})`).join(', '));
  }
}

/**
 * CIS 5.32, as its audit greps the container's `Mounts` for `docker.sock`: a mount whose source or
 * destination names it fails, read-only or not (a socket on a read-only mount still connects). Other
 * ways to reach the engine (a mounted `/var/run`, containerd's socket) are EngineSocketMountCheck's.
 */
export class DockerSocketMountCheck extends builtInCheck({
  description: 'the Docker socket is not mounted into the container',
  remediation: 'Do not mount /var/run/docker.sock into the container; use a restricted API proxy if it must talk to the engine.',
  severity: 'critical',
  cisId: '5.32',
  inputs: ['inspect'],
  options: {},
}) {
  check({ inspect }: ContainerView): CheckReturn {
    const exposing = (inspect.Mounts ?? []).filter((mount) =>
      [mount.Source ?? '', mount.Destination ?? ''].some((path) => path.includes('docker.sock')),
    );
    if (exposing.length === 0) return this.PASS;
    return this.fail(`docker.sock mounted: ${exposing.map(describeMount).join(', ')}`);
  }
}

/**
 * House rule beside CIS 5.32 (no CIS id): no engine socket is reachable through a bind mount, whatever
 * it is called: a configured socket path, or a directory holding one (`/var/run`, `/run`, `/`), which
 * the 5.32 audit's `docker.sock` grep misses.
 */
export class EngineSocketMountCheck extends builtInCheck({
  description: 'no engine socket is reachable through a bind mount (the socket or a directory above it)',
  remediation: 'Do not bind-mount engine sockets or the directories holding them (/var/run, /run); use a restricted API proxy.',
  severity: 'critical',
  inputs: ['inspect'],
  options: {
    socket_paths: {
      type: 'list',
      default: ['/var/run/docker.sock', '/run/docker.sock', '/run/containerd/containerd.sock', '/var/run/containerd/containerd.sock'],
      description: 'host paths of engine sockets; mounting one, or a directory above one, fails',
    },
  },
}) {
  check({ inspect }: ContainerView): CheckReturn {
    const sockets = this.config.socket_paths;
    const exposing = (inspect.Mounts ?? []).filter((mount) => {
      const source = mount.Source ?? '';
      return source !== '' && mount.Type === 'bind' && sockets.some((socket) => isWithin(socket, source));
    });
    if (exposing.length === 0) return this.PASS;
    return this.fail(`engine socket reachable through ${exposing.map(describeMount).join(', ')}`);
  }
}
