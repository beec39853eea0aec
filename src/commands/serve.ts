import { UserError, errorMessage } from '../errors.js';
import { buildApp } from '../exporter/app.js';
import { parseListenAddress } from '../exporter/listen-address.js';
import { createMetrics } from '../exporter/metrics.js';
import { WebSecurity } from '../exporter/web-security.js';
import { Monitor } from '../monitor.js';
import type { Runtime } from '../runtime.js';

/** `docker-monitor serve`: the exporter. Resolves with the exit code once SIGTERM or SIGINT has shut it down. */
export async function runServe(runtime: Runtime): Promise<number> {
  const { settings, logger, engine, cache, evaluator, listeners, policy } = runtime;
  const address = parseListenAddress(settings.listenAddress);
  const security = settings.webConfigFile === undefined ? undefined : new WebSecurity(settings.webConfigFile, logger);
  const monitor = new Monitor({ engine, cache, evaluator, logger, listeners, refresh: settings.refresh });
  const registry = createMetrics({
    monitor,
    checks: evaluator.checks,
    refresh: settings.refresh,
    processCacheTtlMs: settings.processCacheTtlMs,
    ...runtime.metricSources,
  });
  const app = await buildApp({ monitor, registry, telemetryPath: settings.telemetryPath, logger, security });
  try {
    await app.listen({ port: address.port, ...(address.host === undefined ? {} : { host: address.host }) });
  } catch (error) {
    throw new UserError(`--web.listen-address: cannot listen on ${settings.listenAddress}: ${errorMessage(error)}`, 2);
  }
  monitor.start();
  logger.info(
    {
      address: settings.listenAddress,
      telemetryPath: settings.telemetryPath,
      policy: policy.file,
      checks: evaluator.checks.map((check) => check.name),
      refresh: settings.refresh === 'scrape' ? 'scrape' : `${settings.refresh / 1000}s`,
      engine: engine.address,
      tls: security?.current.tls !== undefined,
      enforce: settings.enforce,
    },
    'docker-monitor is serving',
  );

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, 'shutting down');
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  // Stop listening and finish the responses in flight, then stop following the engine.
  await app.close();
  await monitor.close();
  await Promise.all(listeners.map((listener) => listener.close?.()));
  return 0;
}
