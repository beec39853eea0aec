import { PolicyCheck } from '../../policy/policy-check.js';
import type { CheckReturn, ContainerView } from '../../policy/types.js';

/**
 * FAIL when the container joins one of the host's namespaces (`--network host`, `--pid host`, …).
 * Joining another container's namespace (`container:<id>`) is not the host's and passes.
 */
abstract class HostNamespaceCheck extends PolicyCheck {
  static override inputs = ['inspect'] as const;
  static override options = {};
  /** The `docker run` flag, for the reason. */
  protected abstract readonly flag: string;
  /** The HostConfig field holding the mode. */
  protected abstract readonly field: 'NetworkMode' | 'PidMode' | 'IpcMode' | 'UTSMode' | 'UsernsMode';

  check({ inspect }: ContainerView): CheckReturn {
    return inspect.HostConfig?.[this.field] === 'host' ? this.fail(`shares the host's namespace (${this.flag} host)`) : this.PASS;
  }
}

/** CIS 5.10. */
export class HostNetworkCheck extends HostNamespaceCheck {
  static override description = "the host's network namespace is not shared";
  static override remediation = 'Remove --network host; publish the ports the service needs instead.';
  static override severity = 'high' as const;
  static override cisId = '5.10';
  protected readonly flag = '--network';
  protected readonly field = 'NetworkMode' as const;
}

/** CIS 5.16. */
export class HostPidCheck extends HostNamespaceCheck {
  static override description = "the host's process namespace is not shared";
  static override remediation = 'Remove --pid host.';
  static override severity = 'high' as const;
  static override cisId = '5.16';
  protected readonly flag = '--pid';
  protected readonly field = 'PidMode' as const;
}

/** CIS 5.17. */
export class HostIpcCheck extends HostNamespaceCheck {
  static override description = "the host's IPC namespace is not shared";
  static override remediation = 'Remove --ipc host.';
  static override severity = 'high' as const;
  static override cisId = '5.17';
  protected readonly flag = '--ipc';
  protected readonly field = 'IpcMode' as const;
}

/** CIS 5.21. */
export class HostUtsCheck extends HostNamespaceCheck {
  static override description = "the host's UTS namespace is not shared";
  static override remediation = 'Remove --uts host.';
  static override severity = 'medium' as const;
  static override cisId = '5.21';
  protected readonly flag = '--uts';
  protected readonly field = 'UTSMode' as const;
}

/**
 * CIS 5.31: `--userns host` on an engine with userns-remap. Without remapping every container shares
 * the host's user namespace; that is the engine's setting, judged by UsernsRemapCheck (CIS 2.9).
 */
export class HostUsernsCheck extends HostNamespaceCheck {
  static override description = "the host's user namespace is not shared (--userns host)";
  static override remediation = 'Remove --userns host.';
  static override severity = 'medium' as const;
  static override cisId = '5.31';
  protected readonly flag = '--userns';
  protected readonly field = 'UsernsMode' as const;
}
