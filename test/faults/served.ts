/** `docker-monitor serve` as a child process on loopback, with its output, resident memory and exit. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { eventually } from '../helpers/wait.js';
import { freePort } from '../helpers/services.js';
import { scaled } from '../helpers/time-scale.js';

export const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

export class Served {
  readonly exit: Promise<number | null>;
  private text = '';

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.text += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.text += chunk.toString()));
    this.exit = once(child, 'exit').then(([code]) => code as number | null);
  }

  /** Starts `serve` and waits until `/-/healthy` answers. */
  static async start(args: readonly string[], env: NodeJS.ProcessEnv = process.env, user?: { uid: number; gid: number }): Promise<Served> {
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'serve', ...args, '--web.listen-address', `127.0.0.1:${port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
      ...user,
    });
    const served = new Served(child, port);
    await eventually(
      () =>
        fetch(`${served.url}/-/healthy`)
          .then((response) => response.status)
          .catch(() => 0),
      (status) => status === 200 || child.exitCode !== null,
      20_000,
      `docker-monitor serve on port ${port}`,
    );
    if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}: ${served.output}`);
    return served;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get output(): string {
    return this.text;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resident memory in MiB, from /proc. */
  rssMiB(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? Number.NaN) / 1024;
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; ms: number }> {
    const started = performance.now();
    const response = await fetch(`${this.url}${path}`, { headers, signal: AbortSignal.timeout(scaled(30_000)) });
    return { status: response.status, body: await response.text(), ms: performance.now() - started };
  }

  /** SIGTERM (or another signal) and the exit code, within `timeoutMs` (already scaled). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = scaled(15_000)): Promise<number | null> {
    if (!this.alive) return this.exit;
    this.child.kill(signal);
    const timer = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), timeoutMs).unref());
    const code = await Promise.race([this.exit, timer]);
    if (code === 'hung') {
      this.child.kill('SIGKILL');
      throw new Error(`serve did not exit within ${timeoutMs} ms of ${signal}: ${this.output.slice(-2000)}`);
    }
    return code;
  }
}

/** The value of one series in an exposition, or undefined. */
export function sample(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
