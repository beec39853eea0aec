/**
 * The exporter as Prometheus meets it, in each refresh mode: `serve --refresh scrape` (the default: every
 * scrape brings the verdicts up to date) and `serve --refresh 30s` (scrapes read the last background
 * refresh), on the same containers and policy, one after the other. Per mode:
 *
 * - `/metrics` p50/p99 over a bounded loop of scrapes, plain and with `Accept-Encoding: gzip`, and the bytes
 *   on the wire each way;
 * - dockerd's CPU time over the plain loop, minus its idle rate, per scrape;
 * - engine calls per steady-state scrape, counted by a proxy in front of the engine's socket (a second serve
 *   process, so the proxy's hop is not in the latencies);
 * - event-to-metric latency and the serve process's resident memory at the end;
 * - with `examples/cis.ini`, an event burst (bench/burst.ts: `--burst` containers started at once, the time
 *   until all are served and the scrapes' latencies meanwhile), and resident memory once more in the lean
 *   `--metrics.results none` mode.
 */
import { measureBurst, type BurstFigures } from './burst.js';
import type { DockerdCpu } from './dockerd-cpu.js';
import { CountingProxy } from './engine-calls.js';
import { measureEventLatency, measureScrapes, ServeProcess, type EventFigures, type ScrapeFigures } from './exporter.js';
import type { Fleet } from './fleet.js';
import { sample } from './memory.js';

/** One way of running the exporter: the refresh mode, and which build (a baseline build runs the code before a change). */
export interface ModeSpec {
  /** How the tables name it: `scrape`, `30s`, `scrape, baseline build`. */
  label: string;
  /** The `--refresh` value. */
  refresh: string;
  cli: string;
  baseline: boolean;
}

export interface ScrapeModeOptions {
  /** Scrapes per loop in scrape mode and in cached mode. */
  scrapeModeScrapes: number;
  cachedScrapes: number;
  /** Wall-time bound of each loop, in seconds: the loop stops at whichever bound comes first. */
  loopSeconds: number;
  /** Steady-state scrapes counted through the proxy. */
  countScrapes: number;
  /** Container starts timed for the event-to-metric latency. */
  starts: number;
  /** Containers started at once for the burst (with examples/cis.ini); 0: no burst. */
  burst: number;
  /** The repository root (docs/engines.md lists the endpoints the proxy lets through). */
  root: string;
  engineHost: string;
}

export interface DockerdFigures {
  scrapes: number;
  wallMs: number;
  /** dockerd utime + stime over the loop. */
  cpuMs: number;
  /** The same, minus dockerd's idle rate over the loop's wall time. */
  cpuAboveIdleMs: number;
  perScrapeMs: number;
}

export interface EngineCallFigures {
  scrapes: number;
  /** Calls per scrape by documented endpoint, without the event stream. */
  perScrape: Record<string, number>;
  total: number;
  /** Requests the read-only proxy refused: an endpoint docs/engines.md does not list. */
  refused: string[];
}

export interface Memory {
  rssBytes: number;
  peakRssBytes: number;
  /** The serve process's own view at the same time (its nodejs_* metrics): where the RSS is. */
  heapUsedBytes?: number;
  heapTotalBytes?: number;
  externalBytes?: number;
}

/** Resident memory, and the V8 heap and external memory the serve process reports of itself. */
async function memoryOf(serve: ServeProcess): Promise<Memory> {
  const body = await serve.scrape();
  return {
    ...(await serve.memory()),
    heapUsedBytes: sample(body, 'nodejs_heap_size_used_bytes'),
    heapTotalBytes: sample(body, 'nodejs_heap_size_total_bytes'),
    externalBytes: sample(body, 'nodejs_external_memory_bytes'),
  };
}

export interface ModeFigures {
  mode: string;
  refresh: string;
  baseline: boolean;
  policy: string;
  plain: ScrapeFigures;
  gzip: ScrapeFigures;
  dockerd: DockerdFigures;
  engineCalls: EngineCallFigures;
  events: EventFigures;
  /** With examples/cis.ini: the event burst. */
  burst?: BurstFigures;
  /** Resident memory after all of the above, `--metrics.results` at its default (`all`). */
  memory: Memory;
  /** With examples/cis.ini: resident memory after the same plain loop in `--metrics.results none`. */
  lean?: Memory & { scrapes: number };
}

const WARM_UP_SCRAPES = 2;

/** The modes to measure: scrape and cached with this build, and scrape with a baseline build when one is given. */
export function modeSpecs(cli: string, cachedRefresh: string, baselineCli: string | undefined): ModeSpec[] {
  const specs: ModeSpec[] = [
    { label: 'scrape', refresh: 'scrape', cli, baseline: false },
    { label: cachedRefresh, refresh: cachedRefresh, cli, baseline: false },
  ];
  if (baselineCli !== undefined) specs.push({ label: 'scrape, baseline build', refresh: 'scrape', cli: baselineCli, baseline: true });
  return specs;
}

function loopLength(spec: ModeSpec, options: ScrapeModeOptions): number {
  return spec.refresh === 'scrape' ? options.scrapeModeScrapes : options.cachedScrapes;
}

async function withServe<T>(
  spec: ModeSpec,
  configFile: string | undefined,
  extraArgs: readonly string[],
  work: (serve: ServeProcess) => Promise<T>,
): Promise<T> {
  const serve = await ServeProcess.start(spec.cli, configFile, extraArgs, spec.refresh);
  try {
    return await work(serve);
  } finally {
    await serve.stop();
  }
}

/** Steady-state engine calls per scrape: a serve process through the counting proxy, warmed up, then counted. */
async function countEngineCalls(spec: ModeSpec, configFile: string | undefined, options: ScrapeModeOptions): Promise<EngineCallFigures> {
  const proxy = await CountingProxy.start(options.root, options.engineHost);
  try {
    return await withServe(spec, configFile, ['--docker.host', proxy.host], async (serve) => {
      for (let scrape = 0; scrape < WARM_UP_SCRAPES; scrape += 1) await serve.scrape();
      proxy.reset();
      const deadline = performance.now() + options.loopSeconds * 1000;
      let scrapes = 0;
      while (scrapes < options.countScrapes && performance.now() < deadline) {
        await serve.scrape();
        scrapes += 1;
      }
      const counts = proxy.counts();
      const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
      const perScrape = Object.fromEntries(Object.entries(counts).map(([endpoint, count]) => [endpoint, count / scrapes]));
      return { scrapes, perScrape, total: total / scrapes, refused: proxy.refused() };
    });
  } finally {
    await proxy.close();
  }
}

/** Every figure of one mode with one policy (see the module's comment). */
export async function measureMode(
  spec: ModeSpec,
  configFile: string | undefined,
  fleet: Fleet,
  dockerd: DockerdCpu,
  idleRate: number,
  options: ScrapeModeOptions,
): Promise<ModeFigures> {
  const scrapes = loopLength(spec, options);
  const maxMs = options.loopSeconds * 1000;
  const measured = await withServe(spec, configFile, [], async (serve) => {
    // measureScrapes' own first scrape (untimed) is the warm-up: the first refresh is done by /-/ready.
    const loop = await dockerd.during(idleRate, () => measureScrapes(serve, scrapes, false, maxMs));
    const gzip = await measureScrapes(serve, scrapes, true, maxMs);
    const events = await measureEventLatency(serve, fleet, options.starts);
    const burst =
      configFile?.endsWith('cis.ini') === true && options.burst > 0 ? await measureBurst(serve, fleet, options.burst) : undefined;
    return { plain: loop.value, loop, gzip, events, burst, memory: await memoryOf(serve) };
  });
  const { plain, loop } = measured;
  const engineCalls = await countEngineCalls(spec, configFile, options);
  let lean: ModeFigures['lean'];
  if (configFile?.endsWith('cis.ini') === true) {
    lean = await withServe(spec, configFile, ['--metrics.results', 'none'], async (serve) => {
      const figures = await measureScrapes(serve, scrapes, false, maxMs);
      return { scrapes: figures.scrapes, ...(await memoryOf(serve)) };
    });
  }
  return {
    mode: spec.label,
    refresh: spec.refresh,
    baseline: spec.baseline,
    policy: configFile ?? '<embedded default policy>',
    plain,
    gzip: measured.gzip,
    // The loop's own first scrape is outside the timed samples but inside the CPU window: count it.
    dockerd: {
      scrapes: plain.scrapes + 1,
      wallMs: loop.wallMs,
      cpuMs: loop.cpuMs,
      cpuAboveIdleMs: loop.cpuAboveIdleMs,
      perScrapeMs: loop.cpuAboveIdleMs / (plain.scrapes + 1),
    },
    engineCalls,
    events: measured.events,
    ...(measured.burst === undefined ? {} : { burst: measured.burst }),
    memory: measured.memory,
    ...(lean === undefined ? {} : { lean }),
  };
}

/** Every mode with every policy, one serve process at a time; `log` hears of each one done. */
export async function measureModes(
  specs: readonly ModeSpec[],
  configFiles: readonly (string | undefined)[],
  fleet: Fleet,
  dockerd: DockerdCpu,
  idleRate: number,
  options: ScrapeModeOptions,
  log: (message: string) => void,
): Promise<ModeFigures[]> {
  const figures: ModeFigures[] = [];
  for (const configFile of configFiles) {
    // The baseline build is measured with examples/cis.ini only, the policy that costs the most engine calls today.
    for (const spec of specs.filter((candidate) => !candidate.baseline || configFile?.endsWith('cis.ini') === true)) {
      const started = performance.now();
      figures.push(await measureMode(spec, configFile, fleet, dockerd, idleRate, options));
      log(
        `measured --refresh ${spec.label} with ${configFile ?? 'the default policy'} (${Math.round((performance.now() - started) / 1000)} s)`,
      );
    }
  }
  return figures;
}
