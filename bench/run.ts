/**
 * `npm run bench`: docker-monitor against the baselines it replaces, in one run on the local engine.
 * Creates labelled busybox containers (root, non-root, non-root with a root process from `docker exec -u 0`),
 * measures policy evaluation, the root-process scan (cnitch's sequential `top`, bounded-concurrency `top`,
 * /proc), and the exporter in each refresh mode (bench/scrape-modes.ts: `/metrics` latency plain and gzip,
 * engine calls and dockerd CPU per scrape, event-to-metric latency, memory), then removes its containers.
 * First, on --startup-containers containers of their own: `check`'s start-up on Node.js 20, 22 and 24
 * (bench/startup.ts) and docker-bench-security's container-runtime section against `check` (bench/docker-bench.ts).
 * Last, the status pages' latency at --page-containers on a synthetic state (bench/status-page.ts), and what
 * one container's new verdict costs the next /metrics body at 200 and 1 000 containers (bench/state-change.ts).
 *
 *   npm run bench -- --sizes 50,200,1000 --scrapes 1000 --scrape-mode-scrapes 200 --loop-seconds 60 --starts 20
 *   npm run bench -- --count-scrapes 20 --idle-seconds 10 --cached-refresh 30s --baseline-cli /tmp/old/dist/cli.js
 *   npm run bench -- --burst 100         containers started at once per mode with examples/cis.ini (0: none)
 *   npm run bench -- --runs 3 --create-concurrency 8 --startup-containers 60 --startup-runs 11
 *   npm run bench -- --page-containers 1000 --page-requests 300
 *   npm run bench -- --only series        the series count per --metrics.results mode alone
 *   npm run bench -- --only startup       memory at start, check's start-up and docker-bench-security alone
 *   npm run bench -- --only compose       check --compose on a 50-service file beside node -e 0 alone (bench/compose-check.ts)
 *   npm run bench -- --only process-scan  the root-process scans at --sizes alone (bench/process-scan.ts)
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DockerEngine } from '../src/engine/docker-engine.js';
import type { ContainerInspect } from '../src/engine/types.js';
import { DOCKER_HOST, ensureTestImage, requireEngine, TEST_IMAGE } from '../test/helpers/docker.js';
import { measureEvaluation } from './evaluation.js';
import { measureMemoryBreakdown, memoryBreakdownTable } from './memory-breakdown.js';
import { DockerdCpu } from './dockerd-cpu.js';
import { ServeProcess } from './exporter.js';
import { Fleet, type Progress } from './fleet.js';
import { measureProcessScan } from './process-scan.js';
import { measureStartupStage, startupTables, type StartupFigures } from './startup.js';
import { composeCheckTable, measureComposeCheck, type ComposeCheckFigures } from './compose-check.js';
import { describeMachine, judgeTargets, sizeTable, targetTable, type SizeFigures } from './report.js';
import { growthTables, judgeScaleTargets, modeTable } from './scale-report.js';
import { measureModes, modeSpecs, type ScrapeModeOptions } from './scrape-modes.js';
import { round, timed } from './stats.js';
import { measureStatusPage, statusPageTable } from './status-page.js';
import { judgeStateChange, measureStateChange, stateChangeTable } from './state-change.js';
import { measureSeries, seriesTable, startCompliant, type MeasuredSeries } from './series.js';

const root = join(import.meta.dirname, '..');
const CLI = join(root, 'dist/cli.js');
const CIS_POLICY = join(root, 'examples/cis.ini');
const TARGET_SIZE = 200;
/** Sizes of the series table that are projected from the measured ones when not measured. */
const SERIES_SIZES = [200, 1000];
/** Containers that pass examples/cis.ini, added to the fleet for the series table. */
const COMPLIANT_CONTAINERS = 10;
/** The synthetic fleets one container's state change is timed on. */
const STATE_CHANGE_SIZES = [200, 1000];

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '50,200,1000' },
    scrapes: { type: 'string', default: '1000' },
    'scrape-mode-scrapes': { type: 'string', default: '200' },
    'loop-seconds': { type: 'string', default: '60' },
    'count-scrapes': { type: 'string', default: '20' },
    'idle-seconds': { type: 'string', default: '10' },
    'cached-refresh': { type: 'string', default: '30s' },
    'baseline-cli': { type: 'string' },
    'create-concurrency': { type: 'string', default: '8' },
    starts: { type: 'string', default: '20' },
    burst: { type: 'string', default: '100' },
    runs: { type: 'string', default: '3' },
    'startup-containers': { type: 'string', default: '60' },
    'startup-runs': { type: 'string', default: '11' },
    'docker-bench-runs': { type: 'string', default: '1' },
    'page-containers': { type: 'string', default: '1000' },
    'page-requests': { type: 'string', default: '300' },
    only: { type: 'string' },
  },
});
const ONLY = ['series', 'startup', 'compose', 'process-scan'];
if (values.only !== undefined && !ONLY.includes(values.only)) {
  throw new Error(`--only: "${values.only}" is not ${ONLY.slice(0, -1).join(', ')} or ${ONLY.at(-1)}`);
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
  scrapeModeScrapes: positive('scrape-mode-scrapes', values['scrape-mode-scrapes']),
  loopSeconds: positive('loop-seconds', values['loop-seconds']),
  countScrapes: positive('count-scrapes', values['count-scrapes']),
  idleSeconds: positive('idle-seconds', values['idle-seconds']),
  cachedRefresh: values['cached-refresh'],
  baselineCli: values['baseline-cli'],
  createConcurrency: positive('create-concurrency', values['create-concurrency']),
  starts: positive('starts', values.starts),
  burst: positive('burst', values.burst, 0),
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
let interrupted = false;
let cleaning: Promise<void> | undefined;
/** Wall seconds of the phases that depend on the fleet's size rather than on the measurements. */
const phaseSeconds: Record<string, number> = {};

const progress =
  (what: string): Progress =>
  (done, of) =>
    log(`${what} ${done} of ${of}`);

/** Stops every exporter and removes this run's containers; every caller waits for the one clean-up. */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.all([...ServeProcess.running].map((serve) => serve.stop()));
    const removal = await timed(
      async () =>
        (await startupFleet.close(options.createConcurrency)) + (await fleet.close(options.createConcurrency, progress('removed'))),
    );
    phaseSeconds['remove every container'] = round(removal.ms / 1000);
    log(`removed ${removal.value} containers labelled docker-monitor.bench=${runId} in ${Math.round(removal.ms / 1000)} s`);
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

const seriesBySize: MeasuredSeries[] = [];

async function inspectFleet(): Promise<ContainerInspect[]> {
  const engine = new DockerEngine({ host: DOCKER_HOST, concurrency: 8, timeoutMs: 30_000 });
  return Promise.all(fleet.members.map(({ id }) => engine.inspectContainer(id)));
}

async function measureSize(size: number, dockerd: DockerdCpu): Promise<SizeFigures | undefined> {
  const grown = await timed(() => fleet.growTo(size, options.createConcurrency, progress('started')));
  phaseSeconds[`start containers up to ${size}`] = round(grown.ms / 1000);
  log(`${size} containers running (${Math.round(grown.ms / 1000)} s to start the new ones)`);
  if (values.only === 'process-scan') {
    const processScan = await measureProcessScan(DOCKER_HOST, await inspectFleet(), options.runs, options.baselineCli);
    return { containers: size, evaluations: [], processScan, modes: [], dockerdIdleRate: 0, notes: [] };
  }
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
  const memoryBreakdown = existsSync(CIS_POLICY) ? await measureMemoryBreakdown(CIS_POLICY) : undefined;
  if (memoryBreakdown !== undefined) log('measured where the bytes are');
  const processScan = await measureProcessScan(DOCKER_HOST, await inspectFleet(), options.runs, options.baselineCli);
  log('measured the root-process scans');
  const dockerdIdleRate = await dockerd.idleRate(options.idleSeconds);
  log(`dockerd idle: ${round(dockerdIdleRate, 2)} ms of CPU per second over ${options.idleSeconds} s`);
  const modeOptions: ScrapeModeOptions = { ...options, cachedScrapes: options.scrapes, root, engineHost: DOCKER_HOST };
  const modes = await measureModes(
    modeSpecs(CLI, options.cachedRefresh, options.baselineCli),
    files,
    fleet,
    dockerd,
    dockerdIdleRate,
    modeOptions,
    log,
  );
  return {
    containers: size,
    evaluations,
    processScan,
    modes,
    dockerdIdleRate,
    notes,
    ...(memoryBreakdown === undefined ? {} : { memoryBreakdown }),
  };
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run bench" (it builds first)`);
  await requireEngine();
  await ensureTestImage();
  if (options.baselineCli !== undefined && !existsSync(options.baselineCli))
    throw new Error(`--baseline-cli: ${options.baselineCli} is missing`);
  const startedAt = new Date();
  const machine = await describeMachine();
  const dockerd = await DockerdCpu.find(DOCKER_HOST);
  log(`run ${runId} on ${machine.cores} × ${machine.cpu}, Docker ${machine.docker}; sizes ${options.sizes.join(', ')}`);
  const sizes: SizeFigures[] = [];
  let startup: StartupFigures | undefined;
  let composeCheck: ComposeCheckFigures | undefined;
  // A size that fails ends the run, but the sizes measured before it are still written and printed.
  let failure: Error | undefined;
  try {
    if (values.only === undefined || values.only === 'compose') {
      const started = performance.now();
      composeCheck = await measureComposeCheck(CLI, CIS_POLICY, 11);
      phaseSeconds['check --compose'] = round((performance.now() - started) / 1000);
    }
    if (values.only !== 'series' && values.only !== 'compose' && values.only !== 'process-scan' && options.startupContainers > 0) {
      const started = performance.now();
      startup = await measureStartupStage({
        fleet: startupFleet,
        cli: CLI,
        configFile: CIS_POLICY,
        engineHost: DOCKER_HOST,
        ...options,
        log,
      });
      phaseSeconds['start-up and docker-bench-security'] = round((performance.now() - started) / 1000);
    }
    for (const size of values.only === 'startup' || values.only === 'compose' ? [] : options.sizes) {
      const started = performance.now();
      const figures = await measureSize(size, dockerd);
      phaseSeconds[`measure ${size} containers`] = round((performance.now() - started) / 1000);
      if (figures !== undefined) sizes.push(figures);
    }
  } catch (error) {
    if (interrupted) throw error;
    failure = error instanceof Error ? error : new Error(String(error));
    log('failed: writing the sizes measured so far, then the error');
  } finally {
    await cleanUp();
  }
  // `--only series` measures that table alone.
  const statusPage =
    values.only === undefined && failure === undefined ? await measureStatusPage(options.pageContainers, options.pageRequests) : undefined;
  if (statusPage !== undefined) log(`measured the status pages at ${options.pageContainers} containers (synthetic state)`);
  const stateChange =
    values.only === undefined && failure === undefined ? await measureStateChange(STATE_CHANGE_SIZES, 50, options.baselineCli) : undefined;
  if (stateChange !== undefined)
    log(`measured one container's state change at ${STATE_CHANGE_SIZES.join(' and ')} containers (synthetic state)`);
  const atTarget = sizes.find((figures) => figures.containers === TARGET_SIZE);
  const targets = atTarget === undefined ? [] : judgeTargets(atTarget);
  const scaleTargets = [...judgeScaleTargets(sizes), ...(stateChange === undefined ? [] : judgeStateChange(stateChange))];
  const finishedAt = new Date();
  const results = {
    runId,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    wallSeconds: round((finishedAt.getTime() - startedAt.getTime()) / 1000),
    phaseSeconds,
    machine,
    options,
    sizes,
    startup,
    composeCheck,
    statusPage,
    stateChange,
    targets,
    scaleTargets,
    series: seriesBySize,
    ...(failure === undefined ? {} : { failed: failure.message }),
  };
  const folder = join(root, 'bench/results');
  await mkdir(folder, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  await writeFile(join(folder, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`), json);
  if (values.only === undefined && failure === undefined) await writeFile(join(folder, 'latest.json'), json);
  const machineLine = `Machine: ${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Docker ${machine.docker}, Node ${machine.node}.`;
  const tables =
    values.only === 'process-scan'
      ? sizes.map(sizeTable)
      : [
          ...sizes.flatMap((figures) => [
            sizeTable(figures),
            modeTable(figures.containers, figures.modes),
            ...(figures.memoryBreakdown === undefined ? [] : [memoryBreakdownTable(figures.memoryBreakdown)]),
          ]),
          ...growthTables(sizes, seriesBySize),
        ];
  if (startup !== undefined) tables.push(...startupTables(startup));
  if (composeCheck !== undefined) tables.push(composeCheckTable(composeCheck));
  if (statusPage !== undefined) tables.push(statusPageTable(statusPage));
  if (stateChange !== undefined) tables.push(stateChangeTable(stateChange));
  if (targets.length > 0) tables.push(targetTable(targets));
  if (scaleTargets.length > 0) tables.push(targetTable(scaleTargets, 'scale target'));
  if (seriesBySize.length > 0) tables.push(seriesTable(seriesBySize, SERIES_SIZES, 'examples/cis.ini'));
  const wallLine = `Run ${runId}: ${Math.round(results.wallSeconds)} s in all (${Object.entries(phaseSeconds)
    .map(([phase, seconds]) => `${phase}: ${Math.round(seconds)} s`)
    .join(', ')}).`;
  const markdown = `${machineLine}\n${wallLine}\n\n${tables.join('\n\n')}\n`;
  // The tables beside the figures, for docs/performance.md to link: latest.md only for a whole run, as latest.json.
  await writeFile(join(folder, `${startedAt.toISOString().replace(/[:.]/g, '-')}.md`), `# Benchmark run ${runId}\n\n${markdown}`);
  if (values.only === undefined && failure === undefined)
    await writeFile(join(folder, 'latest.md'), `# Benchmark run ${runId}\n\n${markdown}`);
  process.stdout.write(markdown);
  if (failure !== undefined) throw failure;
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
