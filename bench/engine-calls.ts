/**
 * Engine API calls counted on the wire: the exporter is pointed at a unix-socket proxy in front of the
 * engine's socket (the read-only filtering proxy of the socket-proxy tests, allowing exactly the endpoints
 * docs/engines.md documents), which counts every request by documented endpoint. The long-lived
 * `/events` stream is left out of the counts: it is one request for the exporter's whole life.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { documentedEndpoints, FilteringProxy } from '../test/helpers/filtering-proxy.js';

const EVENTS = 'GET /events';

export class CountingProxy {
  private mark = 0;

  private constructor(
    private readonly proxy: FilteringProxy,
    private readonly dir: string,
  ) {}

  static async start(root: string, engineHost: string): Promise<CountingProxy> {
    if (!engineHost.startsWith('unix://')) throw new Error(`${engineHost} is not a unix socket: engine calls cannot be counted`);
    const dir = await mkdtemp(join(tmpdir(), 'dm15-bench-proxy-'));
    const proxy = new FilteringProxy(join(dir, 'engine.sock'), engineHost.slice('unix://'.length), documentedEndpoints(root, 'read'));
    await proxy.listen();
    return new CountingProxy(proxy, dir);
  }

  /** The address to give the exporter (`--docker.host`). */
  get host(): string {
    return this.proxy.host;
  }

  /** Starts a new count: what `counts` reports is from here on. */
  reset(): void {
    this.mark = this.proxy.allowed.length;
  }

  /** Requests since the last `reset`, per documented endpoint (`GET /containers/{id}/json`), without the event stream. */
  counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const { method, path } of this.proxy.allowed.slice(this.mark)) {
      const endpoint = this.proxy.match(method, path);
      const key = endpoint === undefined ? `${method} ${path}` : `${endpoint.method} ${endpoint.path}`;
      if (key !== EVENTS) counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }

  /** Requests the proxy refused (not in docs/engines.md's read-only table): there should be none. */
  refused(): string[] {
    return this.proxy.refused.map(({ method, path }) => `${method} ${path}`);
  }

  async close(): Promise<void> {
    await this.proxy.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}
