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
import { createLogger, type Logger, type LoggerWithSink } from './log.js';
import { createEventCounters, type EventCounters } from './event-counters.js';
import { createListeners } from './listeners.js';
import type { ReportListener } from './report/types.js';
import { WaiverSet } from './policy/waivers.js';
import { clockFromEnvironment, type Clock } from './clock.js';
import { UsageError, errorMessage } from './errors.js';

/** What both commands run on: settings, the loaded policy, a logger, the engine and the evaluator. */
export interface Runtime {
  /** The command line's flags, applied again over a reloaded policy's settings. */
  flags: ServeFlags;
  settings: Settings;
  policy: LoadedPolicy;
  logger: Logger;
  /** Reopens the log file (logrotate's `create`: the old file was moved away). */
  reopenLog: () => void;
  /** Typed as what it is: tests and the benchmark read its call counts. */
  engine: DockerEngine;
  cache: EngineCache;
  evaluator: Evaluator;
  /** Text log, StatsD and enforcement: they see every verdict. */
  listeners: ReportListener[];
  /** Incremented by the monitor, the report queue and enforcement; exported by `serve`. */
  counters: EventCounters;
  clock: Clock;
}

/** The evaluator of a loaded policy, over the runtime's engine cache. */
export function createEvaluator(policy: LoadedPolicy, settings: Settings, cache: EngineCache, clock: Clock): Evaluator {
  return new Evaluator(cache, {
    checks: policy.checks,
    alwaysAllow: settings.alwaysAllow,
    failFast: settings.failFast,
    exclude: policy.exclude,
    waivers: new WaiverSet(policy.waivers, clock),
  });
}

/** Loads the policy, applies flags over it and wires the engine. Throws UserErrors for bad input. */
export async function createRuntime(
  flags: ServeFlags,
  options: { textLog: boolean; warnWithoutEnforce?: boolean; quiet?: boolean } = { textLog: true },
): Promise<Runtime> {
  const counters = createEventCounters();
  let made: { settings: Settings; log: LoggerWithSink } | undefined;
  // The file's [logging] section says where the log goes, and its users' checks log there as they load.
  const policy = await loadPolicy(flags.configFile, BUILT_IN_CHECKS, (fileSettings) => {
    const settings = applyFlags(fileSettings, flags);
    // `check` logs only warnings and errors unless -v, --log.level or the file's [logging] level ask for more.
    if (options.quiet === true && flags['log.level'] === undefined && !flags.verbose && settings.logLevel === 'info')
      settings.logLevel = 'warn';
    settings.hostname ??= hostname();
    const log = createLogger(
      { level: settings.logLevel, format: settings.logFormat, file: settings.logFile, hostname: settings.hostname },
      (reason) => counters.logRecordsDropped.inc({ reason }),
    );
    made = { settings, log };
    return log.logger;
  });
  if (made === undefined) throw new Error('the policy was loaded without making its logger');
  const { settings, log } = made;
  const logger = log.logger;
  for (const warning of policy.warnings) logger.warn(warning);
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
  const evaluator = createEvaluator(policy, settings, cache, clock);
  const listeners = await createListeners({
    settings,
    engine,
    logger,
    textLog: options.textLog,
    warnWithoutEnforce: options.warnWithoutEnforce ?? true,
    counters,
  });
  return { flags, settings, policy, logger, reopenLog: log.reopen, engine, cache, evaluator, listeners, counters, clock };
}
