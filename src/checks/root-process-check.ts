import { containerRootProcesses, rootProcesses } from '../engine/processes.js';
import { PolicyCheck } from '../policy/policy-check.js';
import type { CheckReturn, ContainerView } from '../policy/types.js';

/**
 * cnitch's rule: FAIL when any process in the container runs as UID 0 as the host sees it. Under
 * userns-remap, rootless engines or `podman --uidmap`, container root is an unprivileged host UID and does
 * not count; the PASS then says so, as it is still container root (RunningAsRootCheck's, CIS 4.1's, question).
 */
export class RootProcessCheck extends PolicyCheck {
  static override description = 'no process in the container runs as root (UID 0 on the host)';
  static override options = {
    allowed_commands: {
      type: 'list' as const,
      default: [],
      description: 'commands allowed to run as root: a program name or path (nginx, /usr/sbin/sshd) or the start of a command line, up to a space',
    },
  };
  static override severity = 'high' as const;

  async check(container: ContainerView): Promise<CheckReturn> {
    const allowed = this.config['allowed_commands'] as string[];
    const processes = await container.processes();
    const offending = rootProcesses(processes).filter(({ command }) => !allowed.some((entry) => isAllowed(command, entry)));
    if (offending.length === 0) {
      const namespaced = (containerRootProcesses(processes) ?? []).filter(({ uid }) => uid !== 0);
      if (namespaced.length === 0) return this.PASS;
      return {
        result: this.PASS,
        reason:
          `no process runs as root on the host; ${namespaced.length} run${namespaced.length === 1 ? 's' : ''} as root inside the container's user namespace: ` +
          namespaced.map(({ pid, uid, command }) => `pid ${pid} (${command}) as host UID ${uid ?? '?'}`).join(', '),
      };
    }
    return this.fail(
      `${offending.length} process${offending.length === 1 ? '' : 'es'} running as root: ` +
        offending.map(({ pid, command }) => `pid ${pid} (${command})`).join(', '),
    );
  }
}

/** An entry allows a command line it starts (up to a word boundary), or its program by path or name. */
function isAllowed(command: string, entry: string): boolean {
  const line = command.trim();
  const program = line.split(/\s+/)[0] ?? '';
  return line === entry || line.startsWith(`${entry} `) || program === entry || program.split('/').pop() === entry;
}
