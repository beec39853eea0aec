import { builtInCheck } from '../../policy/built-in-check.js';
import type { CheckReturn, ContainerView } from '../../policy/types.js';

/** The capabilities Docker grants every container unless dropped (moby's default set). */
export const DEFAULT_CAPABILITIES: ReadonlySet<string> = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'NET_RAW',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

/** `cap_sys_admin`, `CAP_SYS_ADMIN`, `sys_admin` → `SYS_ADMIN`. */
function capabilityName(name: string): string {
  return name.trim().toUpperCase().replace(/^CAP_/, '');
}

/** CIS 5.5: `--privileged` gives every capability, every device, and no AppArmor or seccomp. */
export class PrivilegedContainerCheck extends builtInCheck({
  description: 'the container is not privileged',
  remediation: 'Remove --privileged; add only the capabilities or devices the application needs.',
  severity: 'critical',
  cisId: '5.5',
  inputs: ['inspect'],
  options: {},
}) {
  check({ inspect }: ContainerView): CheckReturn {
    return inspect.HostConfig?.Privileged === true ? this.fail('runs privileged (--privileged)') : this.PASS;
  }
}

/**
 * CIS 5.4, as its audit reads `CapAdd`: nothing beyond Docker's default set. A privileged container
 * holds every capability without `CapAdd`; the audit does not read `Privileged` (5.5 fails it).
 */
export class AddedCapabilitiesCheck extends builtInCheck({
  description: "no capabilities added beyond Docker's defaults",
  remediation: 'Remove the --cap-add flags the application does not need, or list needed ones in allowed_capabilities.',
  severity: 'high',
  cisId: '5.4',
  inputs: ['inspect'],
  options: {
    allowed_capabilities: {
      type: 'list',
      default: [],
      description: "capabilities the container may add besides Docker's defaults (NET_ADMIN or CAP_NET_ADMIN, any case)",
    },
  },
}) {
  private readonly allowed = new Set(this.config.allowed_capabilities.map(capabilityName));

  check({ inspect }: ContainerView): CheckReturn {
    const added = (inspect.HostConfig?.CapAdd ?? [])
      .map(capabilityName)
      .filter((name) => !DEFAULT_CAPABILITIES.has(name) && !this.allowed.has(name));
    if (added.length === 0) return this.PASS;
    return this.fail(`adds ${added.join(', ')}`);
  }
}

/**
 * CIS 5.18, as its audit reads `HostConfig.Devices`: no host device passed in (`--device`). A privileged
 * container sees every device without `Devices`; the audit does not read `Privileged` (5.5 fails it).
 */
export class HostDevicesCheck extends builtInCheck({
  description: 'no host devices are exposed to the container',
  remediation: 'Remove --device, or list the devices the application needs in allowed_devices.',
  severity: 'high',
  cisId: '5.18',
  inputs: ['inspect'],
  options: {
    allowed_devices: {
      type: 'list',
      default: [],
      description: 'host device paths the container may use (e.g. /dev/fuse)',
    },
  },
}) {
  check({ inspect }: ContainerView): CheckReturn {
    const allowed = this.config.allowed_devices;
    const devices = (inspect.HostConfig?.Devices ?? []).map((device) => device.PathOnHost ?? '').filter((path) => !allowed.includes(path));
    if (devices.length === 0) return this.PASS;
    return this.fail(`host device${devices.length === 1 ? '' : 's'} ${devices.join(', ')}`);
  }
}
