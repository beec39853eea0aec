import { closeChecks } from '../config/load-policy.js';
import { createExporter } from '../exporter/exporter.js';
import type { ConfigReloader } from '../exporter/reload.js';
import { boundAddresses, listenAll } from '../exporter/listen.js';
import { formatDuration } from '../ini/values.js';
import type { Runtime } from '../runtime.js';
import { logUnhandledRejections } from './unhandled.js';

/** `docker-monitor serve`: the exporter. Resolves with the exit code once SIGTERM or SIGINT has shut it down. */
export async function runServe(runtime: Runtime): Promise<number> {
  const { settings, logger, engine, evaluator, listeners, policy } = runtime;
  // From the first moment: Node's default for SIGHUP ends the process (logrotate's postrotate, `systemctl reload`).
  let reloader: ConfigReloader | undefined;
  const hangUp = (): void => {
    if (reloader === undefined) logger.warn('SIGHUP before the exporter was ready; nothing to reload yet');
    else void reloader.reload('SIGHUP');
  };
  process.on('SIGHUP', hangUp);
  const exporter = await createExporter(runtime);
  const { monitor, app, createApp, security } = exporter;
  reloader = exporter.reloader;
  const apps = await listenAll(settings.listenAddresses, (index) => (index === 0 ? Promise.resolve(app) : createApp()));
  const stopLoggingRejections = logUnhandledRejections(logger);
  monitor.start();
  // An engine that cannot be reached is logged by the monitor's first refresh, once, with a hint.
  logger.info(
    {
      addresses: apps.flatMap(boundAddresses),
      telemetryPath: settings.telemetryPath,
      policy: policy.file,
      checks: evaluator.checks.map((check) => check.name),
      refresh: settings.refresh === 'scrape' ? 'scrape' : formatDuration(settings.refresh),
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
  // Stop listening and finish the responses in flight, then stop following the engine (a refresh in
  // flight is abandoned), then end the users' checks' worker threads and the processes their runs started.
  await Promise.all(apps.map((served) => served.close()));
  await monitor.close();
  await closeChecks(runtime.policy.checks);
  await Promise.all(listeners.map(async (listener) => listener.close?.()));
  stopLoggingRejections();
  process.off('SIGHUP', hangUp);
  return 0;
}
