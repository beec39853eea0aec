import { healthCheckCommand } from '../../engine/health-command.js';
import { isNotFound } from '../../engine/not-found.js';
import type { ExecInspect } from '../../engine/types.js';
import { builtInCheck } from '../../policy/built-in-check.js';
import type { CheckReturn, ContainerView } from '../../policy/types.js';
import { isRootUser } from '../running-as-root-check.js';

/**
 * The container's exec sessions the engine still knows (running ones: the engine forgets a session
 * when it exits, so this sees what runs now, not history), without the healthcheck's own probes.
 */
async function execSessions(container: ContainerView): Promise<ExecInspect[]> {
  const probe = JSON.stringify(healthCheckCommand(container.inspect));
  const sessions = await Promise.all(
    (container.inspect.ExecIDs ?? []).map((id) =>
      container.exec(id).catch((error: unknown) => {
        // Gone between inspect and now.
        if (isNotFound(error)) return undefined;
        throw error;
      }),
    ),
  );
  return sessions.filter((session): session is ExecInspect => {
    if (session === undefined) return false;
    const { entrypoint, arguments: args = [] } = session.ProcessConfig ?? {};
    return JSON.stringify([entrypoint, ...args]) !== probe;
  });
}

function describeExec(session: ExecInspect): string {
  const { entrypoint = '', arguments: args = [] } = session.ProcessConfig ?? {};
  return `exec ${session.ID.slice(0, 12)} (${[entrypoint, ...args].join(' ')})`;
}

/** CIS 5.23: no exec session runs privileged (`docker exec --privileged`). */
export class PrivilegedExecCheck extends builtInCheck({
  description: 'no exec session runs privileged',
  remediation: 'Do not run docker exec --privileged; end such sessions and restart the container if one ran.',
  severity: 'high',
  cisId: '5.23',
  inputs: ['inspect', 'exec'],
  options: {},
}) {
  async check(container: ContainerView): Promise<CheckReturn> {
    const privileged = (await execSessions(container)).filter((session) => session.ProcessConfig?.privileged === true);
    if (privileged.length === 0) return this.PASS;
    return this.fail(`privileged ${privileged.map(describeExec).join(', ')}`);
  }
}

/**
 * CIS 5.24, as its audit reads exec records: no exec session was started with `--user root` (or `-u 0`,
 * `0:0`). A session without `--user` in a container configured as root also runs as root, but the audit
 * does not count it; ContainerUserCheck (4.1) and RootProcessCheck judge that container.
 */
export class RootExecCheck extends builtInCheck({
  description: 'no exec session was started with --user root',
  remediation: 'Run docker exec with --user set to a non-root user.',
  severity: 'medium',
  cisId: '5.24',
  inputs: ['inspect', 'exec'],
  options: {},
}) {
  async check(container: ContainerView): Promise<CheckReturn> {
    const root = (await execSessions(container)).filter((session) => {
      const user = session.ProcessConfig?.user ?? '';
      return user !== '' && isRootUser(user);
    });
    if (root.length === 0) return this.PASS;
    return this.fail(`root ${root.map(describeExec).join(', ')}`);
  }
}
