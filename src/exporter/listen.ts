import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ListenAddress } from '../config/listen-address.js';
import { UsageError, errorMessage } from '../errors.js';

/**
 * The host `:port` binds, as Go's `net.Listen` (and so every Prometheus exporter) does: `::` with
 * IPv4 mapped in (dual-stack) where the kernel has IPv6, `0.0.0.0` where it has not.
 */
export function everyInterfaceHost(): Promise<'::' | '0.0.0.0'> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve('0.0.0.0'));
    probe.listen({ host: '::', port: 0, ipv6Only: false }, () => probe.close(() => resolve('::')));
  });
}

/** `[::]:10091`, `127.0.0.1:10091`: what an app is bound to, as the user would write it. */
export function boundAddresses(app: FastifyInstance): string[] {
  return app.addresses().map((bound) => {
    if (typeof bound === 'string') return bound;
    return bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`;
  });
}

/**
 * Serves every address, each with its own app from `createApp(index)` (the apps share one monitor). An
 * address that cannot be served closes the ones already open and throws a UsageError naming the flag.
 */
export async function listenAll(
  addresses: readonly ListenAddress[],
  createApp: (index: number) => Promise<FastifyInstance>,
): Promise<FastifyInstance[]> {
  const apps: FastifyInstance[] = [];
  for (const [index, address] of addresses.entries()) {
    const app = await createApp(index);
    apps.push(app);
    try {
      // A host name such as `localhost` is left to fastify, which binds each address it resolves to.
      const host = address.host ?? (await everyInterfaceHost());
      await app.listen({ host, port: address.port });
    } catch (error) {
      await Promise.all(apps.map((opened) => opened.close()));
      throw new UsageError(`--web.listen-address: cannot listen on ${address.text}: ${errorMessage(error)}`);
    }
  }
  return apps;
}
