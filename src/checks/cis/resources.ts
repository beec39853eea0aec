import { PolicyCheck } from '../../policy/policy-check.js';
import type { CheckReturn, ContainerView } from '../../policy/types.js';

/** CIS 5.11: the container has a memory limit (`--memory`). */
export class MemoryLimitCheck extends PolicyCheck {
  static override inputs = ['inspect'] as const;
  static override description = 'memory usage is limited';
  static override remediation = 'Set a memory limit with --memory (deploy.resources.limits.memory in Compose).';
  static override options = {};
  static override severity = 'medium' as const;
  static override cisId = '5.11';

  check({ inspect }: ContainerView): CheckReturn {
    return (inspect.HostConfig?.Memory ?? 0) > 0 ? this.PASS : this.fail('no memory limit (--memory)');
  }
}

/**
 * CIS 5.12: CPU use is bounded relative to other containers: `--cpu-shares`, `--cpus`, or a CFS quota
 * (`--cpu-quota`, which docker-bench does not recognise although `--cpus` is the same mechanism).
 */
export class CpuSharesCheck extends PolicyCheck {
  static override inputs = ['inspect'] as const;
  static override description = 'CPU priority or quota is set';
  static override remediation = 'Set --cpu-shares or --cpus for the container.';
  static override options = {};
  static override severity = 'low' as const;
  static override cisId = '5.12';

  check({ inspect }: ContainerView): CheckReturn {
    const host = inspect.HostConfig ?? {};
    const set = (host.CpuShares ?? 0) > 0 || (host.NanoCpus ?? 0) > 0 || (host.CpuQuota ?? 0) > 0;
    return set ? this.PASS : this.fail('no CPU shares or limit (--cpu-shares, --cpus)');
  }
}

/** CIS 5.29: the number of processes is limited (`--pids-limit`), against fork bombs. */
export class PidsLimitCheck extends PolicyCheck {
  static override inputs = ['inspect'] as const;
  static override description = 'the number of processes is limited';
  static override remediation = 'Set --pids-limit for the container.';
  static override options = {};
  static override severity = 'medium' as const;
  static override cisId = '5.29';

  check({ inspect }: ContainerView): CheckReturn {
    // null, 0 and -1 all mean unlimited.
    return (inspect.HostConfig?.PidsLimit ?? 0) > 0 ? this.PASS : this.fail('no PIDs limit (--pids-limit)');
  }
}

/** CIS 5.13: the root filesystem is read-only (`--read-only`); writable paths come from volumes. */
export class ReadonlyRootfsCheck extends PolicyCheck {
  static override inputs = ['inspect'] as const;
  static override description = 'the root filesystem is mounted read-only';
  static override remediation = 'Start the container with --read-only and mount volumes or tmpfs where it must write.';
  static override options = {};
  static override severity = 'medium' as const;
  static override cisId = '5.13';

  check({ inspect }: ContainerView): CheckReturn {
    return inspect.HostConfig?.ReadonlyRootfs === true ? this.PASS : this.fail('root filesystem is writable (--read-only not set)');
  }
}

/**
 * CIS 5.19: the daemon's default ulimits are overridden only where needed. Each override is an
 * exception to review, so an override not listed in `allowed_ulimits` fails. (docker-bench reports
 * the opposite: every container without an override.)
 */
export class UlimitOverrideCheck extends PolicyCheck {
  static override inputs = ['inspect'] as const;
  static override description = 'default ulimits are not overridden, except where allowed';
  static override remediation = 'Remove the --ulimit flags, or list the needed ones in allowed_ulimits.';
  static override options = {
    allowed_ulimits: {
      type: 'list' as const,
      default: [],
      description: 'ulimit names a container may override (e.g. nofile, nproc)',
    },
  };
  static override severity = 'low' as const;
  static override cisId = '5.19';

  check({ inspect }: ContainerView): CheckReturn {
    const allowed = this.config['allowed_ulimits'] as string[];
    const overrides = (inspect.HostConfig?.Ulimits ?? []).filter((ulimit) => !allowed.includes(ulimit.Name ?? ''));
    if (overrides.length === 0) return this.PASS;
    return this.fail(
      `overrides ${overrides.map((ulimit) => `${ulimit.Name ?? '?'}=${ulimit.Soft ?? '?'}:${ulimit.Hard ?? '?'}`).join(', ')}`,
    );
  }
}

/** CIS 5.25: the container stays in the engine's cgroup (no `--cgroup-parent` outside the allowed ones). */
export class CgroupParentCheck extends PolicyCheck {
  static override inputs = ['inspect'] as const;
  static override description = "the container uses the engine's default cgroup parent";
  static override remediation = "Remove --cgroup-parent so the engine's default cgroup parent applies.";
  static override options = {
    allowed_cgroup_parents: {
      type: 'list' as const,
      default: [],
      description: 'cgroup parents a container may be placed under',
    },
  };
  static override severity = 'low' as const;
  static override cisId = '5.25';

  check({ inspect }: ContainerView): CheckReturn {
    const parent = inspect.HostConfig?.CgroupParent ?? '';
    if (parent === '' || (this.config['allowed_cgroup_parents'] as string[]).includes(parent)) return this.PASS;
    return this.fail(`cgroup parent ${parent}`);
  }
}
