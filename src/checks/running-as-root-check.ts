import { builtInCheck } from '../policy/built-in-check.js';
import type { CheckReturn, ContainerView } from '../policy/types.js';

/** True for every spelling of root as a `--user`: "", root, 0, 0:0, root:root, 0:<gid>, root:<group>. */
export function isRootUser(user: string | undefined): boolean {
  const name = (user ?? '').trim().split(':')[0] ?? '';
  return name === '' || name === 'root' || /^0+$/.test(name);
}

/** Why a container's configured user is root, or undefined when it is not. */
export function rootUserFinding(user: string): string | undefined {
  if (!isRootUser(user)) return undefined;
  return user === '' ? 'no user set: runs as root' : `runs as root (user "${user}")`;
}

/** FAIL when the container is configured to run as root (CIS 4.1, with every spelling of root caught). */
export class RunningAsRootCheck extends builtInCheck({
  description: "the container's configured user is not root",
  remediation: 'Run as an unprivileged user: set USER in the Dockerfile or start the container with --user UID:GID.',
  severity: 'high',
  inputs: ['inspect'],
  options: {
    allow_root: { type: 'boolean', default: false, description: 'let containers run as root' },
  },
}) {
  check({ inspect }: ContainerView): CheckReturn {
    if (this.config.allow_root) return this.PASS;
    const finding = rootUserFinding(inspect.Config?.User ?? '');
    return finding === undefined ? this.PASS : this.fail(finding);
  }
}
