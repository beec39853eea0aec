import { containerRootProcesses, rootProcesses } from '../engine/processes.js';
import { builtInCheck } from '../policy/built-in-check.js';
import type { CheckMetric, CheckOutcome, ContainerReport, ContainerView } from '../policy/types.js';

/** What RootProcessCheck found: the root processes it did not allow (cnitch's log and StatsD report each). */
export interface RootProcessData {
  rootProcesses: { pid: number; command: string }[];
  /**
   * Processes running as UID 0 inside the container's user namespace (container root, CIS 4.1's
   * question); absent when the process source cannot tell (Docker's `top` shows host UIDs only).
   */
  containerRootProcesses?: number;
}

const ROOT_PROCESSES_METRIC: CheckMetric<RootProcessData> = {
  name: 'docker_monitor_root_processes',
  help: 'Processes in the container running as UID 0 on the host, less those RootProcessCheck allows (allowed_commands); absent when the check did not run.',
  labelNames: ['container'],
  samples: (data, container) => [{ labels: { container: container.name }, value: data.rootProcesses.length }],
};

const CONTAINER_ROOT_PROCESSES_METRIC: CheckMetric<RootProcessData> = {
  name: 'docker_monitor_container_root_processes',
  help: "Processes in the container running as UID 0 inside its user namespace (container root); equal to docker_monitor_root_processes without one (but allowed_commands do not apply); absent when the check did not run or the process source cannot tell (Docker's top).",
  labelNames: ['container'],
  samples: (data, container) =>
    data.containerRootProcesses === undefined ? [] : [{ labels: { container: container.name }, value: data.containerRootProcesses }],
};

/**
 * cnitch's rule: FAIL when any process in the container runs as UID 0 as the host sees it. Under
 * userns-remap, rootless engines or `podman --uidmap`, container root is an unprivileged host UID and does
 * not count; the PASS then says so, as it is still container root (RunningAsRootCheck's, CIS 4.1's, question).
 */
export class RootProcessCheck extends builtInCheck({
  description: 'no process in the container runs as root (UID 0 on the host)',
  remediation: 'Start the process as a non-root user (USER, --user) and avoid docker exec -u 0 into running containers.',
  severity: 'high',
  inputs: ['processes'],
  options: {
    allowed_commands: {
      type: 'list',
      default: [],
      description:
        'commands allowed to run as root: a program name or path (nginx, /usr/sbin/sshd) or the start of a command line, up to a space',
    },
  },
  metrics: [ROOT_PROCESSES_METRIC, CONTAINER_ROOT_PROCESSES_METRIC],
}) {
  async check(container: ContainerView): Promise<CheckOutcome<RootProcessData>> {
    const allowed = this.config.allowed_commands;
    const processes = await container.processes();
    const offending = rootProcesses(processes)
      .filter(({ command }) => !allowed.some((entry) => isAllowed(command, entry)))
      .map(({ pid, command }) => ({ pid, command }));
    const containerRoot = containerRootProcesses(processes);
    const data: RootProcessData = {
      rootProcesses: offending,
      ...(containerRoot === undefined ? {} : { containerRootProcesses: containerRoot.length }),
    };
    if (offending.length === 0) {
      const namespaced = (containerRoot ?? []).filter(({ uid }) => uid !== 0);
      if (namespaced.length === 0) return { result: 'pass', data };
      return {
        result: 'pass',
        reason:
          `no process runs as root on the host; ${namespaced.length} run${namespaced.length === 1 ? 's' : ''} as root inside the container's user namespace: ` +
          namespaced.map(({ pid, uid, command }) => `pid ${pid} (${command}) as host UID ${uid ?? '?'}`).join(', '),
        data,
      };
    }
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
