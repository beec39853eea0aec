/**
 * `npm run bench`: docker-monitor against the baselines it replaces, in one run on the local engine.
 * Creates labelled busybox containers (root, non-root, non-root with a root process from `docker exec -u 0`),
 * measures policy evaluation, the root-process scan (cnitch's sequential `top`, bounded-concurrency `top`,
 * /proc), the exporter's `/metrics` latency, event-to-metric latency and memory, then removes its containers.
 * First, on --startup-containers containers of their own: `check`'s start-up on Node.js 20, 22 and 24
 * (bench/startup.ts) and docker-bench-security's container-runtime section against `check` (bench/docker-bench.ts).
 * Last, the status pages' latency at --page-containers on a synthetic state (bench/status-page.ts).
 *
 *   npm run bench -- --sizes 50,200,500 --scrapes 1000 --starts 20 --runs 3 --startup-containers 60 --startup-runs 11
 *   npm run bench -- --page-containers 1000 --page-requests 300
 *   npm run bench -- --only series        the series count per --metrics.results mode alone
 *   npm run bench -- --only startup       memory at start, check's start-up and docker-bench-security alone
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DockerEngine } from '../src/engine/docker-engine.js';
import { DOCKER_HOST, ensureTestImage, requireEngine, TEST_IMAGE } from '../test/helpers/docker.js';
import { measureEvaluation } from './evaluation.js';
import { measureEventLatency, measureScrapes, ServeProcess } from './exporter.js';
import { Fleet } from './fleet.js';
import { measureProcessScan } from './process-scan.js';
import { measureStartupStage, startupTables, type StartupFigures } from './startup.js';
import { describeMachine, judgeTargets, sizeTable, targetTable, type ExporterFigures, type SizeFigures } from './report.js';
import { timed } from './stats.js';
import { measureStatusPage, statusPageTable } from './status-page.js';
import { measureSeries, seriesTable, startCompliant, type MeasuredSeries } from './series.js';

const root = join(import.meta.dirname, '..');
const CLI = join(root, 'dist/cli.js');
const CIS_POLICY = join(root, 'examples/cis.ini');
const TARGET_SIZE = 200;
/** Sizes of the series table that are projected from the measured ones when not measured. */
const SERIES_SIZES = [200, 1000];
/** Containers that pass examples/cis.ini, added to the fleet for the series table. */
const COMPLIANT_CONTAINERS = 10;

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '50,200' },
    scrapes: { type: 'string', default: '1000' },
    starts: { type: 'string', default: '20' },
    runs: { type: 'string', default: '3' },
    'startup-containers': { type: 'string', default: '60' },
    'startup-runs': { type: 'string', default: '11' },
    'docker-bench-runs': { type: 'string', default: '1' },
    'page-containers': { type: 'string', default: '1000' },
    'page-requests': { type: 'string', default: '300' },
    only: { type: 'string' },
  },
});
if (values.only !== undefined && values.only !== 'series' && values.only !== 'startup') {
  throw new Error(`--only: "${values.only}" is not series or startup`);
}
function positive(name: string, text: string, min = 1): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name}: "${text}" is not a whole number ≥ ${min}`);
  return value;
}
const options = {
  sizes: values.sizes
    .split(',')
    .map((size) => positive('sizes', size.trim()))
    .sort((a, b) => a - b),
  scrapes: positive('scrapes', values.scrapes),
  starts: positive('starts', values.starts),
  runs: positive('runs', values.runs),
  startupContainers: positive('startup-containers', values['startup-containers'], 0),
  startupRuns: positive('startup-runs', values['startup-runs']),
  dockerBenchRuns: positive('docker-bench-runs', values['docker-bench-runs'], 0),
  pageContainers: positive('page-containers', values['page-containers']),
  pageRequests: positive('page-requests', values['page-requests']),
};

const log = (message: string): void => {
  process.stderr.write(`[bench] ${message}\n`);
};

const runId = randomBytes(4).toString('hex');
const fleet = new Fleet(DOCKER_HOST, TEST_IMAGE, runId);
/** The start-up stage's containers: their own fleet, removed before the sizes' fleet grows. */
const startupFleet = new Fleet(DOCKER_HOST, TEST_IMAGE, `${runId}-startup`);
let serving: ServeProcess | undefined;
let interrupted = false;
let cleaning: Promise<void> | undefined;

/** Stops the exporter and removes this run's containers; every caller waits for the one clean-up. */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    await serving?.stop();
    const removed = (await startupFleet.close()) + (await fleet.close());
    log(`removed ${removed} containers labelled docker-monitor.bench=${runId}`);
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping and removing this run's containers`);
    void cleanUp().finally(() => process.exit(130));
  });
}

/** The policies to compare: the embedded default, and examples/cis.ini when it exists. */
function policies(notes: string[]): (string | undefined)[] {
  if (existsSync(CIS_POLICY)) return [undefined, CIS_POLICY];
  notes.push('examples/cis.ini is absent: its rows are skipped.');
  return [undefined];
}

async function measureExporter(configFile: string | undefined): Promise<ExporterFigures> {
  serving = await ServeProcess.start(CLI, configFile);
  try {
    const scrape = await measureScrapes(serving, options.scrapes);
    const events = await measureEventLatency(serving, fleet, options.starts);
    const memory = await serving.memory();
    return { policy: configFile ?? '<embedded default policy>', scrape, events, ...memory };
  } finally {
    await serving.stop();
    serving = undefined;
  }
}

const seriesBySize: MeasuredSeries[] = [];

async function measureSize(size: number): Promise<SizeFigures | undefined> {
  const grown = await timed(() => fleet.growTo(size));
  log(`${size} containers running (${Math.round(grown.ms / 1000)} s to start the new ones)`);
  if (existsSync(CIS_POLICY)) {
    if (seriesBySize.length === 0) await startCompliant(runId, COMPLIANT_CONTAINERS);
    seriesBySize.push({ size, figures: await measureSeries(CLI, CIS_POLICY) });
    log('counted the series of each --metrics.results mode');
  }
  if (values.only === 'series') return undefined;
  const notes: string[] = [];
  const files = policies(notes);
  const evaluations = [];
  for (const file of files) {
    evaluations.push(await measureEvaluation(file));
    log(`evaluated ${file ?? 'the default policy'}`);
  }
  const engine = new DockerEngine({ host: DOCKER_HOST, concurrency: 8, timeoutMs: 30_000 });
  const inspects = await Promise.all(fleet.members.map(({ id }) => engine.inspectContainer(id)));
  const processScan = await measureProcessScan(DOCKER_HOST, inspects, options.runs);
  log('measured the root-process scans');
  const exporters = [];
  for (const file of files) {
    exporters.push(await measureExporter(file));
    log(`measured the exporter with ${file ?? 'the default policy'}`);
  }
  return { containers: size, evaluations, processScan, exporters, notes };
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run bench" (it builds first)`);
  await requireEngine();
  await ensureTestImage();
  const startedAt = new Date();
  const machine = await describeMachine();
  log(`run ${runId} on ${machine.cores} × ${machine.cpu}, Docker ${machine.docker}; sizes ${options.sizes.join(', ')}`);
  const sizes: SizeFigures[] = [];
  let startup: StartupFigures | undefined;
  try {
    if (values.only !== 'series' && options.startupContainers > 0) {
      startup = await measureStartupStage({
        fleet: startupFleet,
        cli: CLI,
        configFile: CIS_POLICY,
        engineHost: DOCKER_HOST,
        ...options,
        log,
      });
    }
    for (const size of values.only === 'startup' ? [] : options.sizes) {
      const figures = await measureSize(size);
      if (figures !== undefined) sizes.push(figures);
    }
  } finally {
    await cleanUp();
  }
  // `--only series` measures that table alone.
  const statusPage = values.only === undefined ? await measureStatusPage(options.pageContainers, options.pageRequests) : undefined;
  if (statusPage !== undefined) log(`measured the status pages at ${options.pageContainers} containers (synthetic state)`);
  const atTarget = sizes.find((figures) => figures.containers === TARGET_SIZE);
  const targets = atTarget === undefined ? [] : judgeTargets(atTarget);
  const results = {
    runId,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine,
    options,
    sizes,
    startup,
    statusPage,
    targets,
    series: seriesBySize,
  };
  const folder = join(root, 'bench/results');
  await mkdir(folder, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  await writeFile(join(folder, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`), json);
  if (values.only === undefined) await writeFile(join(folder, 'latest.json'), json);
  const machineLine = `Machine: ${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Docker ${machine.docker}, Node ${machine.node}.`;
  const tables = sizes.map(sizeTable);
  if (startup !== undefined) tables.push(...startupTables(startup));
  if (statusPage !== undefined) tables.push(statusPageTable(statusPage));
  if (targets.length > 0) tables.push(targetTable(targets));
  if (seriesBySize.length > 0) tables.push(seriesTable(seriesBySize, SERIES_SIZES, 'examples/cis.ini'));
  process.stdout.write(`${machineLine}\n\n${tables.join('\n\n')}\n`);
}

// Exits explicitly: the engine clients keep their keep-alive sockets to dockerd open.
main().then(
  () => process.exit(0),
  async (error: unknown) => {
    // After a signal the measurements fail on purpose; the signal handler exits once clean.
    if (interrupted) return;
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await cleanUp();
    process.exit(1);
  },
);
