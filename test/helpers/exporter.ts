/** Builds the exporter in-process (as `serve` does, without the socket) for inject() tests. */
import type { FastifyInstance } from 'fastify';
import type { ServeFlags } from '../../src/config/flags.js';
import { createExporter } from '../../src/exporter/exporter.js';
import type { Monitor } from '../../src/core/monitor.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';

export interface TestExporter {
  runtime: Runtime;
  monitor: Monitor;
  app: FastifyInstance;
  scrape(): Promise<string>;
  close(): Promise<void>;
}

export async function startExporter(flags: ServeFlags): Promise<TestExporter> {
  const runtime = await createRuntime({ 'log.level': 'error', ...flags });
  const { monitor, app } = await createExporter(runtime);
  monitor.start();
  return {
    runtime,
    monitor,
    app,
    async scrape() {
      const response = await app.inject({ method: 'GET', url: runtime.settings.telemetryPath });
      if (response.statusCode !== 200) throw new Error(`scrape answered ${response.statusCode}: ${response.body}`);
      return response.body;
    },
    async close() {
      await app.close();
      await monitor.close();
    },
  };
}

/** Series lines of an exposition (no comments), optionally only those mentioning `text`. */
export function seriesLines(exposition: string, text = ''): string[] {
  return exposition.split('\n').filter((line) => line !== '' && !line.startsWith('#') && line.includes(text));
}

/** The value of one series, or undefined. */
export function sampleValue(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
