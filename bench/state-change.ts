/**
 * What one container's new verdict costs `/metrics`: on a **synthetic** state (the real chain under
 * examples/cis.ini on every container captured from real engines, copied to N, test/helpers/cis-fleet.ts),
 * one container's report is replaced by a changed one and the next exposition is rendered, plain and
 * gzipped, in process. The same is done with the baseline build's metrics module (`--baseline-cli`'s
 * dist/exporter/metrics.js) in the same run. A cost flat in N is the per-container exposition at work.
 *
 *   node --import tsx bench/state-change.ts --sizes 200,1000 --changes 50 [--baseline-cli /tmp/old/dist/cli.js]
 */
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createEventCounters } from '../src/event-counters.js';
import { createMetrics } from '../src/exporter/metrics.js';
import type { MonitorState } from '../src/core/monitor.js';
import type { ContainerReport } from '../src/policy/types.js';
import { cisFleet, fleetMonitor } from '../test/helpers/cis-fleet.js';
import type { Target } from './report.js';
import { percentile, round } from './stats.js';

type CreateMetrics = typeof createMetrics;

export interface StateChangeFigures {
  containers: number;
  changes: number;
  build: 'this build' | 'baseline build';
  /** One container changed → the next body, plain and gzip (p50 and p99 of `changes`). */
  plain: { p50Ms: number; p99Ms: number };
  gzip: { p50Ms: number; p99Ms: number };
}

async function measureOne(create: CreateMetrics, size: number, changes: number): Promise<Omit<StateChangeFigures, 'build'>> {
  const { state, checks } = await cisFleet(size);
  const monitor = fleetMonitor(state);
  const metrics = create({ monitor, checks, counters: createEventCounters(), refresh: 3_600_000 });
  const current = monitor.state as MonitorState & { containers: ReadonlyMap<string, ContainerReport> };
  const render = async (gzip: boolean): Promise<void> => {
    await metrics.render({ openMetrics: false, gzip });
  };
  await render(false);
  await render(true);
  const ids = [...current.containers.keys()];
  const samples = { plain: [] as number[], gzip: [] as number[] };
  for (let change = 0; change < changes; change += 1) {
    for (const gzip of [false, true]) {
      // As an event does: a new map, one container's report a new object with another verdict.
      const id = ids[(change * 37) % ids.length] as string;
      const containers = new Map(current.containers);
      const report = containers.get(id) as ContainerReport;
      containers.set(id, { ...report, compliant: !report.compliant });
      (current as { containers: ReadonlyMap<string, ContainerReport> }).containers = containers;
      const started = performance.now();
      await render(gzip);
      (gzip ? samples.gzip : samples.plain).push(performance.now() - started);
    }
  }
  const figures = (values: number[]) => ({ p50Ms: round(percentile(values, 50), 2), p99Ms: round(percentile(values, 99), 2) });
  return { containers: size, changes, plain: figures(samples.plain), gzip: figures(samples.gzip) };
}

/** Each size with this build, and with the baseline build's metrics module when one is given. */
export async function measureStateChange(sizes: readonly number[], changes: number, baselineCli?: string): Promise<StateChangeFigures[]> {
  const builds: [StateChangeFigures['build'], CreateMetrics][] = [['this build', createMetrics]];
  if (baselineCli !== undefined) {
    const module = (await import(pathToFileURL(join(dirname(baselineCli), 'exporter/metrics.js')).href)) as {
      createMetrics: CreateMetrics;
    };
    builds.push(['baseline build', module.createMetrics]);
  }
  const figures: StateChangeFigures[] = [];
  for (const size of sizes) {
    for (const [build, create] of builds) figures.push({ build, ...(await measureOne(create, size, changes)) });
  }
  return figures;
}

/** A state change's cost flat in fleet size: this build's gzip p50 at the largest size against the smallest. */
export function judgeStateChange(figures: readonly StateChangeFigures[]): Target[] {
  const ours = figures.filter((f) => f.build === 'this build').sort((a, b) => a.containers - b.containers);
  const [small, large] = [ours[0], ours.at(-1)];
  if (small === undefined || large === undefined || small === large) return [];
  const growth = large.gzip.p50Ms / small.gzip.p50Ms;
  return [
    {
      name: `one container changed → next gzip body, p50 at ${large.containers} against ${small.containers} containers (flat in fleet size)`,
      target: '≤ 2×',
      measured: `${large.gzip.p50Ms} ms against ${small.gzip.p50Ms} ms: ${round(growth, 2)}×`,
      met: growth <= 2,
    },
  ];
}

export function stateChangeTable(figures: readonly StateChangeFigures[]): string {
  return [
    '| one container changed → next `/metrics` body (in process, synthetic cis.ini state) | containers | plain p50 / p99 | gzip p50 / p99 |',
    '|---|---|---|---|',
    ...figures.map(
      (f) =>
        `| ${f.build} (${f.changes} changes) | ${f.containers} | ${f.plain.p50Ms} ms / ${f.plain.p99Ms} ms | ${f.gzip.p50Ms} ms / ${f.gzip.p99Ms} ms |`,
    ),
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '200,1000' },
      changes: { type: 'string', default: '50' },
      'baseline-cli': { type: 'string' },
    },
  });
  const sizes = values.sizes.split(',').map(Number);
  process.stdout.write(`${stateChangeTable(await measureStateChange(sizes, Number(values.changes), values['baseline-cli']))}\n`);
}
