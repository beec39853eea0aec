/**
 * The status page at fleet size, on a **synthetic** state: the real chain under examples/cis.ini run on
 * every container captured from real engines (test/helpers/cis-fleet.ts, 40 cases, 47 checks), the
 * reports copied to N with distinct names and IDs. The real app (`buildApp`) serves it on 127.0.0.1 and is asked over one
 * keep-alive connection by Node's fetch, which accepts gzip as browsers and Prometheus do; `/metrics`
 * over the same state in the same run is the baseline. No engine is involved: the pages never call one.
 *
 *   node --import tsx bench/status-page.ts --containers 1000 --requests 300
 */
import type { AddressInfo } from 'node:net';
import { createEventCounters } from '../src/event-counters.js';
import { buildApp } from '../src/exporter/app.js';
import { createMetrics } from '../src/exporter/metrics.js';
import { cisFleet, fleetMonitor } from '../test/helpers/cis-fleet.js';
import { percentile, round } from './stats.js';

export interface PageFigures {
  containers: number;
  requests: number;
  /**
   * Per path: p50 and p99 in ms, the body size in bytes, and the CPU time per request of this process
   * (server and client both): unlike the latencies, it hardly moves with the machine's load.
   */
  paths: { path: string; label: string; p50Ms: number; p99Ms: number; bytes: number; cpuMs: number }[];
}

export async function measureStatusPage(size: number, requests: number): Promise<PageFigures> {
  const { state, checks } = await cisFleet(size);
  const monitor = fleetMonitor(state);
  const metrics = createMetrics({ monitor, checks, counters: createEventCounters(), refresh: 3_600_000 });
  const app = await buildApp({ monitor, metrics, telemetryPath: '/metrics', checks, grafanaUrl: 'http://grafana:3000' });
  const paths = [
    { path: '/metrics', label: '`/metrics` (baseline)' },
    { path: '/', label: 'status page `/`: overview, host checks, the first 50 containers' },
    { path: '/?verdict=fail&severity=high', label: 'status page `/?verdict=fail&severity=high`' },
    { path: '/?check=RunningAsRootCheck&verdict=fail', label: "a check's view `/?check=RunningAsRootCheck&verdict=fail`" },
    { path: '/?q=privileged&sort=name', label: 'a search `/?q=privileged&sort=name`' },
    { path: `/containers/${[...state.containers.values()].at(-1)?.name ?? ''}`, label: '`/containers/NAME` (the last of the list)' },
  ];
  const figures: PageFigures['paths'] = [];
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  /** One request, read to the end; the body's size in bytes. */
  const get = async (path: string): Promise<number> => {
    const response = await fetch(base + path);
    const body = await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
    return body.byteLength;
  };
  try {
    for (const { path, label } of paths) {
      let bytes = 0;
      // Warm-up: the first requests compile the routes and fill /metrics' per-state text.
      for (let warm = 0; warm < 20; warm += 1) await get(path);
      const samples: number[] = [];
      const cpu = process.cpuUsage();
      for (let request = 0; request < requests; request += 1) {
        const started = performance.now();
        bytes = await get(path);
        samples.push(performance.now() - started);
      }
      const { user, system } = process.cpuUsage(cpu);
      figures.push({
        path,
        label,
        p50Ms: round(percentile(samples, 50), 2),
        p99Ms: round(percentile(samples, 99), 2),
        bytes,
        cpuMs: round((user + system) / 1000 / requests, 2),
      });
    }
  } finally {
    await app.close();
  }
  return { containers: size, requests, paths: figures };
}

/** The figures as a Markdown table, each path against `/metrics` of the same run: CPU per request, p50, p99. */
export function statusPageTable(figures: PageFigures): string {
  const baseline = figures.paths[0];
  const ratio = (value: number, base: number | undefined): string => (base === undefined ? '' : `${round(value / base, 2)}×`);
  const rows = figures.paths.map(({ label, p50Ms, p99Ms, bytes, cpuMs }, index) => [
    `${label} (${Math.round(bytes / 1024)} KiB before gzip)`,
    `${cpuMs} ms`,
    `${p50Ms} ms / ${p99Ms} ms`,
    index === 0 ? 'baseline' : `${ratio(cpuMs, baseline?.cpuMs)} / ${ratio(p50Ms, baseline?.p50Ms)} / ${ratio(p99Ms, baseline?.p99Ms)}`,
  ]);
  return [
    `| status pages, ${figures.containers} containers under examples/cis.ini (synthetic state), ${figures.requests} requests each | CPU per request | p50 / p99 | against \`/metrics\`: CPU / p50 / p99 |`,
    '|---|---|---|---|',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({
    options: { containers: { type: 'string', default: '1000' }, requests: { type: 'string', default: '300' } },
  });
  process.stdout.write(`${statusPageTable(await measureStatusPage(Number(values.containers), Number(values.requests)))}\n`);
}
