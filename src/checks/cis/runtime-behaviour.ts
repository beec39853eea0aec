import { builtInCheck } from '../../policy/built-in-check.js';
import type { CheckReturn, ContainerView } from '../../policy/types.js';

/**
 * CIS 5.15: restarts are bounded. `no` passes; `on-failure` passes with at most `max_retries` retries;
 * `always`, `unless-stopped` and `on-failure` without a count restart forever and fail (CIS's audit
 * text; docker-bench ignores the policy name) unless `allow_unlimited` is on.
 */
export class RestartPolicyCheck extends builtInCheck({
  description: 'restarts are limited (on-failure with few retries, or no restart)',
  remediation: 'Use --restart on-failure:5 (or no restart policy) instead of always or unlimited retries.',
  severity: 'low',
  cisId: '5.15',
  inputs: ['inspect'],
  options: {
    max_retries: { type: 'integer', default: 5, description: 'most on-failure retries allowed' },
    allow_unlimited: {
      type: 'boolean',
      default: false,
      description: 'accept always, unless-stopped and on-failure without a retry count',
    },
  },
}) {
  check({ inspect }: ContainerView): CheckReturn {
    const { Name: name = '', MaximumRetryCount: retries = 0 } = inspect.HostConfig?.RestartPolicy ?? {};
    const maxRetries = this.config.max_retries;
    const allowUnlimited = this.config.allow_unlimited;
    if (name === '' || name === 'no') return this.PASS;
    if (name === 'on-failure' && retries > 0) {
      return retries <= maxRetries ? this.PASS : this.fail(`on-failure:${retries} allows more than ${maxRetries} retries`);
    }
    return allowUnlimited
      ? this.PASS
      : this.fail(`restart policy ${name === 'on-failure' ? 'on-failure without a retry count' : name} restarts without limit`);
  }
}

/**
 * CIS 5.27, as its audit reads `State.Health`: the container's health is checked and reported. A
 * container without a healthcheck (or with `--no-healthcheck`, or `HEALTHCHECK NONE`) fails; an
 * `unhealthy` one passes (HealthStatusCheck judges that). Podman reports a `State.Health` with an empty
 * status on every container: no status is no healthcheck.
 */
export class ContainerHealthcheckCheck extends builtInCheck({
  description: "the container's health is checked at runtime (a healthcheck reports a status)",
  remediation: 'Give the image a HEALTHCHECK, or start the container with --health-cmd.',
  severity: 'low',
  cisId: '5.27',
  inputs: ['inspect'],
  options: {},
}) {
  check({ inspect }: ContainerView): CheckReturn {
    const status = inspect.State?.Health?.Status ?? '';
    return status === '' ? this.fail('no healthcheck') : this.PASS;
  }
}

/**
 * House rule beside CIS 5.27 (no CIS id): the container is not `unhealthy`. 5.27 asks only that health
 * is checked; a container whose own healthcheck fails needs someone too. No healthcheck passes here.
 */
export class HealthStatusCheck extends builtInCheck({
  description: 'the container is not unhealthy',
  remediation: "Look at the health check's output (docker inspect --format '{{json .State.Health}}') and fix or restart the service.",
  severity: 'medium',
  inputs: ['inspect'],
  options: {},
}) {
  check({ inspect }: ContainerView): CheckReturn {
    const health = inspect.State?.Health;
    if (health?.Status === 'unhealthy') return this.fail(`unhealthy (${health.FailingStreak ?? 0} failed probes in a row)`);
    return this.PASS;
  }
}

/** A program name or OpenSSH's retitled processes (`sshd: /usr/sbin/sshd -D [listener] …`, `sshd: alice@pts/0`). */
function isSshd(command: string): boolean {
  const line = command.trim();
  const program = line.split(/\s+/)[0] ?? '';
  return program.split('/').pop() === 'sshd' || line.startsWith('sshd:');
}

/**
 * CIS 5.7: no SSH server runs inside. Read from the host-side process list (`top` or /proc), so it
 * works in images without `ps`, where docker-bench's `docker exec ps` silently misses.
 */
export class SshdCheck extends builtInCheck({
  description: 'no SSH server runs in the container',
  remediation: 'Remove the SSH server from the image; use docker exec for access.',
  severity: 'medium',
  cisId: '5.7',
  inputs: ['processes'],
  options: {},
}) {
  async check(container: ContainerView): Promise<CheckReturn> {
    const sshd = (await container.processes()).filter(({ command }) => isSshd(command));
    if (sshd.length === 0) return this.PASS;
    return this.fail(`sshd running: ${sshd.map(({ pid, command }) => `pid ${pid} (${command})`).join(', ')}`);
  }
}

/**
 * CIS 5.30: the container is not on the default bridge network, where every container can reach
 * every other. Judged by network (`bridge` in `NetworkSettings.Networks`), whatever the bridge
 * interface is called (docker-bench looks for `docker0` by name).
 */
export class DefaultBridgeCheck extends builtInCheck({
  description: 'the container is not attached to the default bridge network',
  remediation: 'Attach the container to a user-defined network (docker network create) instead of the default bridge.',
  severity: 'low',
  cisId: '5.30',
  inputs: ['inspect'],
  options: {},
}) {
  check({ inspect }: ContainerView): CheckReturn {
    return 'bridge' in (inspect.NetworkSettings?.Networks ?? {}) ? this.fail('attached to the default bridge network') : this.PASS;
  }
}
