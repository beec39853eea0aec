import { UsageError } from '../errors.js';

export interface ListenAddress {
  /** Undefined: every interface (IPv6 and IPv4 where the host has both). */
  host: string | undefined;
  port: number;
}

/** `host:port`, `[v6]:port` or `:port` (every interface), as Prometheus exporters take it. */
export function parseListenAddress(address: string): ListenAddress {
  const match = /^(?:\[([0-9A-Fa-f:.%a-z]+)\]|([A-Za-z0-9._-]*)):(\d{1,5})$/.exec(address.trim());
  const port = Number(match?.[3]);
  if (match === null || !(port >= 0 && port <= 65535)) {
    throw new UsageError(`--web.listen-address: "${address}" is not host:port (e.g. :10091, 127.0.0.1:10091, [::1]:10091)`);
  }
  const host = match[1] ?? match[2];
  return { host: host === '' ? undefined : host, port };
}
