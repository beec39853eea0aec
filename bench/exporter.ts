import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { Agent, get } from 'node:http';
import { createServer } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { seriesLines } from '../test/helpers/exporter.js';
import type { Fleet } from './fleet.js';
import { percentile, timed } from './stats.js';

/** A free loopback port (the kernel's pick; released again for the exporter to take). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** `docker-monitor serve` from the build, as a child process on loopback; cached mode (`--refresh 1h`) unless told. */
export class ServeProcess {
  /** Every serve process started and not yet stopped, so that an interrupted run can stop them all. */
  static readonly running = new Set<ServeProcess>();
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private stderr = '';

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
  }

  static async start(
    cli: string,
    configFile: string | undefined,
    extraArgs: readonly string[] = [],
    refresh = '1h',
  ): Promise<ServeProcess> {
    const port = await freePort();
    const args = ['serve', '--web.listen-address', `127.0.0.1:${port}`, '--refresh', refresh, '--log.level', 'warn', ...extraArgs];
    if (configFile !== undefined) args.push('--config-file', configFile);
    // Started as users start it: the executable itself, whose #! line carries the V8 settings.
    const serve = new ServeProcess(spawn(cli, args, { stdio: ['ignore', 'ignore', 'pipe'] }), port);
    ServeProcess.running.add(serve);
    await serve.waitReady();
    return serve;
  }

  /** One GET, its body as sent (still compressed when `gzip` asked for it and the server obliged). */
  private request(path: string, gzip = false): Promise<{ status: number; body: Buffer; encoding: string | undefined }> {
    return new Promise((resolve, reject) => {
      const headers = gzip ? { 'accept-encoding': 'gzip' } : {};
      get({ host: '127.0.0.1', port: this.port, path, agent: this.agent, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks), encoding: response.headers['content-encoding'] }),
        );
        response.on('error', reject);
      }).on('error', reject);
    });
  }

  /** Waits until the first refresh is done (`/-/ready` answers 200). */
  private async waitReady(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`serve exited with ${this.child.exitCode}: ${this.stderr}`);
      const status = await this.request('/-/ready').then(
        ({ status }) => status,
        () => 0,
      );
      if (status === 200) return;
      if (Date.now() > deadline) throw new Error(`serve not ready after ${timeoutMs} ms: ${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async scrape(): Promise<string> {
    return (await this.scrapeBytes()).toString('utf8');
  }

  /** One scrape's body as it came over the wire: gzipped when `gzip` (and then checked to be gzip). */
  async scrapeBytes(gzip = false): Promise<Buffer> {
    const { status, body, encoding } = await this.request('/metrics', gzip);
    if (status !== 200) throw new Error(`/metrics answered ${status}`);
    if (gzip && encoding !== 'gzip') throw new Error(`/metrics answered a gzip request with content-encoding ${encoding ?? 'none'}`);
    return body;
  }

  /** Resident and peak resident memory of the serve process, in bytes, from /proc/<pid>/status. */
  async memory(): Promise<{ rssBytes: number; peakRssBytes: number }> {
    const status = await readFile(`/proc/${this.child.pid ?? 0}/status`, 'utf8');
    const kilobytes = (field: string): number =>
      Number(/^\S+:\s+(\d+) kB$/m.exec(status.split('\n').find((line) => line.startsWith(`${field}:`)) ?? '')?.[1] ?? Number.NaN);
    return { rssBytes: kilobytes('VmRSS') * 1024, peakRssBytes: kilobytes('VmHWM') * 1024 };
  }

  async stop(): Promise<void> {
    ServeProcess.running.delete(this);
    this.agent.destroy();
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

export interface ScrapeFigures {
  /** Scrapes made: `scrapes` asked, fewer when the time bound came first. */
  scrapes: number;
  gzip: boolean;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  series: number;
  /** Body bytes on the wire (compressed when gzip), of the last scrape. */
  bytes: number;
}

/**
 * Up to `scrapes` scrapes one after another over one keep-alive connection, as Prometheus makes them,
 * stopping early after `maxMs`; with `gzip`, each asks for gzip as Prometheus does.
 */
export async function measureScrapes(
  serve: ServeProcess,
  scrapes: number,
  gzip = false,
  maxMs = Number.POSITIVE_INFINITY,
): Promise<ScrapeFigures> {
  const body = await serve.scrapeBytes(gzip);
  const plain = gzip ? gunzipSync(body).toString('utf8') : body.toString('utf8');
  const samples: number[] = [];
  const started = performance.now();
  let last = body;
  while (samples.length < scrapes && performance.now() - started < maxMs) {
    const { ms, value } = await timed(() => serve.scrapeBytes(gzip));
    samples.push(ms);
    last = value;
  }
  return {
    scrapes: samples.length,
    gzip,
    p50Ms: percentile(samples, 50),
    p99Ms: percentile(samples, 99),
    maxMs: percentile(samples, 100),
    series: seriesLines(plain).length,
    bytes: last.byteLength,
  };
}

const POLL_PAUSE_MS = 10;

export interface EventFigures {
  starts: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Starts whose series did not show within the timeout. */
  missed: number;
}

/**
 * Starts containers one at a time; for each, the time from the engine's answer to the start call until
 * `/metrics` carries its verdict (polled every 10 ms, so figures are up to one poll late). With
 * `--refresh 1h` only the container's start event can bring it there.
 */
export async function measureEventLatency(serve: ServeProcess, fleet: Fleet, starts: number, timeoutMs = 10_000): Promise<EventFigures> {
  const samples: number[] = [];
  const started: string[] = [];
  let missed = 0;
  try {
    for (let start = 0; start < starts; start += 1) {
      const container = await fleet.start('root');
      started.push(container.id);
      const since = performance.now();
      const series = `docker_monitor_container_compliant{container="${container.name}"}`;
      // A short pause between polls leaves the exporter's event loop to the evaluation being timed.
      while (!(await serve.scrape()).includes(series)) {
        if (performance.now() - since > timeoutMs) break;
        await new Promise((resolve) => setTimeout(resolve, POLL_PAUSE_MS));
      }
      const ms = performance.now() - since;
      if (ms > timeoutMs) missed += 1;
      else samples.push(ms);
    }
  } finally {
    await fleet.remove(started);
  }
  return { starts, p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99), maxMs: percentile(samples, 100), missed };
}
