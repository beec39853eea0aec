import type { FastifyInstance, FastifyReply } from 'fastify';
import type { LoadedPolicy } from '../config/load-policy.js';
import type { Evaluator } from '../core/evaluator.js';
import { Monitor } from '../core/monitor.js';
import type { CheckInstance } from '../policy/types.js';
import type { Runtime } from '../runtime.js';
import { buildApp } from './app.js';
import { createMetrics, type Exposition } from './metrics.js';
import { ConfigReloader } from './reload.js';
import type { WebSecurity } from './web-security.js';

export interface Exporter {
  monitor: Monitor;
  app: FastifyInstance;
  /** Another HTTP app on the same monitor and metrics, for one more listen address. */
  createApp: () => Promise<FastifyInstance>;
  security: WebSecurity | undefined;
  /** SIGHUP and `POST /-/reload`. */
  reloader: ConfigReloader;
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
  const metricsFor = (policy: LoadedPolicy, current: Evaluator): Exposition =>
    createMetrics({
      monitor,
      checks: current.checks,
      refresh: settings.refresh,
      counters,
      resultsMode: settings.metricsResults,
      containerLabels: settings.metricsContainerLabels,
      waivers: policy.waivers,
      reloads: reloader.status,
    });
  // What a reload replaces, read by the apps at each request.
  const checks: CheckInstance[] = [...evaluator.checks];
  const reloader = new ConfigReloader(runtime, security, (policy, next) => {
    monitor.usePolicy(next);
    metrics = metricsFor(policy, next);
    checks.splice(0, checks.length, ...next.checks);
  });
  let metrics = metricsFor(runtime.policy, evaluator);
  const exposition: Exposition = { render: (request) => metrics.render(request) };
  const createApp = async (): Promise<FastifyInstance> => {
    const app = await buildApp({
      monitor,
      metrics: exposition,
      telemetryPath: settings.telemetryPath,
      checks,
      logger,
      security,
      grafanaUrl: settings.grafanaUrl,
    });
    // Prometheus's lifecycle endpoint: POST (or PUT) reloads, only when --web.enable-lifecycle allows it.
    const reload = async (_request: unknown, reply: FastifyReply) => {
      if (!settings.webEnableLifecycle) return reply.code(403).type('text/plain').send('Lifecycle API is not enabled.\n');
      const outcome = await reloader.reload('POST /-/reload');
      return outcome.ok
        ? reply.type('text/plain').send('')
        : reply.code(500).type('text/plain').send(`failed to reload config: ${outcome.error}\n`);
    };
    app.post('/-/reload', reload);
    app.put('/-/reload', reload);
    return app;
  };
  return { monitor, app: await createApp(), createApp, security, reloader };
}
