import { Counter } from 'prom-client';

/**
 * Counters of things that happen, incremented where they happen (prom-client's way) and registered
 * by the exporter as they are: a check that threw or timed out, an enforcement action taken or failed,
 * a report the listeners fell too far behind to receive.
 */
export interface EventCounters {
  readonly checkErrors: Counter<'check'>;
  readonly enforcementActions: Counter<'action'>;
  readonly enforcementFailures: Counter<'action'>;
  readonly reportsDropped: Counter;
  readonly failedLogins: Counter<'reason'>;
  readonly logRecordsDropped: Counter<'reason'>;
}

/** Fresh counters in no registry (the exporter registers them; `check` only counts). */
export function createEventCounters(): EventCounters {
  return {
    checkErrors: new Counter({
      name: 'docker_monitor_check_errors_total',
      help: 'Checks that threw or timed out (each also counts as a failure of that check).',
      labelNames: ['check'] as const,
      registers: [],
    }),
    enforcementActions: new Counter({
      name: 'docker_monitor_enforcement_actions_total',
      help: 'Actions (warn, stop, kill, pause) taken on failing containers under --enforce.',
      labelNames: ['action'] as const,
      registers: [],
    }),
    enforcementFailures: new Counter({
      name: 'docker_monitor_enforcement_failures_total',
      help: 'Enforcement actions that the engine refused or that failed.',
      labelNames: ['action'] as const,
      registers: [],
    }),
    failedLogins: new Counter({
      name: 'docker_monitor_web_failed_logins_total',
      help: 'Requests refused by basic auth (--web.config.file), by reason: missing (no credentials), wrong (user name or password), rate_limited (too many failures from the address).',
      labelNames: ['reason'] as const,
      registers: [],
    }),
    logRecordsDropped: new Counter({
      name: 'docker_monitor_log_records_dropped_total',
      help: 'Log records that could not be written, by reason: no_space (the disk is full), write_error (any other failure). Writing resumes by itself.',
      labelNames: ['reason'] as const,
      registers: [],
    }),
    reportsDropped: new Counter({
      name: 'docker_monitor_reports_dropped_total',
      help: 'Verdicts the text log, StatsD and enforcement fell too far behind to receive (the oldest waiting are dropped).',
      registers: [],
    }),
  };
}
