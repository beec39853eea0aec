/**
 * `check --compose` on a 50-service file as a whole process, as a CI job runs it (no engine reachable),
 * beside `node -e 0` on the same Node.js: the target is no slower than `node -e 0` plus 0.25 s.
 * Part of `npm run bench` (`--only compose` runs it alone); also runnable by itself:
 *
 *   npm run build && node --import tsx bench/compose-check.ts [runs]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median, round } from './stats.js';

export interface ComposeCheckFigures {
  services: number;
  runs: number;
  /** Median milliseconds of `node -e 0`. */
  bareNodeMs: number;
  /** Median milliseconds of the whole `check --compose -f examples/cis.ini --format sarif`. */
  composeCheckMs: number;
  /** Median CPU milliseconds (user + system) of `node -e 0` and of the check: what the machine's other load does not inflate. */
  bareNodeCpuMs: number;
  composeCheckCpuMs: number;
  /** The target: `node -e 0` plus 250 ms. */
  targetMs: number;
  met: boolean;
}

const SERVICES = 50;
const TARGET_OVER_NODE_MS = 250;

/** A compose file of `count` services, each setting the keys the checks read, half of them failing. */
export function composeFile(count: number): string {
  const lines = ['services:'];
  for (let index = 0; index < count; index += 1) {
    const bad = index % 2 === 0;
    lines.push(
      `  svc${index}:`,
      `    image: registry.example/app${index}:1.${index}`,
      `    user: "${bad ? 'root' : '1000:1000'}"`,
      `    read_only: ${bad ? 'false' : 'true'}`,
      `    mem_limit: ${bad ? 0 : '256m'}`,
      `    cpus: 0.5`,
      `    pids_limit: 100`,
      `    security_opt: ["no-new-privileges:${bad ? 'false' : 'true'}"]`,
      `    cap_add: [${bad ? 'SYS_ADMIN' : 'CHOWN'}]`,
      `    ports: ["${bad ? '' : '127.0.0.1:'}${8000 + index}:80"]`,
      `    volumes: ["${bad ? '/etc:/host-etc' : './data:/data:ro'}"]`,
      `    restart: ${bad ? 'always' : '"on-failure:3"'}`,
      `    healthcheck: { test: ["CMD", "true"] }`,
      `    labels: { team: team${index % 5} }`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Linux's clock ticks per second (USER_HZ), the unit of /proc's CPU times. */
const TICKS_PER_SECOND = 100;

/** CPU milliseconds of this process's finished children so far (/proc/self/stat `cutime` + `cstime`). */
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  // After the command name: state is field 3, cutime 16 and cstime 17 (proc(5)).
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / TICKS_PER_SECOND;
}

function timedRun(binary: string, args: readonly string[]): { ms: number; cpuMs: number } {
  const cpuBefore = childrenCpuMs();
  const started = performance.now();
  const { status, stderr } = spawnSync(binary, [...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - started;
  if (status !== 0 && status !== 1) throw new Error(`${binary} ${args.join(' ')} exited ${status}: ${String(stderr).slice(0, 500)}`);
  return { ms, cpuMs: childrenCpuMs() - cpuBefore };
}

export async function measureComposeCheck(cli: string, policy: string, runs: number): Promise<ComposeCheckFigures> {
  const folder = await mkdtemp(join(tmpdir(), 'dm-bench-compose-'));
  try {
    const file = join(folder, 'compose.yaml');
    await writeFile(file, composeFile(SERVICES));
    const args = [cli, 'check', '-f', policy, '--compose', file, '--format', 'sarif', '--docker.host', `unix://${folder}/no-engine.sock`];
    // One untimed run of each fills the compile cache and the page cache.
    timedRun(process.execPath, ['-e', '0']);
    timedRun(process.execPath, args);
    const bare: { ms: number; cpuMs: number }[] = [];
    const whole: { ms: number; cpuMs: number }[] = [];
    for (let run = 0; run < runs; run += 1) {
      bare.push(timedRun(process.execPath, ['-e', '0']));
      whole.push(timedRun(process.execPath, args));
    }
    const bareNodeMs = round(median(bare.map(({ ms }) => ms)));
    const composeCheckMs = round(median(whole.map(({ ms }) => ms)));
    const targetMs = round(bareNodeMs + TARGET_OVER_NODE_MS);
    return {
      services: SERVICES,
      runs,
      bareNodeMs,
      composeCheckMs,
      bareNodeCpuMs: round(median(bare.map(({ cpuMs }) => cpuMs))),
      composeCheckCpuMs: round(median(whole.map(({ cpuMs }) => cpuMs))),
      targetMs,
      met: composeCheckMs <= targetMs,
    };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

export function composeCheckTable(figures: ComposeCheckFigures): string {
  return [
    `check --compose, ${figures.services} services, whole process on Node.js ${process.version} (median of ${figures.runs}; no engine, as in CI; load average ${loadavg()[0]?.toFixed(1)})`,
    '| measure | wall ms | CPU ms |',
    '|---|---|---|',
    `| node -e 0 | ${figures.bareNodeMs} | ${figures.bareNodeCpuMs} |`,
    `| check --compose -f examples/cis.ini --format sarif | ${figures.composeCheckMs} | ${figures.composeCheckCpuMs} |`,
    `| target: node -e 0 + ${TARGET_OVER_NODE_MS} ms | ${figures.targetMs} (${figures.met ? 'met' : 'NOT met'}) | |`,
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = join(import.meta.dirname, '..');
  const runs = Number(process.argv[2] ?? 11);
  const figures = await measureComposeCheck(join(root, 'dist/cli.js'), join(root, 'examples/cis.ini'), runs);
  process.stdout.write(`${composeCheckTable(figures)}\n`);
}
