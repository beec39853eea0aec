import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { Agent, get } from 'node:http';
import { createServer } from 'node:net';
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

/** `docker-monitor serve` from the build, as a child process on loopback, in cached mode (`--refresh 1h`). */
export class ServeProcess {
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

  static async start(cli: string, configFile: string | undefined, extraArgs: readonly string[] = []): Promise<ServeProcess> {
    const port = await freePort();
    const args = ['serve', '--web.listen-address', `127.0.0.1:${port}`, '--refresh', '1h', '--log.level', 'warn', ...extraArgs];
    if (configFile !== undefined) args.push('--config-file', configFile);
    // Started as users start it: the executable itself, whose #! line carries the V8 settings.
    const serve = new ServeProcess(spawn(cli, args, { stdio: ['ignore', 'ignore', 'pipe'] }), port);
    await serve.waitReady();
    return serve;
  }

  private request(path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      get({ host: '127.0.0.1', port: this.port, path, agent: this.agent }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
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
    const { status, body } = await this.request('/metrics');
    if (status !== 200) throw new Error(`/metrics answered ${status}`);
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
  scrapes: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  series: number;
  bytes: number;
}

/** `scrapes` scrapes one after another over one keep-alive connection, as Prometheus makes them. */
export async function measureScrapes(serve: ServeProcess, scrapes: number): Promise<ScrapeFigures> {
  const body = await serve.scrape();
  const samples: number[] = [];
  for (let scrape = 0; scrape < scrapes; scrape += 1) samples.push((await timed(() => serve.scrape())).ms);
  return {
    scrapes,
    p50Ms: percentile(samples, 50),
    p99Ms: percentile(samples, 99),
    maxMs: percentile(samples, 100),
    series: seriesLines(body).length,
    bytes: Buffer.byteLength(body),
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
