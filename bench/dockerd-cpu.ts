/**
 * dockerd's CPU time, from /proc/<pid>/stat (utime + stime, in clock ticks, converted with `getconf CLK_TCK`):
 * what one stretch of work cost the engine, minus what the engine spends anyway (its idle rate, from a
 * quiet window of its own, scaled to the same wall time). Other clients of the same engine show up in both.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { timed } from './stats.js';

const run = promisify(execFile);

/** The PID of the process listening on the unix socket `socketPath`: /proc/net/unix gives its inode, /proc/<pid>/fd the owner. */
async function socketOwner(socketPath: string): Promise<number> {
  const inodes = new Set(
    (await readFile('/proc/net/unix', 'utf8'))
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      // Num RefCount Protocol Flags Type St Inode Path; flag 00010000 is __SO_ACCEPTCON, a listening socket.
      .filter((fields) => fields[7] === socketPath && fields[3] === '00010000')
      .map((fields) => fields[6]),
  );
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fds = await readdir(`/proc/${entry}/fd`).catch(() => []);
    for (const fd of fds) {
      const target = await readlink(`/proc/${entry}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined && inodes.has(inode)) return Number(entry);
    }
  }
  throw new Error(`no process here listens on ${socketPath}: dockerd's CPU time cannot be read`);
}

export class DockerdCpu {
  private constructor(
    readonly pid: number,
    readonly ticksPerSecond: number,
  ) {}

  /** The engine behind `host` (a `unix://` address on this machine). */
  static async find(host: string): Promise<DockerdCpu> {
    if (!host.startsWith('unix://')) throw new Error(`${host} is not a local unix socket: dockerd's CPU time cannot be read`);
    const pid = await socketOwner(host.slice('unix://'.length));
    const ticks = Number((await run('getconf', ['CLK_TCK'])).stdout.trim());
    if (!Number.isInteger(ticks) || ticks <= 0) throw new Error(`getconf CLK_TCK answered "${ticks}"`);
    return new DockerdCpu(pid, ticks);
  }

  /** utime + stime so far, in milliseconds. */
  async cpuMs(): Promise<number> {
    const stat = await readFile(`/proc/${this.pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces, inside parentheses): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / this.ticksPerSecond;
  }

  /** CPU milliseconds per wall second over a quiet window of `seconds`. */
  async idleRate(seconds: number): Promise<number> {
    const before = await this.cpuMs();
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    return ((await this.cpuMs()) - before) / ((performance.now() - started) / 1000);
  }

  /** `work`'s result, with dockerd's CPU milliseconds over it, raw and minus the idle rate over the same wall time. */
  async during<T>(idleRate: number, work: () => Promise<T>): Promise<{ value: T; wallMs: number; cpuMs: number; cpuAboveIdleMs: number }> {
    const before = await this.cpuMs();
    const { ms, value } = await timed(work);
    const cpuMs = (await this.cpuMs()) - before;
    return { value, wallMs: ms, cpuMs, cpuAboveIdleMs: cpuMs - (idleRate * ms) / 1000 };
  }
}
