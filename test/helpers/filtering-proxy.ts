/**
 * A read-only Engine API proxy on a unix socket, as docker-socket-proxy and its kin are: it forwards
 * only requests whose method and path match an allow list (an optional /v1.xx prefix allowed), and
 * answers every other one 403, recording both. Streams (the event stream) pass through as they come.
 */
import { readFileSync } from 'node:fs';
import { request, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';

export interface AllowedEndpoint {
  method: 'GET' | 'HEAD' | 'POST' | 'DELETE' | 'PUT';
  /** The path as the docs write it: `{id}` stands for one path segment. */
  path: string;
}

export interface SeenRequest {
  method: string;
  path: string;
}

/** The rows between `<!-- endpoints:NAME -->` and `<!-- /endpoints -->` in docs/engines.md under `root`. */
export function documentedEndpoints(root: string, name: 'read' | 'enforce'): AllowedEndpoint[] {
  const text = readFileSync(join(root, 'docs/engines.md'), 'utf8');
  const start = text.indexOf(`<!-- endpoints:${name} -->`);
  if (start < 0) throw new Error(`docs/engines.md has no ${name} endpoint table`);
  const table = text.slice(start, text.indexOf('<!-- /endpoints -->', start));
  return [...table.matchAll(/^\| `(GET|POST|DELETE|PUT|HEAD)` \| `([^`]+)` \|/gm)].map(([, method, path]) => ({
    method: method as AllowedEndpoint['method'],
    path: path!,
  }));
}

function pattern(endpoint: AllowedEndpoint): RegExp {
  const path = endpoint.path
    .split('/')
    .map((segment) => (segment === '{id}' ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^(?:/v\\d+\\.\\d+)?${path}$`);
}

export class FilteringProxy {
  readonly allowed: SeenRequest[] = [];
  readonly refused: SeenRequest[] = [];
  private readonly rules: { endpoint: AllowedEndpoint; regex: RegExp }[];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly socketPath: string,
    private readonly upstreamSocket: string,
    endpoints: readonly AllowedEndpoint[],
  ) {
    this.rules = endpoints.map((endpoint) => ({ endpoint, regex: pattern(endpoint) }));
    this.server = createServer((incoming, outgoing) => this.handle(incoming, outgoing));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  get host(): string {
    return `unix://${this.socketPath}`;
  }

  /** The documented endpoint (method and `{id}` path) a request matched, if any. */
  match(method: string, path: string): AllowedEndpoint | undefined {
    return this.rules.find((rule) => rule.endpoint.method === method && rule.regex.test(path))?.endpoint;
  }

  private handle(incoming: IncomingMessage, outgoing: ServerResponse): void {
    const method = incoming.method ?? 'GET';
    const path = new URL(incoming.url ?? '/', 'http://engine').pathname;
    if (this.match(method, path) === undefined) {
      this.refused.push({ method, path });
      incoming.resume();
      outgoing.writeHead(403, { 'content-type': 'application/json' }).end('{"message":"refused by the test socket proxy"}\n');
      return;
    }
    this.allowed.push({ method, path });
    const upstream = request({ socketPath: this.upstreamSocket, method, path: incoming.url, headers: incoming.headers }, (answer) => {
      // Headers go at once: the event stream's answer may have no body for a long time.
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers).flushHeaders();
      answer.pipe(outgoing);
      // An answer cut off (the engine stopped mid-stream) cuts the client off too, as a real proxy does.
      answer.on('close', () => {
        if (!answer.complete) outgoing.destroy();
      });
    });
    // An engine that is down is a dead socket to the client too, as with a real proxy's 502 or reset.
    upstream.on('error', () => outgoing.destroy());
    outgoing.on('close', () => upstream.destroy());
    incoming.pipe(upstream);
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.socketPath, resolve));
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
