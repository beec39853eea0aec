/**
 * A faulty Docker engine: an HTTP server on a unix socket (that the exporter reaches as a child process),
 * for the faults a real engine does not show: bodies cut off after their headers, endless or huge
 * answers, garbage event streams, 500s, very slow answers. Each endpoint answers normally (an empty
 * engine, shapes as a real engine sends them) until a test gives it a fault. Not to be confused with
 * test/helpers/fake-engine.ts, an in-process Engine replaying captured answers for unit tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Fault =
  | 'normal'
  /** Headers, half a body, then the connection closes. */
  | 'cut-off'
  /** Headers and a body that never ends. */
  | 'endless'
  /** Headers, then nothing, for as long as the client waits. */
  | 'stall'
  /** HTTP 500 with a JSON message. */
  | 'error-500'
  /** Garbage instead of JSON. */
  | 'garbage'
  /** (list) This many small entries. */
  | { list: number }
  /** (events) A stream of bytes without a newline. */
  | 'no-newline'
  /** (events) 200, then the stream ends at once. */
  | 'close-at-once'
  /** (events) Valid container events as fast as the client reads them: starts, and `docker exec` sessions. */
  | 'flood'
  /** Answer normally after this many milliseconds. */
  | { delayMs: number };

/** Routes by the first path segment after an optional /v1.xx prefix: `_ping`, `containers`, `events`, `info`… */
type Route = 'ping' | 'containers' | 'inspect' | 'top' | 'events' | 'info' | 'version' | 'networks' | 'other';

const CHUNK = Buffer.alloc(64 * 1024, '[');

function routeOf(url: string): Route {
  const path = url.split('?')[0]?.replace(/^\/v\d+\.\d+/, '') ?? '';
  if (path === '/_ping') return 'ping';
  if (path === '/containers/json') return 'containers';
  if (/^\/containers\/[^/]+\/json$/.test(path)) return 'inspect';
  if (/^\/containers\/[^/]+\/top$/.test(path)) return 'top';
  if (path === '/events') return 'events';
  if (path === '/info') return 'info';
  if (path === '/version') return 'version';
  if (path === '/networks') return 'networks';
  return 'other';
}

const NORMAL: Record<Route, unknown> = {
  ping: 'OK',
  containers: [],
  inspect: { message: 'No such container' },
  top: { message: 'No such container' },
  events: undefined,
  info: { ID: 'fake', Name: 'fake-engine', ServerVersion: '20.10.24', SecurityOptions: [], Warnings: null },
  version: { Version: '20.10.24', ApiVersion: '1.41' },
  networks: [],
  other: { message: 'page not found' },
};

export class FaultyEngine {
  readonly socket: string;
  readonly host: string;
  /** Requests seen, by route. */
  readonly requests: Partial<Record<Route, number>> = {};
  private readonly faults = new Map<Route, Fault>();
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(private readonly dir: string) {
    this.socket = join(dir, 'docker.sock');
    this.host = `unix://${this.socket}`;
    this.server = createServer((request, response) => this.answer(request, response));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
    });
  }

  static async start(): Promise<FaultyEngine> {
    const engine = new FaultyEngine(await mkdtemp(join(tmpdir(), 'dm-faulty-engine-')));
    await new Promise<void>((resolve) => engine.server.listen(engine.socket, resolve));
    return engine;
  }

  set(route: Route, fault: Fault): void {
    this.faults.set(route, fault);
  }

  reset(): void {
    this.faults.clear();
    for (const key of Object.keys(this.requests)) delete this.requests[key as Route];
  }

  count(route: Route): number {
    return this.requests[route] ?? 0;
  }

  /** Closes every open connection (an open event stream, say), as an engine restart would. */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** Open connections from clients (a client that abandons a call closes its connection). */
  get connections(): number {
    return this.sockets.size;
  }

  private later(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
  }

  private answer(request: IncomingMessage, response: ServerResponse): void {
    const route = routeOf(request.url ?? '/');
    this.requests[route] = (this.requests[route] ?? 0) + 1;
    const fault = this.faults.get(route) ?? 'normal';
    response.on('error', () => undefined);
    if (typeof fault === 'object' && 'delayMs' in fault) {
      this.later(fault.delayMs, () => this.normal(route, response));
      return;
    }
    if (typeof fault === 'object') {
      const entries = Array.from({ length: fault.list }, (_, index) => ({
        Id: index.toString(16).padStart(64, '0'),
        Names: [`/c${index}`],
        Image: 'x',
        ImageID: 'sha256:x',
        Labels: {},
        State: 'running',
      }));
      this.json(response, 200, entries);
      return;
    }
    switch (fault) {
      case 'normal':
        this.normal(route, response);
        return;
      case 'error-500':
        this.json(response, 500, { message: 'fake engine failure' });
        return;
      case 'garbage':
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"Id": [garbage \u0000\u001b[31m');
        return;
      case 'cut-off':
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
        response.write('[{"Id":"');
        this.later(20, () => response.socket?.destroy());
        return;
      case 'stall':
        response.writeHead(200, { 'content-type': 'application/json' });
        response.flushHeaders();
        return;
      case 'endless':
      case 'no-newline':
        response.writeHead(200, { 'content-type': 'application/json' });
        this.pour(response, CHUNK);
        return;
      case 'flood': {
        response.writeHead(200, { 'content-type': 'application/json' });
        let sequence = 0;
        const lines = (): Buffer =>
          Buffer.from(
            Array.from({ length: 200 }, () => {
              sequence += 1;
              const id = sequence.toString(16).padStart(64, '0');
              // Every other event an exec session, as `docker exec` (or a health check) announces one.
              const exec = sequence % 2 === 0;
              const attributes = exec ? { name: `flood${sequence}`, execID: `exec${sequence}` } : { name: `flood${sequence}` };
              return `${JSON.stringify({ Type: 'container', Action: exec ? 'exec_start: sh -c true' : 'start', Actor: { ID: id, Attributes: attributes }, time: 1 })}\n`;
            }).join(''),
          );
        this.pour(response, lines);
        return;
      }
      case 'close-at-once':
        response.writeHead(200, { 'content-type': 'application/json' }).end();
        return;
    }
  }

  /** Writes `chunk` as fast as the client reads, until it goes away. */
  private pour(response: ServerResponse, chunk: Buffer | (() => Buffer)): void {
    const next = (): Buffer => (typeof chunk === 'function' ? chunk() : chunk);
    const write = (): void => {
      while (!response.destroyed && response.write(next()));
      if (!response.destroyed) response.once('drain', write);
    };
    write();
  }

  private normal(route: Route, response: ServerResponse): void {
    if (route === 'events') {
      // An open stream with no events, as an idle engine sends.
      response.writeHead(200, { 'content-type': 'application/json' });
      response.flushHeaders();
      return;
    }
    if (route === 'ping') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
      return;
    }
    const status = route === 'inspect' || route === 'top' || route === 'other' ? 404 : 200;
    this.json(response, status, NORMAL[route]);
  }

  private json(response: ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
    await rm(this.dir, { recursive: true, force: true });
  }
}
