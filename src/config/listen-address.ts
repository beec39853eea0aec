import { parseHostPort } from '../ini/values.js';

export interface ListenAddress {
  /** As the user wrote it, for messages. */
  text: string;
  /** Undefined: every interface (IPv6 and IPv4 where the host has both). */
  host: string | undefined;
  port: number;
}

/** `host:port`, `[v6]:port` or `:port` (every interface), as Prometheus exporters take it. */
export function parseListenAddress(address: string): ListenAddress {
  try {
    return { text: address.trim(), ...parseHostPort(address, { hostOptional: true, minPort: 0 }) };
  } catch {
    throw new Error(`"${address}" is not host:port (e.g. :10091, 127.0.0.1:10091, [::1]:10091)`);
  }
}
