/**
 * An event burst: `count` containers started at once (one Engine API call each, all in flight together)
 * while a scraper reads `/metrics` back to back over one keep-alive connection, as Prometheus would if
 * it scraped without pause. Measured: how long after the last start call was answered `/metrics` carries
 * every one of them (and since the burst began), and the scrapes' latencies during the burst.
 */
import type { Fleet } from './fleet.js';
import type { ServeProcess } from './exporter.js';
import { percentile, round } from './stats.js';

export interface BurstFigures {
  containers: number;
  /** From the first start call to the last answer: the engine's own time. */
  startedMs: number;
  /** From the last start call's answer until one scrape carried every new container's verdict. */
  servedAfterStartsMs: number;
  /** From the first start call until then. */
  servedMs: number;
  /** Scrapes during the burst (until served) and their latencies. */
  scrapes: number;
  scrapeP99Ms: number;
  scrapeMaxMs: number;
  /** True when the new containers were not all served within the timeout. */
  missed: boolean;
}

/** How long the engine may take to answer the burst's start calls (on two cores, 100 starts take over a minute). */
const STARTS_BOUND_MS = 10 * 60_000;

export async function measureBurst(serve: ServeProcess, fleet: Fleet, count: number, timeoutMs = 60_000): Promise<BurstFigures> {
  const samples: number[] = [];
  const started: string[] = [];
  let names: string[] | undefined;
  let servedAt: number | undefined;
  const began = performance.now();
  // Scraping goes on while the starts are answered, then for `timeoutMs` after the last answer.
  let deadline = began + STARTS_BOUND_MS;
  const scraping = (async () => {
    while (servedAt === undefined && performance.now() < deadline) {
      const since = performance.now();
      const body = await serve.scrape();
      const answered = performance.now();
      samples.push(answered - since);
      if (names?.every((name) => body.includes(`docker_monitor_container_compliant{container="${name}"}`)) === true) servedAt = answered;
    }
  })();
  try {
    const containers = await Promise.all(Array.from({ length: count }, () => fleet.start('root')));
    started.push(...containers.map(({ id }) => id));
    const startsAnswered = performance.now();
    deadline = startsAnswered + timeoutMs;
    names = containers.map(({ name }) => name);
    await scraping;
    return {
      containers: count,
      startedMs: round(startsAnswered - began),
      servedAfterStartsMs: servedAt === undefined ? Number.NaN : round(Math.max(0, servedAt - startsAnswered)),
      servedMs: servedAt === undefined ? Number.NaN : round(servedAt - began),
      scrapes: samples.length,
      scrapeP99Ms: round(percentile(samples, 99)),
      scrapeMaxMs: round(percentile(samples, 100)),
      missed: servedAt === undefined,
    };
  } finally {
    deadline = 0;
    await scraping.catch(() => undefined);
    await fleet.remove(started);
  }
}
