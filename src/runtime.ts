import type { LoadedPolicy } from './config/load-policy.js';
import type { ServeFlags } from './config/flags.js';
import type { Settings } from './config/settings.js';
import type { EngineCache } from './engine/engine-cache.js';
import type { DockerEngine } from './engine/docker-engine.js';
import { Evaluator } from './core/evaluator.js';
import type { Logger } from './log.js';
import { createEventCounters, type EventCounters } from './event-counters.js';
import { createListeners } from './listeners.js';
import type { ReportListener } from './report/types.js';
import { WaiverSet } from './policy/waivers.js';
import type { Clock } from './clock.js';
import { connectEngine, loadSettingsAndPolicy, runtimeClock, type RuntimeOptions } from './runtime-parts.js';

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
export async function createRuntime(flags: ServeFlags, options: RuntimeOptions = { textLog: true }): Promise<Runtime> {
  const counters = createEventCounters();
  const { settings, policy, log } = await loadSettingsAndPolicy(flags, options, (reason) => counters.logRecordsDropped.inc({ reason }));
  const logger = log.logger;
  const { engine, cache } = connectEngine(settings, logger);
  const clock = runtimeClock();
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
