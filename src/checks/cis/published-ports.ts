import type { ContainerInspect } from '../../engine/types.js';

export interface PublishedPort {
  /** `80/tcp`, as the engine keys `NetworkSettings.Ports`. */
  containerPort: string;
  /** `0.0.0.0`, `::`, `127.0.0.1`, … (empty on engines that leave the address out). */
  hostIp: string;
  hostPort: number;
}

/** Every host binding the engine made for the container (`NetworkSettings.Ports`, not what was asked for). */
export function publishedPorts(inspect: ContainerInspect): PublishedPort[] {
  return Object.entries(inspect.NetworkSettings?.Ports ?? {}).flatMap(([containerPort, bindings]) =>
    (bindings ?? []).map((binding) => ({
      containerPort,
      hostIp: binding.HostIp ?? '',
      hostPort: Number(binding.HostPort ?? NaN),
    })),
  );
}

/** `127.0.0.1:8080->80/tcp`, `[::]:8080->80/tcp`: how reasons name a binding. */
export function formatBinding({ hostIp, hostPort, containerPort }: PublishedPort): string {
  const address = hostIp.includes(':') ? `[${hostIp}]` : hostIp || '*';
  return `${address}:${hostPort}->${containerPort}`;
}

/**
 * A port list option (`80, 443/tcp, 53/udp`) as a matcher of `port` and `port/protocol`; a port
 * without protocol matches any. Throws on entries that are not ports, naming the option.
 */
export function portMatcher(key: string, entries: readonly string[]): (port: number, protocol?: string) => boolean {
  const allowed = entries.map((entry) => {
    const match = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(entry.trim());
    const port = Number(match?.[1]);
    if (match === null || port < 1 || port > 65535) throw new Error(`${key}: "${entry}" is not a port (use e.g. 80, 443/tcp, 53/udp)`);
    return { port, protocol: match[2]?.toLowerCase() };
  });
  return (port, protocol) => allowed.some((entry) => entry.port === port && (entry.protocol === undefined || entry.protocol === protocol));
}

/** `80/tcp` → port 80, protocol tcp. */
export function splitContainerPort(containerPort: string): { port: number; protocol: string } {
  const [port = '', protocol = 'tcp'] = containerPort.split('/');
  return { port: Number(port), protocol };
}
