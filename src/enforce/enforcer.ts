import { BoundedMap } from '../bounded-map.js';
import type { PolicyAction } from '../config/settings.js';
import type { Engine } from '../engine/types.js';
import type { EventCounters } from '../event-counters.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { isFailure } from '../policy/chain.js';
import type { ContainerReport } from '../policy/types.js';
import type { ReportListener } from '../report/types.js';

export interface EnforcerOptions {
  engine: Pick<Engine, 'act'>;
  logger: Logger;
  /** `[policy] action`. */
  action: PolicyAction;
  /** `--enforce`: without it every action is only a warning of what would have been done. */
  enforce: boolean;
  /** docker-monitor's own container, never acted on. */
  self: { matches(containerId: string): boolean };
  counters: Pick<EventCounters, 'enforcementActions' | 'enforcementFailures'>;
}

/** Containers remembered as handled for their current start; the oldest are forgotten past this. */
const MAX_REMEMBERED = 10_000;

const DONE: Readonly<Record<PolicyAction, string>> = { warn: 'warned about', stop: 'stopped', kill: 'killed', pause: 'paused' };

/**
 * `--enforce`: applies `[policy] action` to a container whose chain failed, at most once per start of
 * that container (a restart is a new start), never to docker-monitor's own container or to an image in
 * `[policy] always_allow`. Every decision is logged with the container, image, failed checks and action.
 * Actions are counted by name, failed actions separately; a failed action is logged, never thrown.
 * Without --enforce, or with action = warn, it only warns (counted as `warn`).
 */
export class Enforcer implements ReportListener {
  /** Container ID → the StartedAt it was last handled for. */
  private readonly handled = new BoundedMap<string, string>(MAX_REMEMBERED);
  /** Container ID → the StartedAt for which "only errors, not acting" was already logged. */
  private readonly skipped = new BoundedMap<string, string>(MAX_REMEMBERED);

  constructor(private readonly options: EnforcerOptions) {
    // The configured action's counters exist from the start, so increase() sees the first action.
    const action = options.enforce ? options.action : 'warn';
    options.counters.enforcementActions.inc({ action }, 0);
    if (action !== 'warn') options.counters.enforcementFailures.inc({ action }, 0);
  }

  async onReport(report: ContainerReport): Promise<void> {
    if (report.compliant || report.alwaysAllowed) return;
    if (this.handled.get(report.id) === report.startedAt) return;
    if (!report.results.some((result) => result.result === 'fail')) {
      // Only errors (a scanner timed out, the engine hiccuped): nothing is known to be wrong, so nothing
      // is killed. The container is not marked as handled: a real FAIL later in this start still counts.
      if (this.skipped.get(report.id) === report.startedAt) return;
      this.skipped.set(report.id, report.startedAt);
      this.options.logger.warn(
        { container: report.name, image: report.image, erroredChecks: report.results.filter(isFailure).map((result) => result.check) },
        'container failed the policy only through check errors; not acting on it',
      );
      return;
    }
    // Marked before acting: a refresh and an event may report the same container at the same time.
    this.handled.set(report.id, report.startedAt);
    const { logger, enforce } = this.options;
    const action: PolicyAction = enforce ? this.options.action : 'warn';
    const fields = {
      container: report.name,
      id: report.id.slice(0, 12),
      image: report.image,
      failedChecks: report.results.filter(isFailure).map((result) => result.check),
      action,
    };
    if (this.options.self.matches(report.id)) {
      logger.warn({ ...fields, action: 'none' }, "docker-monitor's own container failed the policy; never acting on it");
      return;
    }
    if (action === 'warn') {
      const wouldDo = this.options.action === 'warn' ? '' : `; would ${this.options.action} it with --enforce`;
      logger.warn(fields, `container failed the policy${wouldDo}`);
      this.options.counters.enforcementActions.inc({ action: 'warn' });
      return;
    }
    try {
      await this.options.engine.act(report.id, action);
      this.options.counters.enforcementActions.inc({ action });
      logger.warn(fields, `${DONE[action]} container that failed the policy`);
    } catch (error) {
      this.options.counters.enforcementFailures.inc({ action });
      logger.error({ ...fields, err: errorMessage(error) }, `could not ${action} container that failed the policy`);
    }
  }
}
