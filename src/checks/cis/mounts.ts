import { posix } from 'node:path';
import type { MountPoint } from '../../engine/types.js';
import { PolicyCheck } from '../../policy/policy-check.js';
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
export class SensitiveMountCheck extends PolicyCheck {
  static override inputs = ['inspect'] as const;
  static override description = 'no sensitive host directory is mounted read-write';
  static override remediation = 'Do not mount host system directories, or mount them read-only (:ro).';
  static override options = {
    extra_sensitive_paths: {
      type: 'list' as const,
      default: [],
      description: 'more paths judged like /etc (e.g. /root, /var/lib/docker)',
    },
  };
  static override severity = 'high' as const;
  static override cisId = '5.6';

  private readonly sensitive = new Set([...SENSITIVE_PATHS, ...(this.config['extra_sensitive_paths'] as string[])].map(normalizePath));

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
export class MountPropagationCheck extends PolicyCheck {
  static override inputs = ['inspect'] as const;
  static override description = 'no mount uses shared propagation';
  static override remediation = 'Mount with private propagation: drop the shared or rshared bind option.';
  static override options = {};
  static override severity = 'medium' as const;
  static override cisId = '5.20';

  check({ inspect }: ContainerView): CheckReturn {
    const shared = (inspect.Mounts ?? []).filter((mount) => mount.Propagation === 'shared' || mount.Propagation === 'rshared');
    if (shared.length === 0) return this.PASS;
    return this.fail(shared.map((mount) => `${describeMount(mount)} (${mount.Propagation ?? ''})`).join(', '));
  }
}

/**
 * CIS 5.32: the engine's socket is not reachable from the container. Read-only does not help (a
 * socket on a read-only mount still connects), so every mount counts: a `docker.sock` by name wherever
 * it is, a configured socket path, or a directory holding one (`/var/run`, `/run`, `/`).
 */
export class DockerSocketMountCheck extends PolicyCheck {
  static override inputs = ['inspect'] as const;
  static override description = 'the Docker socket is not mounted into the container';
  static override remediation =
    'Do not mount /var/run/docker.sock into the container; use a restricted API proxy if it must talk to the engine.';
  static override options = {
    socket_paths: {
      type: 'list' as const,
      default: ['/var/run/docker.sock', '/run/docker.sock', '/run/containerd/containerd.sock', '/var/run/containerd/containerd.sock'],
      description: 'host paths of engine sockets; mounting one, or a directory above one, fails',
    },
  };
  static override severity = 'critical' as const;
  static override cisId = '5.32';

  check({ inspect }: ContainerView): CheckReturn {
    const sockets = this.config['socket_paths'] as string[];
    const exposing = (inspect.Mounts ?? []).filter((mount) => {
      const source = mount.Source ?? '';
      const byName = [source, mount.Destination ?? ''].some((path) => posix.basename(path) === 'docker.sock');
      return byName || (source !== '' && mount.Type === 'bind' && sockets.some((socket) => isWithin(socket, source)));
    });
    if (exposing.length === 0) return this.PASS;
    return this.fail(`engine socket reachable through ${exposing.map(describeMount).join(', ')}`);
  }
}
