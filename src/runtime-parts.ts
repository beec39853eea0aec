/**
 * The parts of a runtime that every command builds the same way: settings and policy with their
 * logger, the engine with its cache, the clock. Kept apart from runtime.ts so that `check --compose`
 * loads only these (no metrics library, evaluator or listeners: see docs/performance.md, "Start-up").
 */
import { hostname } from 'node:os';
import { BUILT_IN_CHECKS } from './checks/index.js';
import { loadPolicy, type LoadedPolicy } from './config/load-policy.js';
import { applyFlags, type ServeFlags } from './config/flags.js';
import type { Settings } from './config/settings.js';
import { chooseProcessSource } from './engine/choose-process-source.js';
import { EngineCache } from './engine/engine-cache.js';
import { DockerEngine } from './engine/docker-engine.js';
import { resolveEngineAddress } from './engine/engine-address.js';
import { createLogger, type DropReason, type Logger, type LoggerWithSink } from './log.js';
import { clockFromEnvironment, type Clock } from './clock.js';
import { UsageError, errorMessage } from './errors.js';

export interface RuntimeOptions {
  textLog: boolean;
  warnWithoutEnforce?: boolean;
  /** `check`: only warnings and errors unless asked for more. */
  quiet?: boolean;
}

/** Loads the policy, applies flags over its settings and makes the logger its [logging] section asks for; logs the policy's warnings. */
export async function loadSettingsAndPolicy(
  flags: ServeFlags,
  options: RuntimeOptions,
  onLogDrop: (reason: DropReason) => void,
): Promise<{ settings: Settings; policy: LoadedPolicy; log: LoggerWithSink }> {
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
      onLogDrop,
    );
    made = { settings, log };
    return log.logger;
  });
  if (made === undefined) throw new Error('the policy was loaded without making its logger');
  for (const warning of policy.warnings) made.log.logger.warn(warning);
  return { ...made, policy };
}

/** The engine the settings name, and the cache every read goes through. Nothing is sent to it yet. */
export function connectEngine(settings: Settings, logger: Logger): { engine: DockerEngine; cache: EngineCache } {
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
  return { engine, cache };
}

/** The clock waivers expire by (DOCKER_MONITOR_FAKE_TIME in tests); a bad value is a usage error. */
export function runtimeClock(): Clock {
  try {
    return clockFromEnvironment();
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
}
