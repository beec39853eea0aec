import { rootProcesses } from '../engine/processes.js';
import { PolicyCheck } from '../policy/policy-check.js';
import type { CheckMetric, CheckOutcome, ContainerReport, ContainerView } from '../policy/types.js';

/** What RootProcessCheck found: the root processes it did not allow (cnitch's log and StatsD report each). */
export interface RootProcessData {
  rootProcesses: { pid: number; command: string }[];
}

const ROOT_PROCESSES_METRIC: CheckMetric<RootProcessData> = {
  name: 'docker_monitor_root_processes',
  help: 'Processes in the container running as UID 0 on the host, less those RootProcessCheck allows (allowed_commands); absent when the check did not run.',
  labelNames: ['container'],
  samples: (data, container) => [{ labels: { container: container.name }, value: data.rootProcesses.length }],
};

/**
 * cnitch's rule: FAIL when any process in the container runs as UID 0 as the host sees it. Under
 * userns-remap or rootless Docker, container root is a high host UID and does not count.
 */
export class RootProcessCheck extends PolicyCheck {
  static override description = 'no process in the container runs as root (UID 0 on the host)';
  static override remediation = 'Start the process as a non-root user (USER, --user) and avoid docker exec -u 0 into running containers.';
  static override options = {
    allowed_commands: {
      type: 'list' as const,
      default: [],
      description: 'commands allowed to run as root: a program name or path (nginx, /usr/sbin/sshd) or the start of a command line, up to a space',
    },
  };
  static override severity = 'high' as const;
  static override metrics = [ROOT_PROCESSES_METRIC];

  async check(container: ContainerView): Promise<CheckOutcome<RootProcessData>> {
    const allowed = this.config['allowed_commands'] as string[];
    const offending = rootProcesses(await container.processes())
      .filter(({ command }) => !allowed.some((entry) => isAllowed(command, entry)))
      .map(({ pid, command }) => ({ pid, command }));
    const data = { rootProcesses: offending };
    if (offending.length === 0) return { result: 'pass', data };
    return {
      result: 'fail',
      reason:
        `${offending.length} process${offending.length === 1 ? '' : 'es'} running as root: ` +
        offending.map(({ pid, command }) => `pid ${pid} (${command})`).join(', '),
      data,
    };
  }
}

/** The root processes RootProcessCheck found in a report; undefined when it did not run or gave an error. */
export function rootProcessesOf(report: ContainerReport): RootProcessData['rootProcesses'] | undefined {
  const result = report.results.find((candidate) => candidate.check === RootProcessCheck.name && candidate.data !== undefined);
  return (result?.data as RootProcessData | undefined)?.rootProcesses;
}

/** An entry allows a command line it starts (up to a word boundary), or its program by path or name. */
function isAllowed(command: string, entry: string): boolean {
  const line = command.trim();
  const program = line.split(/\s+/)[0] ?? '';
  return line === entry || line.startsWith(`${entry} `) || program === entry || program.split('/').pop() === entry;
}
