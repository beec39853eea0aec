import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RESULTS_MODES, type ResultsMode } from '../src/exporter/metrics.js';
import { TEST_IMAGE, docker } from '../test/helpers/docker.js';
import { seriesLines } from '../test/helpers/exporter.js';
import { ServeProcess } from './exporter.js';
import { BENCH_LABEL } from './fleet.js';

/** An image that passes every image check of examples/cis.ini: a USER, a HEALTHCHECK, a version tag. */
const COMPLIANT_IMAGE = 'docker-monitor-bench/compliant:1';
/** `docker run` settings that pass every container check of examples/cis.ini on this engine. */
const COMPLIANT_RUN = [
  '--read-only',
  '--memory',
  '16m',
  '--cpu-shares',
  '512',
  '--pids-limit',
  '16',
  '--security-opt',
  'no-new-privileges',
  '--network',
  'none',
  '--restart',
  'on-failure:3',
  '--cap-drop',
  'ALL',
  '--health-interval',
  '30s',
];

/**
 * Adds `count` containers that comply with examples/cis.ini, labelled with the run's ID so the fleet's
 * clean-up removes them, so the table can show what a compliant container costs in each mode.
 */
export async function startCompliant(runId: string, count: number): Promise<void> {
  const context = await mkdtemp(join(tmpdir(), 'dm-bench-compliant-'));
  try {
    await writeFile(join(context, 'Dockerfile'), `FROM ${TEST_IMAGE}\nHEALTHCHECK CMD true\nUSER 1000\n`);
    await docker(['build', '-q', '-t', COMPLIANT_IMAGE, context], { ...process.env, DOCKER_BUILDKIT: '0' });
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  for (let index = 0; index < count; index += 1) {
    await docker([
      'run',
      '-d',
      '--name',
      `dm-bench-${runId}-compliant-${index}`,
      '--label',
      `${BENCH_LABEL}=${runId}`,
      ...COMPLIANT_RUN,
      COMPLIANT_IMAGE,
      'sleep',
      '100000',
    ]);
  }
}

/** The series one exporter exports in one `--metrics.results` mode, from one real scrape. */
export interface SeriesFigures {
  mode: ResultsMode;
  /** Containers in the exposition (the benchmark's and any other on the engine). */
  containers: number;
  compliantContainers: number;
  /** Every `docker_monitor_*` sample. */
  series: number;
  /** `docker_monitor_*` samples without a `container` label: per check, per waiver, per exporter. */
  fixed: number;
  /** Samples per compliant container (the largest), undefined when none is compliant. */
  perCompliant: number | undefined;
  /** Samples per failing container, on average. */
  perFailing: number | undefined;
  /** The body's bytes on the wire, plain and with `Accept-Encoding: gzip`. */
  bytes: number;
  gzipBytes: number;
}

/** Starts the exporter in each mode on the running fleet and counts what one scrape holds. */
export async function measureSeries(cli: string, configFile: string): Promise<SeriesFigures[]> {
  const figures: SeriesFigures[] = [];
  for (const mode of RESULTS_MODES) {
    const serving = await ServeProcess.start(cli, configFile, ['--metrics.results', mode]);
    try {
      const body = await serving.scrapeBytes();
      const gzipBytes = (await serving.scrapeBytes(true)).byteLength;
      const lines = seriesLines(body.toString('utf8')).filter((line) => line.startsWith('docker_monitor_'));
      const compliance = new Map<string, boolean>();
      for (const line of lines) {
        const match = /^docker_monitor_container_compliant\{container="([^"]+)"\} ([01])$/.exec(line);
        if (match?.[1] !== undefined) compliance.set(match[1], match[2] === '1');
      }
      const perContainer = new Map<string, number>();
      for (const line of lines) {
        const container = /[{,]container="([^"]+)"/.exec(line)?.[1];
        if (container !== undefined) perContainer.set(container, (perContainer.get(container) ?? 0) + 1);
      }
      const counts = (compliant: boolean) =>
        [...perContainer].filter(([name]) => compliance.get(name) === compliant).map(([, count]) => count);
      const compliantCounts = counts(true);
      const failingCounts = counts(false);
      figures.push({
        mode,
        containers: compliance.size,
        compliantContainers: compliantCounts.length,
        series: lines.length,
        fixed: lines.length - [...perContainer.values()].reduce((sum, count) => sum + count, 0),
        perCompliant: compliantCounts.length === 0 ? undefined : Math.max(...compliantCounts),
        perFailing: failingCounts.length === 0 ? undefined : failingCounts.reduce((sum, count) => sum + count, 0) / failingCounts.length,
        bytes: body.byteLength,
        gzipBytes,
      });
    } finally {
      await serving.stop();
    }
  }
  return figures;
}

export interface MeasuredSeries {
  size: number;
  figures: SeriesFigures[];
}

/**
 * The series count per mode at each measured size, and at `projected` sizes from a straight line
 * through the two largest measurements (fixed part + series per container): labelled as projected.
 */
export function seriesTable(measured: readonly MeasuredSeries[], projected: readonly number[], policy: string): string {
  const rows: string[][] = [];
  for (const { size, figures } of measured) {
    for (const figure of figures) {
      rows.push([
        `${size} (measured, ${figure.containers} in the exposition)`,
        `\`${figure.mode}\``,
        String(figure.series),
        String(figure.fixed),
        figure.perCompliant === undefined ? `— (none of ${figure.containers} compliant)` : String(figure.perCompliant),
        figure.perFailing === undefined ? '—' : String(Math.round(figure.perFailing * 10) / 10),
        `${Math.round(figure.bytes / 1000)} kB / ${Math.round(figure.gzipBytes / 1000)} kB`,
      ]);
    }
  }
  const [lower, upper] = [...measured].sort((a, b) => a.size - b.size).slice(-2);
  const notes: string[] = [];
  const unmeasured = projected.filter((candidate) => !measured.some((entry) => entry.size === candidate));
  if (lower !== undefined && upper !== undefined && upper.size > lower.size && unmeasured.length > 0) {
    for (const size of unmeasured) {
      for (const figure of upper.figures) {
        const before = lower.figures.find((candidate) => candidate.mode === figure.mode);
        if (before === undefined) continue;
        const perContainer = (figure.series - before.series) / (figure.containers - before.containers);
        const series = Math.round(figure.series + perContainer * (size - figure.containers));
        rows.push([`${size} (projected)`, `\`${figure.mode}\``, `≈ ${series}`, String(figure.fixed), '', '', '']);
      }
    }
    notes.push(
      `Projected rows: not measured. The series count grows by the same number per container (the fleet's mix of kinds is fixed), so it is ${upper.size}'s measured count plus the per-container growth measured between ${lower.size} and ${upper.size} containers.`,
    );
  }
  notes.push(
    "Every row is one real scrape of `docker-monitor serve -f examples/cis.ini --metrics.results MODE` over real containers: the benchmark's (root, non-root, non-root with a root exec; each fails some CIS checks) plus 10 that comply with examples/cis.ini, and whatever else runs on the engine.",
  );
  return [
    `| containers, ${policy} | \`--metrics.results\` | \`docker_monitor_*\` series | without a container label | per compliant container | per failing container (mean) | body, plain / gzip |`,
    '|---|---|---|---|---|---|---|',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    ...notes.map((note) => `\n_${note}_`),
  ].join('\n');
}
