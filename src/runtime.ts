import { hostname } from 'node:os';
import { BUILT_IN_CHECKS } from './checks/index.js';
import { loadPolicy, type LoadedPolicy } from './config/load-policy.js';
import { applyFlags, type ServeFlags } from './config/flags.js';
import type { Settings } from './config/settings.js';
import { chooseProcessSource } from './engine/choose-process-source.js';
import { EngineCache } from './engine/engine-cache.js';
import { DockerEngine } from './engine/docker-engine.js';
import { resolveEngineAddress } from './engine/engine-address.js';
import { Evaluator } from './evaluator.js';
import { createLogger, type Logger } from './log.js';
import { logUserChecksTo } from './user-checks/worker-check.js';
import { createEventCounters, type EventCounters } from './event-counters.js';
import { createListeners } from './listeners.js';
import type { ReportListener } from './report/types.js';
import { WaiverSet } from './policy/waivers.js';
import { clockFromEnvironment } from './clock.js';
import { UsageError, errorMessage } from './errors.js';

/** What both commands run on: settings, the loaded policy, a logger, the engine and the evaluator. */
export interface Runtime {
  settings: Settings;
  policy: LoadedPolicy;
  logger: Logger;
  /** Typed as what it is: tests and the benchmark read its call counts. */
  engine: DockerEngine;
  cache: EngineCache;
  evaluator: Evaluator;
  /** Text log, StatsD and enforcement: they see every verdict. */
  listeners: ReportListener[];
  /** Incremented by the monitor, the report queue and enforcement; exported by `serve`. */
  counters: EventCounters;
}

/** Loads the policy, applies flags over it and wires the engine. Throws UserErrors for bad input. */
export async function createRuntime(
  flags: ServeFlags,
  options: { textLog: boolean; warnWithoutEnforce?: boolean; quiet?: boolean } = { textLog: true },
): Promise<Runtime> {
  const policy = await loadPolicy(flags.configFile, BUILT_IN_CHECKS);
  const settings = applyFlags(policy.settings, flags);
  // `check` logs only warnings and errors unless -v, --log.level or the file's [logging] level ask for more.
  if (options.quiet === true && flags['log.level'] === undefined && !flags.verbose && settings.logLevel === 'info')
    settings.logLevel = 'warn';
  settings.hostname ??= hostname();
  const logger = createLogger({
    level: settings.logLevel,
    format: settings.logFormat,
    file: settings.logFile,
    hostname: settings.hostname,
  });
  for (const warning of policy.warnings) logger.warn(warning);
  logUserChecksTo(logger);
  const address = resolveEngineAddress({
    host: settings.dockerHost,
    context: settings.dockerContext,
    tlsVerify: settings.dockerTlsVerify,
    certPath: settings.dockerCertPath,
  });
  logger.debug({ engine: address.display, chosenBy: address.chosenBy }, 'engine address chosen');
  const engine = new DockerEngine({
    host: address,
    concurrency: settings.dockerConcurrency,
    timeoutMs: settings.dockerTimeoutMs,
  });
  const cache = new EngineCache(engine, chooseProcessSource(engine, logger, { remote: address.remote }), settings.processCacheTtlMs);
  let clock;
  try {
    clock = clockFromEnvironment();
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
  const evaluator = new Evaluator(cache, {
    checks: policy.checks,
    alwaysAllow: settings.alwaysAllow,
    failFast: settings.failFast,
    exclude: policy.exclude,
    waivers: new WaiverSet(policy.waivers, clock),
  });
  const counters = createEventCounters();
  const listeners = await createListeners({
    settings,
    engine,
    logger,
    textLog: options.textLog,
    warnWithoutEnforce: options.warnWithoutEnforce ?? true,
    counters,
  });
  return { settings, policy, logger, engine, cache, evaluator, listeners, counters };
}
