import type { FastifyInstance } from 'fastify';
import { Monitor } from '../monitor.js';
import type { Runtime } from '../runtime.js';
import { buildApp } from './app.js';
import { createMetrics } from './metrics.js';
import type { WebSecurity } from './web-security.js';

export interface Exporter {
  monitor: Monitor;
  app: FastifyInstance;
  /** Another HTTP app on the same monitor and metrics, for one more listen address. */
  createApp: () => Promise<FastifyInstance>;
  security: WebSecurity | undefined;
}

/**
 * The exporter assembled from a runtime: the monitor, its metrics and the HTTP app, not yet listening
 * nor refreshing (`serve` calls `listen` then `monitor.start()`; tests use `inject`).
 */
export async function createExporter(runtime: Runtime): Promise<Exporter> {
  const { settings, logger, engine, cache, evaluator, listeners, counters } = runtime;
  // Read first: a bad web config stops the start before anything else happens. Its YAML parser and
  // bcrypt load only with a web config.
  let security: WebSecurity | undefined;
  if (settings.webConfigFile !== undefined) {
    const { WebSecurity } = await import('./web-security.js');
    security = new WebSecurity(settings.webConfigFile, logger, counters.failedLogins);
  }
  const monitor = new Monitor({
    engine,
    cache,
    evaluator,
    logger,
    listeners,
    counters,
    refresh: settings.refresh,
    resyncIntervalMs: settings.resyncIntervalMs,
  });
  const metrics = createMetrics({
    monitor,
    checks: evaluator.checks,
    refresh: settings.refresh,
    counters,
    resultsMode: settings.metricsResults,
    containerLabels: settings.metricsContainerLabels,
    waivers: runtime.policy.waivers,
  });
  const createApp = (): Promise<FastifyInstance> =>
    buildApp({
      monitor,
      metrics,
      telemetryPath: settings.telemetryPath,
      checks: evaluator.checks,
      logger,
      security,
      grafanaUrl: settings.grafanaUrl,
    });
  return { monitor, app: await createApp(), createApp, security };
}
