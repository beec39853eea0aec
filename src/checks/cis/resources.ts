import { builtInCheck } from '../../policy/built-in-check.js';
import { isPodmanInfo } from '../../engine/engine-kind.js';
import type { CheckReturn, ContainerView } from '../../policy/types.js';

/** CIS 5.11: the container has a memory limit (`--memory`). */
export class MemoryLimitCheck extends builtInCheck({
  description: 'memory usage is limited',
  remediation: 'Set a memory limit with --memory (deploy.resources.limits.memory in Compose).',
  severity: 'medium',
  cisId: '5.11',
  inputs: ['inspect'],
  options: {},
}) {
  check({ inspect }: ContainerView): CheckReturn {
    return (inspect.HostConfig?.Memory ?? 0) > 0 ? this.PASS : this.fail('no memory limit (--memory)');
  }
}

/** `--cpu-shares` as the 5.12 audit reads it: 0 (unset) and 1024 (the default weight) mean no shares are set. */
function cpuSharesSet(shares: number | undefined): boolean {
  return shares !== undefined && shares !== 0 && shares !== 1024;
}

/**
 * CIS 5.12, as its audit reads `HostConfig.CpuShares`: 0 or 1024 means CPU shares are not set. `--cpus`
 * and `--cpu-quota` cap CPU time but set no relative priority, so they do not count here; CpuLimitCheck
 * (a house rule) accepts them.
 */
export class CpuSharesCheck extends builtInCheck({
  description: 'CPU shares (relative priority) are set',
  remediation: 'Set --cpu-shares to a value other than 1024 (the default weight) for the container.',
  severity: 'low',
  cisId: '5.12',
  inputs: ['inspect'],
  options: {},
}) {
  check({ inspect }: ContainerView): CheckReturn {
    const shares = inspect.HostConfig?.CpuShares ?? 0;
    if (cpuSharesSet(shares)) return this.PASS;
    return this.fail(shares === 0 ? 'no CPU shares (--cpu-shares)' : 'CPU shares at the default weight 1024');
  }
}

/**
 * House rule beside CIS 5.12 (no CIS id): the container's CPU use is bounded in any way, by shares
 * (other than 1024), `--cpus` or a CFS quota. Accepts what 5.12's audit does not: a hard CPU cap.
 */
export class CpuLimitCheck extends builtInCheck({
  description: 'CPU use is bounded (--cpu-shares, --cpus or --cpu-quota)',
  remediation: 'Set --cpus (or --cpu-quota, or --cpu-shares other than 1024) for the container.',
  severity: 'low',
  inputs: ['inspect'],
  options: {},
}) {
  check({ inspect }: ContainerView): CheckReturn {
    const host = inspect.HostConfig ?? {};
    const bounded = cpuSharesSet(host.CpuShares) || (host.NanoCpus ?? 0) > 0 || (host.CpuQuota ?? 0) > 0;
    return bounded ? this.PASS : this.fail('no CPU shares or limit (--cpu-shares, --cpus, --cpu-quota)');
  }
}

/** CIS 5.29: the number of processes is limited (`--pids-limit`), against fork bombs. */
export class PidsLimitCheck extends builtInCheck({
  description: 'the number of processes is limited',
  remediation: 'Set --pids-limit for the container.',
  severity: 'medium',
  cisId: '5.29',
  inputs: ['inspect'],
  options: {},
}) {
  check({ inspect }: ContainerView): CheckReturn {
    // null, 0 and -1 all mean unlimited.
    return (inspect.HostConfig?.PidsLimit ?? 0) > 0 ? this.PASS : this.fail('no PIDs limit (--pids-limit)');
  }
}

/** CIS 5.13: the root filesystem is read-only (`--read-only`); writable paths come from volumes. */
export class ReadonlyRootfsCheck extends builtInCheck({
  description: 'the root filesystem is mounted read-only',
  remediation: 'Start the container with --read-only and mount volumes or tmpfs where it must write.',
  severity: 'medium',
  cisId: '5.13',
  inputs: ['inspect'],
  options: {},
}) {
  check({ inspect }: ContainerView): CheckReturn {
    return inspect.HostConfig?.ReadonlyRootfs === true ? this.PASS : this.fail('root filesystem is writable (--read-only not set)');
  }
}

/** `RLIMIT_NOFILE` (Podman's form) and `nofile` (Docker's, and `--ulimit`'s) → `nofile`. */
function ulimitName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/^rlimit_/, '');
}

/**
 * The limits Podman writes into every container's `HostConfig.Ulimits`, `--ulimit` or not: RLIMIT_NOFILE
 * and RLIMIT_NPROC at its defaults (1048576 rootful, the service's own limits rootless). The compat API
 * records an override of these two the same way, so on Podman they are judged as defaults.
 */
const PODMAN_RECORDED_LIMITS: ReadonlySet<string> = new Set(['nofile', 'nproc']);

/**
 * CIS 5.19, as its audit reads `HostConfig.Ulimits`: empty unless an override is needed, so an override
 * not listed in `allowed_ulimits` fails. (docker-bench reports the opposite: every container without
 * one.) On Podman, the NOFILE and NPROC entries Podman records on every container are its defaults.
 */
export class UlimitOverrideCheck extends builtInCheck({
  description: 'default ulimits are not overridden, except where allowed',
  remediation: 'Remove the --ulimit flags, or list the needed ones in allowed_ulimits.',
  severity: 'low',
  cisId: '5.19',
  inputs: ['inspect', 'engine'],
  options: {
    allowed_ulimits: {
      type: 'list',
      default: [],
      description: 'ulimit names a container may override (e.g. nofile, nproc)',
    },
  },
}) {
  private readonly allowed = new Set(this.config.allowed_ulimits.map(ulimitName));

  async check(container: ContainerView): Promise<CheckReturn> {
    const ulimits = container.inspect.HostConfig?.Ulimits ?? [];
    if (ulimits.length === 0) return this.PASS;
    const podman = isPodmanInfo(await container.engineInfo());
    const overrides = ulimits.filter(({ Name: name = '' }) => {
      const key = ulimitName(name);
      return !this.allowed.has(key) && !(podman && PODMAN_RECORDED_LIMITS.has(key));
    });
    if (overrides.length === 0) return this.PASS;
    return this.fail(
      `overrides ${overrides.map((ulimit) => `${ulimit.Name ?? '?'}=${ulimit.Soft ?? '?'}:${ulimit.Hard ?? '?'}`).join(', ')}`,
    );
  }
}

/** CIS 5.25: the container stays in the engine's cgroup (no `--cgroup-parent` outside the allowed ones). */
export class CgroupParentCheck extends builtInCheck({
  description: "the container uses the engine's default cgroup parent",
  remediation: "Remove --cgroup-parent so the engine's default cgroup parent applies.",
  severity: 'low',
  cisId: '5.25',
  inputs: ['inspect'],
  options: {
    allowed_cgroup_parents: {
      type: 'list',
      default: [],
      description: 'cgroup parents a container may be placed under',
    },
  },
}) {
  check({ inspect }: ContainerView): CheckReturn {
    const parent = inspect.HostConfig?.CgroupParent ?? '';
    if (parent === '' || this.config.allowed_cgroup_parents.includes(parent)) return this.PASS;
    return this.fail(`cgroup parent ${parent}`);
  }
}
