/**
 * The status page at fleet size, on a **synthetic** state: the containers of the captured-fixture run
 * (test/helpers/check-run-fixture.ts: real chain, captured containers, one waived result) copied to N
 * with distinct names and IDs. The real app (`buildApp`) serves it on 127.0.0.1 and is asked over one
 * keep-alive connection by Node's fetch, which accepts gzip as browsers and Prometheus do; `/metrics`
 * over the same state in the same run is the baseline. No engine is involved: the pages never call one.
 *
 *   node --import tsx bench/status-page.ts --containers 1000 --requests 300
 */
import type { AddressInfo } from 'node:net';
import type { Monitor, MonitorState } from '../src/monitor.js';
import { createEventCounters } from '../src/event-counters.js';
import { buildApp } from '../src/exporter/app.js';
import { createMetrics } from '../src/exporter/metrics.js';
import type { ContainerReport } from '../src/policy/types.js';
import { fixtureCheckRun } from '../test/helpers/check-run-fixture.js';
import { percentile, round } from './stats.js';

export interface PageFigures {
  containers: number;
  requests: number;
  /** Per path: p50 and p99 in ms, and the body size in bytes. */
  paths: { path: string; label: string; p50Ms: number; p99Ms: number; bytes: number }[];
}

/** N reports made from the fixture run's, each with its own name and ID. */
async function syntheticState(size: number): Promise<MonitorState> {
  const run = await fixtureCheckRun();
  const containers = new Map<string, ContainerReport>();
  for (let index = 0; index < size; index += 1) {
    const model = run.containers[index % run.containers.length] as ContainerReport;
    const id = index.toString(16).padStart(64, '0');
    containers.set(id, { ...model, id, name: `${model.name}-${index}` });
  }
  return { containers, host: run.host, up: true, lastRefreshTimestamp: Date.now() / 1000, refreshDuration: 0.5 };
}

export async function measureStatusPage(size: number, requests: number): Promise<PageFigures> {
  const run = await fixtureCheckRun();
  const state = await syntheticState(size);
  // Stands in for the monitor: the pages and /metrics only read its state.
  const monitor = { state, ready: true, errorCounts: new Map<string, number>(), forScrape: async () => state } as unknown as Monitor;
  const metrics = createMetrics({
    monitor,
    checks: run.checks,
    counters: createEventCounters(),
    refresh: 3_600_000,
  });
  const app = await buildApp({ monitor, metrics, telemetryPath: '/metrics', checks: run.checks });
  const paths = [
    { path: '/metrics', label: '`/metrics` (baseline)' },
    { path: '/', label: 'status page `/`, every container' },
    { path: '/?verdict=fail&severity=high', label: 'status page `/?verdict=fail&severity=high`' },
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
      for (let request = 0; request < requests; request += 1) {
        const started = performance.now();
        bytes = await get(path);
        samples.push(performance.now() - started);
      }
      figures.push({ path, label, p50Ms: round(percentile(samples, 50), 2), p99Ms: round(percentile(samples, 99), 2), bytes });
    }
  } finally {
    await app.close();
  }
  return { containers: size, requests, paths: figures };
}

/** The figures as a Markdown table, each path against `/metrics` of the same run. */
export function statusPageTable(figures: PageFigures): string {
  const baseline = figures.paths[0];
  const rows = figures.paths.map(({ label, p50Ms, p99Ms, bytes }, index) => [
    `${label}, p50 / p99 (${figures.requests} requests, ${Math.round(bytes / 1024)} KiB before gzip)`,
    `${p50Ms} ms / ${p99Ms} ms`,
    index === 0 || baseline === undefined ? 'baseline' : `${baseline.p99Ms} ms`,
    index === 0 || baseline === undefined ? '1×' : `${round(p99Ms / baseline.p99Ms, 1)}× the p99`,
  ]);
  return [
    `| status pages, ${figures.containers} containers (synthetic state) | measured | \`/metrics\` p99, same state | ratio |`,
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
