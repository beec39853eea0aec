import { errorMessage } from '../errors.js';
import type { EventCounters } from '../event-counters.js';
import type { Logger } from '../log.js';
import type { ContainerReport } from '../policy/types.js';
import type { ReportListener } from './types.js';

/** Reports waiting for the listeners; past this the oldest are dropped (and counted). */
export const REPORT_QUEUE_LIMIT = 10_000;
/** Reports handed on between two turns of the event loop. */
const YIELD_EVERY = 100;

/**
 * Hands published reports to the listeners (text log, StatsD, enforcement) one at a time, in order,
 * away from the path that published them: a refresh, an event and so a scrape never wait for a
 * container to be stopped. Bounded: when listeners fall behind, the oldest reports are dropped, since a
 * newer verdict on the same container follows at the next refresh or event.
 */
export class ReportQueue {
  private readonly waiting: ContainerReport[] = [];
  private draining: Promise<void> | undefined;
  private warned = false;

  constructor(
    private readonly listeners: readonly ReportListener[],
    private readonly logger: Logger,
    private readonly dropped: EventCounters['reportsDropped'],
    private readonly limit = REPORT_QUEUE_LIMIT,
  ) {}

  /** Queues reports for the listeners and returns at once. */
  push(reports: readonly ContainerReport[]): void {
    if (this.listeners.length === 0) return;
    this.waiting.push(...reports);
    const excess = this.waiting.length - this.limit;
    if (excess > 0) {
      this.waiting.splice(0, excess);
      if (!this.warned) this.logger.warn({ limit: this.limit }, 'report listeners fall behind; dropping the oldest reports');
      this.warned = true;
      this.dropped.inc(excess);
    }
    this.kick();
  }

  /** Resolves once every queued report has been handed to every listener. */
  async idle(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  private kick(): void {
    if (this.draining !== undefined) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      // A report pushed while the finished drain was settling would otherwise wait for the next push.
      if (this.waiting.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    let handed = 0;
    for (let report = this.waiting.shift(); report !== undefined; report = this.waiting.shift()) {
      // Synchronous listeners (the log, StatsD) would otherwise hold the event loop, and the scrapes, for a whole backlog.
      if ((handed += 1) % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
      for (const listener of this.listeners) {
        try {
          await listener.onReport(report);
        } catch (error) {
          this.logger.error({ container: report.name, err: errorMessage(error) }, 'report listener failed');
        }
      }
    }
  }
}
