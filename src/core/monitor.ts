import { errorMessage } from '../errors.js';
import { describeUnreachable } from '../engine/unreachable.js';
import type { EngineCache } from '../engine/engine-cache.js';
import type { Engine, EngineEvent } from '../engine/types.js';
import type { Logger } from '../log.js';
import type { EventCounters } from '../event-counters.js';
import { ReportQueue } from '../report/report-queue.js';
import type { ReportListener } from '../report/types.js';
import type { Evaluator, RefreshEvaluation } from './evaluator.js';
import { ContainerRetries } from './container-retries.js';
import { EventFollower, wait, type EventDecision } from './event-follower.js';
import { VerdictStore, type MonitorState } from './verdict-store.js';

export { UP_AFTER_SUCCESSES, type MonitorState } from './verdict-store.js';

export interface MonitorOptions {
  engine: Engine;
  cache: EngineCache;
  evaluator: Evaluator;
  logger: Logger;
  /** Text log, StatsD and enforcement: fed from a queue after each new state is published, never awaited by it. */
  listeners: readonly ReportListener[];
  counters: Pick<EventCounters, 'checkErrors' | 'reportsDropped'>;
  /** `scrape`: evaluate when asked (scrapes share one evaluation in flight); a number: every so many ms. */
  refresh: 'scrape' | number;
  /**
   * How often a refresh is a resync (every container listed and inspected again) rather than a scan of
   * the containers the events keep current. A refresh is also a resync while the event stream is down,
   * and after it reconnects.
   */
  resyncIntervalMs: number;
}

/**
 * The engine announces `exec_start` before it starts the process, so an exec session (a root shell,
 * say) is evaluated this long after its event, when its process can be seen.
 */
const EXEC_SETTLE_MS = 500;
/**
 * Containers remembered as touched by an event until the next full refresh. Beyond this many (a flood of
 * events for ever new IDs), a full refresh starts, which forgets the ones it supersedes.
 */
const MAX_TOUCHED = 10_000;
/**
 * With a refresh interval, how soon a refresh is tried again while `up` is 0, so that an engine that came
 * back is seen in seconds, not after UP_AFTER_SUCCESSES intervals.
 */
const UP_RETRY_MS = 5_000;

/**
 * Decides what runs when: refreshes (on an interval or per scrape; a resync or a scan), the evaluation
 * after each event, retries while the engine is down, and the waiver-expiry timer. The event follower
 * says what an event asks for and clears cached data, the evaluator judges, the verdict store keeps the
 * verdicts; while the engine is unreachable the last-known verdicts stay, with `up` false.
 */
export class Monitor {
  private readonly store: VerdictStore;
  private readonly follower: EventFollower;
  /** Event evaluations in flight, for a scrape to wait for: a container whose start event has arrived is in it. */
  private readonly evaluating = new Set<Promise<void>>();
  private inFlight: Promise<void> | undefined;
  private firstRefreshDone = false;
  /** The next refresh must be a resync: at start, after a failure, after the event stream reconnected. */
  private resyncRequested = true;
  private lastResyncAt = Number.NEGATIVE_INFINITY;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The kind of the last engine failure logged, so that an outage is logged once, not at every refresh. */
  private loggedFailure: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private readonly stopEvents = new AbortController();
  private eventsLoop: Promise<void> | undefined;
  private readonly reports: ReportQueue;
  private readonly retries = new ContainerRetries();

  constructor(private readonly options: MonitorOptions) {
    this.reports = new ReportQueue(options.listeners, options.logger, options.counters.reportsDropped);
    this.store = new VerdictStore(options.evaluator.waivers);
    this.follower = new EventFollower(options.engine, options.cache, options.logger);
    // Every check's error counter exists from the start, so increase() sees the first error.
    for (const check of options.evaluator.checks) options.counters.checkErrors.inc({ check: check.name }, 0);
  }

  get state(): MonitorState {
    return this.store.state;
  }

  /** True once the first refresh has finished, whether or not it reached the engine. */
  get refreshed(): boolean {
    return this.firstRefreshDone;
  }

  /** True once the first refresh has finished and the engine has been reached at least once. */
  get ready(): boolean {
    return this.firstRefreshDone && this.store.reached;
  }

  /** Why the exporter is not ready, for `/-/ready`; undefined when it is. */
  get notReadyReason(): string | undefined {
    if (!this.firstRefreshDone) return 'the first refresh has not finished';
    if (!this.store.reached) return 'the engine has not been reached yet';
    return undefined;
  }

  /** Starts the background refresh (interval mode) and the event stream, whose opening (or failure) starts the first refresh. */
  start(): void {
    const { refresh } = this.options;
    this.eventsLoop = this.follower.follow(
      {
        opened: (reopened) => {
          if (reopened) this.store.streamReopenedAfterBreak();
          // Whatever happened before the stream opened (or while it was down) is caught up by a resync.
          this.requestResync();
        },
        // A broken stream usually means the engine went away: find out now, not at the next interval.
        broken: () => void this.refresh(),
        event: (event) => this.handleEvent(event),
      },
      this.stopEvents.signal,
    );
    this.scheduleWaiverExpiry();
    if (refresh !== 'scrape') {
      this.timer = setInterval(() => void this.refresh(), refresh);
      this.timer.unref();
    }
  }

  /** A reloaded policy: its evaluator judges from the next refresh on, a resync that re-evaluates every container. */
  usePolicy(evaluator: Evaluator): void {
    this.options.evaluator = evaluator;
    this.store.useWaivers(evaluator.waivers);
    for (const check of evaluator.checks) this.options.counters.checkErrors.inc({ check: check.name }, 0);
    clearTimeout(this.expiryTimer);
    this.scheduleWaiverExpiry();
    this.requestResync();
  }

  /**
   * At the instant the next waiver ends, its results become FAILs again: re-derived from the current
   * state (no check runs again), whatever the refresh mode. setTimeout holds at most ~24.8 days, so a
   * later expiry is approached in steps.
   */
  private scheduleWaiverExpiry(): void {
    const waivers = this.options.evaluator.waivers;
    const next = waivers.nextExpiry();
    if (next === undefined) return;
    const delay = Math.min(Math.max(0, next - waivers.now()), 2 ** 31 - 1);
    this.expiryTimer = setTimeout(() => {
      this.expireWaivers();
      this.scheduleWaiverExpiry();
    }, delay);
    this.expiryTimer.unref();
  }

  /** Applies the waivers that have ended to the current state; tells the listeners of containers now failing. */
  expireWaivers(): void {
    const changed = this.store.expireWaivers();
    if (changed.length === 0) return;
    this.options.logger.info({ containers: changed.map((report) => report.name) }, 'a waiver has expired; its results are FAILs again');
    this.reports.push(changed);
  }

  /**
   * The state a scrape should expose: in `scrape` mode a fresh evaluation (shared by overlapping scrapes).
   * With a budget (the scraper's timeout), a refresh that takes longer is left running for the next scrape
   * and this one gets the last-known verdicts with `up` false: the engine did not answer in time.
   */
  async forScrape(budgetMs?: number): Promise<MonitorState> {
    if (this.options.refresh !== 'scrape') return this.store.state;
    // A scan does not list containers: one started just before the scrape comes from its event.
    const refresh = this.refresh();
    const refreshed = Promise.all([refresh, ...this.evaluating]);
    if (budgetMs === undefined) {
      await refreshed;
      return this.store.state;
    }
    // Only a refresh past the budget says the engine did not answer in time: event evaluations still
    // running (a burst of starts) are served from the last state without counting the engine down.
    let refreshFinished = false;
    void refresh.then(() => {
      refreshFinished = true;
    });
    const budget = new AbortController();
    const finished = await Promise.race([refreshed.then(() => true), wait(Math.max(0, budgetMs), budget.signal).then(() => false)]);
    budget.abort();
    if (!finished && !refreshFinished) this.store.timedOut();
    return this.store.state;
  }

  /**
   * A refresh: a scan of the containers the events keep current, or a resync when one is due (see
   * MonitorOptions.resyncIntervalMs). Concurrent callers share the one in flight. Never throws.
   */
  refresh(): Promise<void> {
    this.inFlight ??= this.runRefresh().finally(() => {
      this.inFlight = undefined;
      this.firstRefreshDone = true;
    });
    return this.inFlight;
  }

  /** The next refresh is a resync; one is started once the refresh in flight, if any, has finished. */
  private requestResync(): void {
    this.resyncRequested = true;
    void this.refreshAfterCurrent();
  }

  /** A refresh that starts after the one in flight (which may have read the data before it changed). */
  private refreshAfterCurrent(): Promise<void> {
    return (this.inFlight ?? Promise.resolve()).then(() => this.refresh());
  }

  private async runRefresh(): Promise<void> {
    const now = Date.now();
    const resync = this.resyncRequested || !this.follower.connected || now - this.lastResyncAt >= this.options.resyncIntervalMs;
    if (resync) {
      this.resyncRequested = false;
      this.lastResyncAt = now;
    }
    const { evaluator, logger } = this.options;
    const start = this.store.refreshStarts();
    const started = performance.now();
    const seconds = (): number => (performance.now() - started) / 1000;
    let evaluation: RefreshEvaluation;
    try {
      if (resync) this.follower.beginResync();
      else this.follower.beginScan();
      evaluation = await (resync ? evaluator.evaluateAll() : evaluator.evaluateKnown());
    } catch (error) {
      if (this.stopEvents.signal.aborted) return;
      this.logFailure(error);
      this.resyncRequested = true;
      this.store.refreshFailed(seconds());
      this.retrySoon();
      return;
    }
    // Closed meanwhile: nobody reads this state any more, and no listener may act on it.
    if (this.stopEvents.signal.aborted) return;
    this.follower.afterEvaluation(evaluation, resync);
    for (const report of evaluation.containers) this.retries.succeeded(report.id);
    for (const failed of evaluation.failed) {
      if (!this.retries.failing(failed.id))
        logger.warn({ container: failed.name, err: failed.error }, 'container could not be evaluated; keeping its last verdict');
      this.retryLater(failed.id, failed.name);
    }
    const { reports, cameUp } = this.store.adoptRefresh(evaluation, start, seconds());
    if (cameUp && this.loggedFailure !== undefined) logger.info({ engine: this.options.engine.address }, 'engine reachable again');
    if (this.store.state.up) this.loggedFailure = undefined;
    this.countErrors([...evaluation.containers.flatMap((report) => report.results), ...evaluation.host.results]);
    this.reports.push(reports);
    if (!this.store.state.up) this.retrySoon();
  }

  /** With a refresh interval, tries again within UP_RETRY_MS while the engine is not counted up. */
  private retrySoon(): void {
    const { refresh } = this.options;
    if (refresh === 'scrape' || this.retryTimer !== undefined || this.stopEvents.signal.aborted) return;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        void this.refresh();
      },
      Math.min(refresh, UP_RETRY_MS),
    );
    this.retryTimer.unref();
  }

  /** One error line per kind of outage (denied, missing, refused…), not one per refresh. */
  private logFailure(error: unknown): void {
    const { kind, hint } = describeUnreachable(this.options.engine.address, error);
    if (kind === this.loggedFailure) return;
    this.loggedFailure = kind;
    // The hint goes in the message: it is what a user reads first, in text and JSON logs alike.
    this.options.logger.error(
      { engine: this.options.engine.address },
      `cannot reach the Docker engine at ${this.options.engine.address}: ${hint}; serving the last-known verdicts with docker_monitor_up 0`,
    );
  }

  private countErrors(results: readonly { check: string; result: string }[]): void {
    for (const { check, result } of results) {
      if (result === 'error') this.options.counters.checkErrors.inc({ check });
    }
  }

  /**
   * Applies one engine event: evaluate the container at once, or drop its series at once. A change to
   * the host's data or an image's is evaluated at once in interval mode, as container events are, not at
   * the next interval; in scrape mode the next scrape evaluates it.
   */
  async handleEvent(event: EngineEvent): Promise<void> {
    const decision = this.follower.decide(event);
    if (decision.kind === 'ignore') return;
    if (decision.kind === 'engine') {
      if (this.options.refresh !== 'scrape') void this.refreshAfterCurrent();
      return;
    }
    if (decision.kind === 'evaluate' && decision.settle) {
      // Ends at shutdown too: close() waits for the events in flight, and an unref'd timer would let the
      // process run out of work while it waits (Node's exit 13, an unsettled top-level await).
      await wait(EXEC_SETTLE_MS, this.stopEvents.signal);
      if (this.stopEvents.signal.aborted) return;
    }
    await this.applyDecision(decision);
  }

  /** Numbers a container's change and drops its series, or evaluates it. */
  private async applyDecision(decision: Extract<EventDecision, { kind: 'remove' | 'evaluate' }>): Promise<void> {
    const sequence = this.store.touch(decision.id);
    if (this.store.touchedCount > MAX_TOUCHED) void this.refresh();
    this.follower.containerTouched(decision);
    if (decision.kind === 'remove') {
      this.retries.succeeded(decision.id);
      this.store.applyEvent(decision.id, undefined, sequence);
      return;
    }
    this.store.evaluationStarted(decision.id);
    const evaluation = this.evaluateAfterEvent(decision.id, decision.name, sequence).finally(() => {
      this.evaluating.delete(evaluation);
      this.store.evaluationEnded(decision.id);
    });
    this.evaluating.add(evaluation);
    await evaluation;
  }

  /**
   * Never throws: a container that cannot be evaluated keeps its last verdict, a line says why (once,
   * not at every retry), and it is evaluated again shortly.
   */
  private async evaluateAfterEvent(id: string, name: string | undefined, sequence: number): Promise<void> {
    try {
      const { report, stopped } = await this.options.evaluator.judge(id);
      this.retries.succeeded(id);
      if (stopped) this.follower.containerStopped(id);
      if (this.store.applyEvent(id, report, sequence) && report !== undefined) {
        this.countErrors(report.results);
        this.reports.push([report]);
      }
    } catch (error) {
      if (this.stopEvents.signal.aborted) return;
      const level = this.retries.failing(id) ? 'debug' : 'warn';
      this.options.logger[level](
        { container: name ?? id, err: errorMessage(error) },
        'container could not be evaluated; keeping its last verdict',
      );
      this.retryLater(id, name);
    }
  }

  /**
   * Evaluates a container the engine failed on again later, as an event would. Its callers return first
   * once closed, and close() clears the timers, so no retry runs after it.
   */
  private retryLater(id: string, name: string | undefined): void {
    this.retries.schedule(id, () => void this.applyDecision({ kind: 'evaluate', id, name, settle: false, processesChanged: false }));
  }

  /**
   * Stops following the engine and lets the listeners finish the reports already queued. A refresh in
   * flight is abandoned, not awaited: a slow engine or a busy users' check would hold shutdown for up to
   * their timeouts (longer than `docker stop` waits before SIGKILL), and its verdicts would go nowhere.
   */
  async close(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.expiryTimer);
    clearTimeout(this.retryTimer);
    this.retries.clear();
    this.stopEvents.abort();
    await this.eventsLoop?.catch(() => undefined);
    await this.reports.idle();
  }
}
