import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ListenAddress } from '../config/listen-address.js';
import { UsageError, errorMessage } from '../errors.js';

/**
 * The listener's bounds, as exporter-toolkit's servers (and Prometheus's `--web.max-connections`) have
 * them: a request's headers must arrive within 10 s and the whole request within 60 s (a client that
 * never finishes them is cut off, not held for minutes), idle keep-alive connections close after 60 s, and
 * at most 512 connections are open at once (the next ones are refused).
 */
export const LISTENER_LIMITS = { headersTimeoutMs: 10_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 60_000, maxConnections: 512 };

/** Fastify's and Node's server options for LISTENER_LIMITS (Fastify's defaults switch Node's request timeout off). */
export function listenerOptions(): {
  requestTimeout: number;
  keepAliveTimeout: number;
  http: { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number };
} {
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = LISTENER_LIMITS;
  const server = { headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs, connectionsCheckingInterval: 1_000 };
  return { requestTimeout: requestTimeoutMs, keepAliveTimeout: keepAliveTimeoutMs, http: server };
}

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
      app.server.maxConnections = LISTENER_LIMITS.maxConnections;
    } catch (error) {
      await Promise.all(apps.map((opened) => opened.close()));
      throw new UsageError(`--web.listen-address: cannot listen on ${address.text}: ${errorMessage(error)}`);
    }
  }
  return apps;
}
