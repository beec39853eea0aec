import { UserError, errorMessage } from '../errors.js';
import { createExporter } from '../exporter/exporter.js';
import { parseListenAddress } from '../exporter/listen-address.js';
import { formatDuration } from '../ini/values.js';
import type { Runtime } from '../runtime.js';

/** `docker-monitor serve`: the exporter. Resolves with the exit code once SIGTERM or SIGINT has shut it down. */
export async function runServe(runtime: Runtime): Promise<number> {
  const { settings, logger, engine, evaluator, listeners, policy } = runtime;
  const address = parseListenAddress(settings.listenAddress);
  const { monitor, app, security } = await createExporter(runtime);
  try {
    await app.listen({ port: address.port, ...(address.host === undefined ? {} : { host: address.host }) });
  } catch (error) {
    throw new UserError(`--web.listen-address: cannot listen on ${settings.listenAddress}: ${errorMessage(error)}`, 2);
  }
  // The last line of defence: a promise some check or library forgot to handle must not end the
  // exporter and every other container's results with it.
  const unhandled = (reason: unknown): void => {
    logger.error({ err: errorMessage(reason) }, 'unhandled rejection (ignored; please report it)');
  };
  process.on('unhandledRejection', unhandled);
  monitor.start();
  logger.info(
    {
      address: settings.listenAddress,
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
  // Stop listening and finish the responses in flight, then stop following the engine.
  await app.close();
  await monitor.close();
  await Promise.all(listeners.map((listener) => listener.close?.()));
  process.off('unhandledRejection', unhandled);
  return 0;
}
