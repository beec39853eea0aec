import { hostname } from 'node:os';
import type { Settings } from './config/settings.js';
import { Enforcer } from './enforce/enforcer.js';
import { detectSelfContainer } from './enforce/self-container.js';
import type { Engine } from './engine/types.js';
import type { EventCounters } from './event-counters.js';
import type { Logger } from './log.js';
import { TextReporter } from './report/text-reporter.js';
import type { ReportListener } from './report/types.js';

export interface ListenerContext {
  settings: Settings;
  engine: Engine;
  logger: Logger;
  /** The cnitch-style text log; `check` prints its own table of the same findings instead. */
  textLog: boolean;
  /** Whether, without --enforce, the Enforcer warns about each failing container (`check` leaves that to its report unless -v). */
  warnWithoutEnforce?: boolean;
  counters: EventCounters;
}

/**
 * The listeners the settings ask for, in this order: the text log (for `serve`; per-container lines at
 * info, failures at warn), StatsD (with a StatsD server), and the Enforcer (always: without --enforce
 * it warns what it would do). Throws a UsageError for a StatsD server that is not host:port.
 * The StatsD client loads only when a StatsD server is given.
 */
export async function createListeners({
  settings,
  engine,
  logger,
  textLog,
  warnWithoutEnforce = true,
  counters,
}: ListenerContext): Promise<ReportListener[]> {
  const listeners: ReportListener[] = textLog ? [new TextReporter(logger)] : [];
  if (settings.statsdServer !== undefined) {
    const { StatsdReporter, parseStatsdServer } = await import('./report/statsd-reporter.js');
    listeners.push(
      new StatsdReporter({
        server: parseStatsdServer(settings.statsdServer),
        prefix: settings.statsdPrefix,
        hostname: settings.hostname ?? hostname(),
        logger,
      }),
    );
  }
  const self = detectSelfContainer();
  if (self.known.length > 0) logger.debug({ containerIds: self.known }, 'running in a container: enforcement never acts on it');
  if (!settings.enforce && !warnWithoutEnforce) return listeners;
  listeners.push(new Enforcer({ engine, logger, action: settings.action, enforce: settings.enforce, self, counters }));
  return listeners;
}
