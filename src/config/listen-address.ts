export interface ListenAddress {
  /** As the user wrote it, for messages. */
  text: string;
  /** Undefined: every interface (IPv6 and IPv4 where the host has both). */
  host: string | undefined;
  port: number;
}

/** `host:port`, `[v6]:port` or `:port` (every interface), as Prometheus exporters take it. */
export function parseListenAddress(address: string): ListenAddress {
  const text = address.trim();
  const match = /^(?:\[([0-9A-Fa-f:.%a-z]+)\]|([A-Za-z0-9._-]*)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (match === null || !(port >= 0 && port <= 65535)) {
    throw new Error(`"${address}" is not host:port (e.g. :10091, 127.0.0.1:10091, [::1]:10091)`);
  }
  const host = match[1] ?? match[2];
  return { text, host: host === '' ? undefined : host, port };
}
