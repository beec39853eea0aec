import { builtInCheck, type CheckDefinition } from '../../policy/built-in-check.js';
import type { CheckReturn, ContainerView } from '../../policy/types.js';

type HostNamespaceField = 'NetworkMode' | 'PidMode' | 'IpcMode' | 'UTSMode' | 'UsernsMode';

/**
 * FAIL when the container joins one of the host's namespaces (`--network host`, `--pid host`, …), as
 * `flag` sets `field`. Joining another container's namespace (`container:<id>`) is not the host's and passes.
 */
function hostNamespaceCheck(
  metadata: Omit<CheckDefinition<Record<string, never>>, 'inputs' | 'options'>,
  flag: string,
  field: HostNamespaceField,
) {
  return class HostNamespaceCheck extends builtInCheck({ ...metadata, inputs: ['inspect'], options: {} }) {
    check({ inspect }: ContainerView): CheckReturn {
      return inspect.HostConfig?.[field] === 'host' ? this.fail(`shares the host's namespace (${flag} host)`) : this.PASS;
    }
  };
}

/** CIS 5.10. */
export class HostNetworkCheck extends hostNamespaceCheck(
  {
    description: "the host's network namespace is not shared",
    remediation: 'Remove --network host; publish the ports the service needs instead.',
    severity: 'high',
    cisId: '5.10',
  },
  '--network',
  'NetworkMode',
) {}

/** CIS 5.16. */
export class HostPidCheck extends hostNamespaceCheck(
  {
    description: "the host's process namespace is not shared",
    remediation: 'Remove --pid host.',
    severity: 'high',
    cisId: '5.16',
  },
  '--pid',
  'PidMode',
) {}

/** CIS 5.17. */
export class HostIpcCheck extends hostNamespaceCheck(
  {
    description: "the host's IPC namespace is not shared",
    remediation: 'Remove --ipc host.',
    severity: 'high',
    cisId: '5.17',
  },
  '--ipc',
  'IpcMode',
) {}

/** CIS 5.21. */
export class HostUtsCheck extends hostNamespaceCheck(
  {
    description: "the host's UTS namespace is not shared",
    remediation: 'Remove --uts host.',
    severity: 'medium',
    cisId: '5.21',
  },
  '--uts',
  'UTSMode',
) {}

/**
 * CIS 5.31: `--userns host` on an engine with userns-remap. Without remapping every container shares
 * the host's user namespace; that is the engine's setting, judged by UsernsRemapCheck (CIS 2.9).
 */
export class HostUsernsCheck extends hostNamespaceCheck(
  {
    description: "the host's user namespace is not shared (--userns host)",
    remediation: 'Remove --userns host.',
    severity: 'medium',
    cisId: '5.31',
  },
  '--userns',
  'UsernsMode',
) {}
