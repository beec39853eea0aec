import { builtInHostCheck } from '../../policy/built-in-check.js';
import type { CheckReturn, HostView } from '../../policy/types.js';
import { isPodman, podmanComponent } from '../../engine/engine-kind.js';
import { engineSecurityFeatures } from './security-option-parsers.js';

/** The registries every engine trusts without TLS by default: not a finding (docker-bench #529). */
const BUILT_IN_INSECURE = new Set(['127.0.0.0/8', '::1/128']);

/**
 * Podman's Docker-compatible API answers some questions about dockerd's settings with values Podman does
 * not have (no icc, no daemon-wide remap, no default log driver, always "experimental"). Those checks
 * judge Podman by its own terms, or pass as not applicable with a reason that says so (docs/engines.md).
 */
async function onPodman(host: HostView): Promise<boolean> {
  return isPodman(await host.engineVersion());
}

/** CIS 2.2: containers on the default bridge cannot talk to each other (`--icc=false`). */
export class DefaultBridgeIccCheck extends builtInHostCheck({
  description: 'inter-container traffic is off on the default bridge (icc=false)',
  remediation: 'Set "icc": false in daemon.json and use user-defined networks for containers that must talk.',
  severity: 'medium',
  cisId: '2.2',
  inputs: ['engine'],
  options: {},
}) {
  async check(host: HostView): Promise<CheckReturn> {
    if (await onPodman(host)) {
      return {
        result: this.PASS,
        reason: 'not applicable on Podman: it has no icc setting (keep containers apart with separate networks)',
      };
    }
    const networks = await host.networks();
    const bridge =
      networks.find((network) => network.Options?.['com.docker.network.bridge.default_bridge'] === 'true') ??
      networks.find((network) => network.Name === 'bridge' && network.Driver === 'bridge');
    if (bridge === undefined) return { result: this.PASS, reason: 'no default bridge network' };
    // The engine writes the option out; absent, it means the default, which is on.
    return bridge.Options?.['com.docker.network.bridge.enable_icc'] === 'false' ? this.PASS : this.fail('icc is on for the default bridge');
  }
}

/** CIS 2.5: no registry is reached without TLS, beyond the loopback ranges every engine allows. */
export class InsecureRegistryCheck extends builtInHostCheck({
  description: 'no insecure registries are configured (beyond loopback)',
  remediation: 'Remove the registry from insecure-registries in daemon.json and give it a TLS certificate.',
  severity: 'high',
  cisId: '2.5',
  inputs: ['engine'],
  options: {},
}) {
  async check(host: HostView): Promise<CheckReturn> {
    const registry = (await host.engineInfo()).RegistryConfig ?? {};
    const ranges = (registry.InsecureRegistryCIDRs ?? []).filter((cidr) => !BUILT_IN_INSECURE.has(cidr));
    const names = Object.entries(registry.IndexConfigs ?? {})
      .filter(([, index]) => index.Secure === false)
      .map(([name]) => name);
    const insecure = [...ranges, ...names];
    return insecure.length === 0 ? this.PASS : this.fail(`insecure registries: ${insecure.join(', ')}`);
  }
}

/** CIS 2.6: the aufs storage driver (unmaintained, removed from Docker 24) is not used. */
export class AufsStorageCheck extends builtInHostCheck({
  description: 'the aufs storage driver is not used',
  remediation: 'Move the engine to the overlay2 storage driver.',
  severity: 'medium',
  cisId: '2.6',
  inputs: ['engine'],
  options: {},
}) {
  async check(host: HostView): Promise<CheckReturn> {
    return (await host.engineInfo()).Driver === 'aufs' ? this.fail('storage driver aufs') : this.PASS;
  }
}

/** CIS 2.9: container root is remapped to an unprivileged host user (userns-remap, or a rootless engine). */
export class UsernsRemapCheck extends builtInHostCheck({
  description: 'user namespace remapping is enabled',
  remediation: 'Set "userns-remap": "default" in daemon.json and restart the engine.',
  severity: 'medium',
  cisId: '2.9',
  inputs: ['engine'],
  options: {},
}) {
  async check(host: HostView): Promise<CheckReturn> {
    const features = engineSecurityFeatures(await host.engineInfo());
    if (features.has('userns')) return this.PASS;
    if (features.has('rootless')) return { result: this.PASS, reason: 'rootless engine' };
    if (await onPodman(host)) {
      return {
        result: this.PASS,
        reason: 'not applicable on Podman: user namespaces are chosen per container (--userns), see HostUsernsCheck and RootProcessCheck',
      };
    }
    return this.fail('container root is root on the host (no userns-remap)');
  }
}

/**
 * CIS 2.13: logs leave the host. The drivers in `local_drivers` keep them on it (docker-bench passes
 * `local` and `none`; we do not).
 */
export class LoggingDriverCheck extends builtInHostCheck({
  description: 'the default logging driver ships logs off the host',
  remediation: 'Set log-driver in daemon.json to one that ships logs off the host (syslog, journald, fluentd, ...).',
  severity: 'low',
  cisId: '2.13',
  inputs: ['engine'],
  options: {
    local_drivers: {
      type: 'list',
      default: ['json-file', 'local', 'none'],
      description: 'logging drivers that keep logs on the host (or drop them)',
    },
  },
}) {
  async check(host: HostView): Promise<CheckReturn> {
    if (await onPodman(host)) {
      return {
        result: this.PASS,
        reason: 'not applicable on Podman: the log driver is set per container (containers.conf log_driver), the API reports no default',
      };
    }
    const driver = (await host.engineInfo()).LoggingDriver ?? '';
    return this.config.local_drivers.includes(driver) ? this.fail(`logging driver ${driver} keeps logs on the host`) : this.PASS;
  }
}

/** CIS 2.15: containers keep running while the daemon restarts. Swarm mode cannot have it, so passes. */
export class LiveRestoreCheck extends builtInHostCheck({
  description: 'live restore is enabled',
  remediation: 'Set "live-restore": true in daemon.json.',
  severity: 'low',
  cisId: '2.15',
  inputs: ['engine'],
  options: {},
}) {
  async check(host: HostView): Promise<CheckReturn> {
    const info = await host.engineInfo();
    if (info.LiveRestoreEnabled === true) return this.PASS;
    if (isSwarmActive(info.Swarm?.LocalNodeState)) return { result: this.PASS, reason: 'swarm mode (incompatible with live restore)' };
    if (await onPodman(host))
      return {
        result: this.PASS,
        reason: 'Podman: each container runs under its own conmon, not under the API service, so containers outlive it',
      };
    return this.fail('live restore is off');
  }
}

/** CIS 2.18: experimental features are off in production. */
export class ExperimentalCheck extends builtInHostCheck({
  description: 'experimental features are off',
  remediation: 'Set "experimental": false in daemon.json on production engines.',
  severity: 'low',
  cisId: '2.18',
  inputs: ['engine'],
  options: {},
}) {
  async check(host: HostView): Promise<CheckReturn> {
    const [info, version] = await Promise.all([host.engineInfo(), host.engineVersion()]);
    const podman = podmanComponent(version);
    // Podman's compat /info always says ExperimentalBuild; its own flag is in the version details.
    if (podman !== undefined)
      return podman.Details?.['Experimental'] === 'true' ? this.fail('Podman experimental features are on') : this.PASS;
    return info.ExperimentalBuild === true || version.Experimental === true ? this.fail('experimental features are on') : this.PASS;
  }
}

function isSwarmActive(state: string | undefined): boolean {
  return state !== undefined && state !== '' && state !== 'inactive';
}

/** CIS 5.1: swarm mode is off unless needed (it opens management ports and holds cluster secrets). */
export class SwarmModeCheck extends builtInHostCheck({
  description: 'swarm mode is not enabled',
  remediation: 'Leave swarm mode (docker swarm leave) on engines that do not need it.',
  severity: 'low',
  cisId: '5.1',
  inputs: ['engine'],
  options: {},
}) {
  async check(host: HostView): Promise<CheckReturn> {
    const state = (await host.engineInfo()).Swarm?.LocalNodeState;
    return isSwarmActive(state) ? this.fail(`swarm mode is ${state ?? ''}`) : this.PASS;
  }
}
