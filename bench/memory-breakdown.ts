/**
 * Where the exporter's bytes are at fleet size: the production wiring (`createRuntime`) evaluates every
 * running container, and `/metrics` is rendered plain and gzipped from the reports, as `serve` holds them.
 * Then each part is let go in turn, the garbage collected, and the V8 heap plus external memory (Buffers)
 * read again: what a part retains is how much the figure drops when it goes. The parts, last made first
 * let go: the exposition (rendered text, its gzip blocks, per-group pieces), the reports (verdicts, label
 * strings, check data), and the runtime (engine cache: container inspect data, image data, process lists;
 * the evaluator's memo; the checks).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createEventCounters } from '../src/event-counters.js';
import { createMetrics, type Exposition } from '../src/exporter/metrics.js';
import type { MonitorState } from '../src/core/monitor.js';
import { createRuntime, type Runtime } from '../src/runtime.js';
import { fleetMonitor } from '../test/helpers/cis-fleet.js';

export interface MemoryBreakdown {
  containers: number;
  /** Bytes retained by each part (heap used + external), in the order let go. */
  exposition: number;
  reports: number;
  runtime: number;
  /** Bytes of the plain exposition, for scale. */
  exposedBytes: number;
}

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

function retained(): number {
  collect();
  collect();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

/** The state `serve` would hold after its first refresh (in a function of its own: nothing else keeps the evaluation). */
async function evaluatedState(runtime: Runtime): Promise<MonitorState> {
  const evaluation = await runtime.evaluator.evaluateAll();
  return {
    containers: new Map(evaluation.containers.map((report) => [report.id, report])),
    host: evaluation.host,
    up: true,
    lastRefreshTimestamp: Date.now() / 1000,
    refreshDuration: 0,
  };
}

export async function measureMemoryBreakdown(configFile: string): Promise<MemoryBreakdown> {
  // Held in one object so that each part can be let go on its own.
  const held: { runtime?: Runtime; state?: MonitorState; metrics?: Exposition } = {};
  const before = retained();
  held.runtime = await createRuntime({ 'log.level': 'error', configFile });
  held.state = await evaluatedState(held.runtime);
  held.metrics = createMetrics({
    monitor: fleetMonitor(held.state),
    checks: held.runtime.evaluator.checks,
    refresh: held.runtime.settings.refresh,
    counters: createEventCounters(),
  });
  const plain = await held.metrics.render({ openMetrics: false, gzip: false });
  await held.metrics.render({ openMetrics: false, gzip: true });
  const exposedBytes = plain.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const containers = held.state.containers.size;
  const all = retained();
  delete held.metrics;
  const withoutExposition = retained();
  delete held.state;
  const withoutReports = retained();
  delete held.runtime;
  const after = retained();
  return {
    containers,
    exposition: all - withoutExposition,
    reports: withoutExposition - withoutReports,
    runtime: withoutReports - Math.max(before, after),
    exposedBytes,
  };
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

export function memoryBreakdownTable(figures: MemoryBreakdown): string {
  return [
    `| where the bytes are, ${figures.containers} containers, examples/cis.ini, \`--metrics.results all\` | V8 heap + external, retained (each part let go in turn) |`,
    '|---|---|',
    `| \`/metrics\`: rendered text (${mb(figures.exposedBytes)} plain), gzip blocks, per-group pieces | ${mb(figures.exposition)} |`,
    `| reports: verdicts, names and labels, check data | ${mb(figures.reports)} |`,
    `| runtime: engine cache (inspect data, images, process lists), evaluator memo, checks | ${mb(figures.runtime)} |`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${memoryBreakdownTable(await measureMemoryBreakdown(process.argv[2] ?? 'examples/cis.ini'))}\n`);
}
