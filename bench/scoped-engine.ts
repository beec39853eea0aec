/**
 * An Engine API proxy on a unix socket that shows a client only the containers carrying one label:
 * `GET /containers/json` and `GET /events` get that label filter added; every other request passes
 * through as it is. It
 * notes when each request arrives. The benchmark points `check` at it so that `check` evaluates the same
 * containers as docker-bench-security's `-t` label filter, whatever else runs on the engine.
 */
import { request, createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';

const FILTERED = /^(?:\/v\d+\.\d+)?\/(?:containers\/json|events)$/;

export class ScopedEngine {
  /** performance.now() of each request, in arrival order; the caller may empty it. */
  readonly requests: number[] = [];
  readonly socketPath: string;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(folder: string, upstreamSocket: string, label: string) {
    this.socketPath = join(folder, 'scoped-engine.sock');
    this.server = createServer((incoming, outgoing) => {
      this.requests.push(performance.now());
      const url = new URL(incoming.url ?? '/', 'http://engine');
      if (incoming.method === 'GET' && FILTERED.test(url.pathname)) {
        const filters = JSON.parse(url.searchParams.get('filters') ?? '{}') as Record<string, string[]>;
        filters['label'] = [...(filters['label'] ?? []), label];
        url.searchParams.set('filters', JSON.stringify(filters));
      }
      const upstream = request(
        { socketPath: upstreamSocket, method: incoming.method, path: `${url.pathname}${url.search}`, headers: incoming.headers },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers).flushHeaders();
          answer.pipe(outgoing);
        },
      );
      upstream.on('error', () => outgoing.destroy());
      outgoing.on('close', () => upstream.destroy());
      incoming.pipe(upstream);
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  get host(): string {
    return `unix://${this.socketPath}`;
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.socketPath, resolve));
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
