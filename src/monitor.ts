import { errorMessage } from './errors.js';
import { describeUnreachable } from './engine/unreachable.js';
import type { EngineCache } from './engine/engine-cache.js';
import type { Engine, EngineEvent } from './engine/types.js';
import type { Logger } from './log.js';
import type { ContainerReport, HostReport } from './policy/types.js';
import { sameReport, sameResults } from './policy/report-equality.js';
import type { Evaluation, Evaluator } from './evaluator.js';
import type { EventCounters } from './event-counters.js';
import { ReportQueue } from './report/report-queue.js';
import type { ReportListener } from './report/types.js';

/** What the metrics, the landing page and the probes read: replaced whole, never edited in place. */
export interface MonitorState {
  containers: ReadonlyMap<string, ContainerReport>;
  host: HostReport;
  /** Whether the last refresh reached the engine. */
  up: boolean;
  /** Unix seconds at the end of the last successful refresh; 0 before the first. */
  lastRefreshTimestamp: number;
  /** Seconds the last refresh took. */
  refreshDuration: number;
}

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

/** Actions after which a container is evaluated at once. */
// `kill` (any signal, e.g. SIGHUP to reload) and `oom` (one process killed) do not end a container by
// themselves: it is looked at again, and goes only if it is no longer running.
const EVALUATE_ON = new Set([
  'start',
  'restart',
  'unpause',
  'pause',
  'update',
  'rename',
  'health_status',
  'exec_start',
  'exec_die',
  'kill',
  'oom',
]);
/**
 * The engine announces `exec_start` before it starts the process, so an exec session (a root shell,
 * say) is evaluated this long after its event, when its process can be seen.
 */
const EXEC_SETTLE_MS = 500;
/** Actions after which a container loses its series at once. */
const REMOVE_ON = new Set(['die', 'destroy', 'stop']);
/** Network actions that change `/networks`; `connect` and `disconnect` also change a container's inspect data. */
const NETWORK_CHANGES = new Set(['create', 'destroy', 'remove', 'connect', 'disconnect', 'update']);
/** Network actions about one container: that container is evaluated again, which is all they can change. */
const NETWORK_MEMBERSHIP = new Set(['connect', 'disconnect']);
/** Image actions that change an image's references (tags and digests), which selectors match. */
const IMAGE_REFERENCE_CHANGES = new Set(['tag', 'untag', 'delete']);
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5_000;
/** A stream that stayed open this long was healthy: the next break starts the backoff over. */
const STREAM_HEALTHY_MS = 30_000;
/** Event evaluations in flight at once; beyond, the stream is read no faster than they finish. */
const MAX_EVENTS_IN_FLIGHT = 64;
/**
 * Containers remembered as touched by an event until the next full refresh. Beyond this many (a flood of
 * events for ever new IDs), a full refresh starts, which forgets the ones it supersedes.
 */
const MAX_TOUCHED = 10_000;
/**
 * `up` falls to 0 at the first refresh that does not reach the engine, and rises to 1 again only after
 * this many refreshes in a row that did (at once for the first contact): an engine whose ping fails every
 * other time stays at 0, so `up == 0 for 1m` fires instead of the value flapping.
 */
export const UP_AFTER_SUCCESSES = 3;
/**
 * With a refresh interval, how soon a refresh is tried again while `up` is 0, so that an engine that came
 * back is seen in seconds, not after UP_AFTER_SUCCESSES intervals.
 */
const UP_RETRY_MS = 5_000;

/** Resolves after `ms`, or at once when `signal` aborts. */
function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Keeps the current verdict of every running container. Refreshes (full lists) and Docker events both
 * feed it; a per-container sequence number keeps a slow full refresh from undoing a newer event.
 * While the engine is unreachable the last-known verdicts stay, with `up` false, so alerts do not flap
 * and the staleness of `lastRefreshTimestamp` tells how old they are.
 */
export class Monitor {
  private current: MonitorState = {
    containers: new Map(),
    host: { results: [] },
    up: false,
    lastRefreshTimestamp: 0,
    refreshDuration: 0,
  };
  /** Sequence number of the latest event per container, so older results never overwrite newer ones. */
  private readonly touched = new Map<string, number>();
  /** Event evaluations still running per container; their `touched` entry must outlive a refresh. */
  private readonly pending = new Map<string, number>();
  /** The same evaluations, for a scrape to wait for: a container whose start event has arrived is in it. */
  private readonly evaluating = new Set<Promise<void>>();
  private sequence = 0;
  private inFlight: Promise<void> | undefined;
  private firstRefreshDone = false;
  private engineReached = false;
  /** The event stream is open: while it is, the cached inspect data is current. */
  private eventsConnected = false;
  /** The next refresh must be a resync: at start, after a failure, after the event stream reconnected. */
  private resyncRequested = true;
  private lastResyncAt = Number.NEGATIVE_INFINITY;
  /** Refreshes in a row that reached the engine (see UP_AFTER_SUCCESSES). */
  private successesInRow = 0;
  /** The event stream opened again after it broke: the engine is back, and the next refresh that reaches it says so at once. */
  private streamReopened = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The kind of the last engine failure logged, so that an outage is logged once, not at every refresh. */
  private loggedFailure: string | undefined;
  private eventsInFlight = 0;
  /** Exec sessions started by health checks; `exec_die` names no command, only the session. */
  private readonly healthExecs = new Set<string>();
  /** Last health status seen per container: only a change is worth an evaluation. */
  private readonly healthStatus = new Map<string, string>();
  private eventSlotFreed: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private readonly stopEvents = new AbortController();
  private eventsLoop: Promise<void> | undefined;
  private readonly reports: ReportQueue;

  constructor(private readonly options: MonitorOptions) {
    this.reports = new ReportQueue(options.listeners, options.logger, options.counters.reportsDropped);
    // Every check's error counter exists from the start, so increase() sees the first error.
    for (const check of options.evaluator.checks) options.counters.checkErrors.inc({ check: check.name }, 0);
  }

  get state(): MonitorState {
    return this.current;
  }

  /** True once the first refresh has finished, whether or not it reached the engine. */
  get refreshed(): boolean {
    return this.firstRefreshDone;
  }

  /** True once the first refresh has finished and the engine has been reached at least once. */
  get ready(): boolean {
    return this.firstRefreshDone && this.engineReached;
  }

  /** Why the exporter is not ready, for `/-/ready`; undefined when it is. */
  get notReadyReason(): string | undefined {
    if (!this.firstRefreshDone) return 'the first refresh has not finished';
    if (!this.engineReached) return 'the engine has not been reached yet';
    return undefined;
  }

  /** Starts the background refresh (interval mode) and the event stream, whose opening (or failure) starts the first refresh. */
  start(): void {
    const { refresh } = this.options;
    this.eventsLoop = this.followEvents();
    this.scheduleWaiverExpiry();
    if (refresh !== 'scrape') {
      this.timer = setInterval(() => void this.refresh(), refresh);
      this.timer.unref();
    }
  }

  /** A reloaded policy: its evaluator judges from the next refresh on, a resync that re-evaluates every container. */
  usePolicy(evaluator: Evaluator): void {
    this.options.evaluator = evaluator;
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
    const waivers = this.options.evaluator.waivers;
    const changed: ContainerReport[] = [];
    const containers = new Map<string, ContainerReport>();
    for (const [id, report] of this.current.containers) {
      const updated = waivers.expire(report);
      if (updated !== report) changed.push(updated);
      containers.set(id, updated);
    }
    if (changed.length === 0) return;
    this.current = { ...this.current, containers };
    this.options.logger.info({ containers: changed.map((report) => report.name) }, 'a waiver has expired; its results are FAILs again');
    this.reports.push(changed);
  }

  /**
   * The state a scrape should expose: in `scrape` mode a fresh evaluation (shared by overlapping scrapes).
   * With a budget (the scraper's timeout), a refresh that takes longer is left running for the next scrape
   * and this one gets the last-known verdicts with `up` false: the engine did not answer in time.
   */
  async forScrape(budgetMs?: number): Promise<MonitorState> {
    if (this.options.refresh !== 'scrape') return this.current;
    // A scan does not list containers: one started just before the scrape comes from its event.
    const refreshed = Promise.all([this.refresh(), ...this.evaluating]);
    if (budgetMs === undefined) {
      await refreshed;
      return this.current;
    }
    const budget = new AbortController();
    const finished = await Promise.race([refreshed.then(() => true), wait(Math.max(0, budgetMs), budget.signal).then(() => false)]);
    budget.abort();
    if (!finished) {
      this.successesInRow = 0;
      this.current = { ...this.current, up: false };
    }
    return this.current;
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

  private runRefresh(): Promise<void> {
    const now = Date.now();
    const resync = this.resyncRequested || !this.eventsConnected || now - this.lastResyncAt >= this.options.resyncIntervalMs;
    if (resync) {
      this.resyncRequested = false;
      this.lastResyncAt = now;
    }
    const { evaluator } = this.options;
    return this.adopt(() => (resync ? evaluator.evaluateAll() : evaluator.evaluateKnown()));
  }

  /** Makes an evaluation the state; a report that says what the current one says keeps the current object. */
  private async adopt(evaluate: () => Promise<Evaluation>): Promise<void> {
    const startSequence = this.sequence;
    const started = performance.now();
    try {
      const evaluation = await evaluate();
      const containers = new Map<string, ContainerReport>();
      // An evaluation under way when a waiver ended may still carry it.
      const { waivers } = this.options.evaluator;
      const evaluated = evaluation.containers.map((report) => {
        const expired = waivers.expire(report);
        const previous = this.current.containers.get(report.id);
        return previous !== undefined && sameReport(previous, expired) ? previous : expired;
      });
      for (const report of evaluated) containers.set(report.id, report);
      for (const failed of evaluation.failed) {
        this.options.logger.warn(
          { container: failed.name, err: failed.error },
          'container could not be evaluated; keeping its last verdict',
        );
        const previous = this.current.containers.get(failed.id);
        if (previous !== undefined) containers.set(failed.id, previous);
      }
      // Containers touched by an event during this refresh keep what the event decided.
      const superseded = new Set<string>();
      for (const [id, touchedAt] of this.touched) {
        if (touchedAt <= startSequence) continue;
        superseded.add(id);
        const newer = this.current.containers.get(id);
        if (newer === undefined) containers.delete(id);
        else containers.set(id, newer);
      }
      for (const [id, touchedAt] of this.touched) {
        if (touchedAt <= startSequence && !this.pending.has(id)) this.touched.delete(id);
      }
      for (const id of this.healthStatus.keys()) if (!containers.has(id)) this.healthStatus.delete(id);
      this.successesInRow += 1;
      const up = this.current.up || !this.engineReached || this.streamReopened || this.successesInRow >= UP_AFTER_SUCCESSES;
      this.streamReopened = false;
      this.engineReached = true;
      if (up && !this.current.up && this.loggedFailure !== undefined) {
        this.options.logger.info({ engine: this.options.engine.address }, 'engine reachable again');
      }
      if (up) this.loggedFailure = undefined;
      const unchanged =
        containers.size === this.current.containers.size &&
        [...containers].every(([id, report]) => this.current.containers.get(id) === report);
      this.current = {
        containers: unchanged ? this.current.containers : containers,
        host: sameResults(evaluation.host.results, this.current.host.results) ? this.current.host : evaluation.host,
        up,
        lastRefreshTimestamp: Date.now() / 1000,
        refreshDuration: (performance.now() - started) / 1000,
      };
      this.countErrors([...evaluation.containers.flatMap((report) => report.results), ...evaluation.host.results]);
      // Only what the state adopted: a report an event has since superseded must not reach enforcement.
      this.reports.push(evaluated.filter((report) => !superseded.has(report.id)));
    } catch (error) {
      this.logFailure(error);
      this.successesInRow = 0;
      this.resyncRequested = true;
      this.current = { ...this.current, up: false, refreshDuration: (performance.now() - started) / 1000 };
    }
    if (!this.current.up) this.retrySoon();
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

  /** Applies an event's result unless a later event for the same container already decided; says whether it did. */
  private setContainer(id: string, report: ContainerReport | undefined, sequence: number): boolean {
    if ((this.touched.get(id) ?? 0) > sequence) return false;
    const containers = new Map(this.current.containers);
    if (report === undefined) containers.delete(id);
    else containers.set(id, this.options.evaluator.waivers.expire(report));
    this.current = { ...this.current, containers };
    return true;
  }

  private isHealthCheckExec(action: string, event: EngineEvent): boolean {
    if (event.execId === undefined) return false;
    if (action === 'exec_die') return this.healthExecs.delete(event.execId);
    if (action !== 'exec_start' || !this.options.evaluator.isHealthCheckExec(event.id, event.Action)) return false;
    // Sessions whose exec_die was missed (a stream break) must not pile up.
    if (this.healthExecs.size >= MAX_TOUCHED) this.healthExecs.clear();
    this.healthExecs.add(event.execId);
    return true;
  }

  /**
   * Network, daemon and image events change what the cache holds: the host's data, a container's
   * networks, an image's references. A container attached or detached is evaluated again. In interval
   * mode, a change to the host's data or an image's is evaluated at once, as container events are,
   * not at the next interval; in scrape mode the next scrape evaluates it.
   */
  private async handleEngineEvent(event: EngineEvent): Promise<void> {
    const { cache } = this.options;
    const network = event.Type === 'network' && NETWORK_CHANGES.has(event.Action);
    const image = event.Type === 'image' && IMAGE_REFERENCE_CHANGES.has(event.Action);
    if (event.Type === 'daemon' || network) cache.hostChanged();
    if (image) cache.forgetImage(event.id, event.name);
    if (network && NETWORK_MEMBERSHIP.has(event.Action)) {
      if (event.container !== undefined) await this.handleEvent({ Type: 'container', Action: 'update', id: event.container });
    } else if ((event.Type === 'daemon' || network || image) && this.options.refresh !== 'scrape') {
      void this.refreshAfterCurrent();
    }
  }

  /** A refresh that starts after the one in flight (which may have read the data before it changed). */
  private refreshAfterCurrent(): Promise<void> {
    return (this.inFlight ?? Promise.resolve()).then(() => this.refresh());
  }

  /** Applies one engine event: evaluate the container at once, or drop its series at once. */
  async handleEvent(event: EngineEvent): Promise<void> {
    if (event.Type !== 'container') return this.handleEngineEvent(event);
    if (event.id === '') return;
    const action = event.Action.split(':')[0] ?? '';
    const remove = REMOVE_ON.has(action);
    if (!remove && !EVALUATE_ON.has(action)) return;
    // A health check runs as an exec every few seconds: neither its exec events nor an unchanged health
    // status say anything new about the container (its process list included).
    const health = action === 'health_status';
    if (this.isHealthCheckExec(action, event)) return;
    if (health) {
      const status = event.Action.slice(event.Action.indexOf(':') + 1).trim();
      if (this.healthStatus.get(event.id) === status) return;
      this.healthStatus.set(event.id, status);
    }
    if (action === 'exec_start') {
      await new Promise((resolve) => setTimeout(resolve, EXEC_SETTLE_MS).unref());
      if (this.stopEvents.signal.aborted) return;
    }
    this.sequence += 1;
    const sequence = this.sequence;
    this.touched.set(event.id, sequence);
    if (this.touched.size > MAX_TOUCHED) void this.refresh();
    if (remove) {
      this.healthStatus.delete(event.id);
      this.setContainer(event.id, undefined, sequence);
      this.options.cache.forgetContainer(event.id);
      return;
    }
    if (!health) this.options.cache.forgetProcesses(event.id);
    this.pending.set(event.id, (this.pending.get(event.id) ?? 0) + 1);
    const evaluation = this.evaluateAfterEvent(event, sequence).finally(() => {
      this.evaluating.delete(evaluation);
      const left = (this.pending.get(event.id) ?? 1) - 1;
      if (left === 0) this.pending.delete(event.id);
      else this.pending.set(event.id, left);
    });
    this.evaluating.add(evaluation);
    await evaluation;
  }

  /** Never throws: a container that cannot be evaluated keeps its last verdict, and a line says why. */
  private async evaluateAfterEvent(event: EngineEvent, sequence: number): Promise<void> {
    try {
      const report = await this.options.evaluator.evaluateContainer(event.id);
      if (this.setContainer(event.id, report, sequence) && report !== undefined) {
        this.countErrors(report.results);
        this.reports.push([report]);
      }
    } catch (error) {
      this.options.logger.warn(
        { container: event.name ?? event.id, err: errorMessage(error) },
        'container could not be evaluated after an event',
      );
    }
  }

  /** Follows `/events`; on a break, reconnects with backoff and resynchronises with a full refresh. */
  private async followEvents(): Promise<void> {
    const signal = this.stopEvents.signal;
    const { engine, logger } = this.options;
    let backoff = BACKOFF_MIN_MS;
    let resync = false;
    while (!signal.aborted) {
      let connectedAt: number | undefined;
      try {
        const events = await engine.events(signal);
        connectedAt = performance.now();
        this.eventsConnected = true;
        if (resync) this.streamReopened = true;
        // Logged at info only after a healthy stream: a stream that keeps breaking at once would fill the log.
        const level = backoff === BACKOFF_MIN_MS ? 'info' : 'debug';
        logger[level](resync ? 'reconnected to Docker events; resynchronising' : 'following Docker events');
        // Whatever happened before the stream opened (or while it was down) is caught up by a resync.
        this.requestResync();
        for await (const event of events) await this.dispatch(event);
      } catch (error) {
        if (!signal.aborted) logger.debug({ err: errorMessage(error), retryInMs: backoff }, 'Docker event stream unavailable');
      }
      this.eventsConnected = false;
      if (signal.aborted) return;
      // Only a stream that stayed open for a while starts the backoff over; one that closes at once does not.
      if (connectedAt !== undefined && performance.now() - connectedAt >= STREAM_HEALTHY_MS) backoff = BACKOFF_MIN_MS;
      // A broken stream usually means the engine went away: find out now, not at the next interval.
      void this.refresh();
      resync = true;
      // The wait ends at shutdown too: close() awaits this loop.
      await wait(backoff, signal);
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    }
  }

  /** Starts an event's evaluation; waits first while MAX_EVENTS_IN_FLIGHT are running, so a flood is not queued in memory. */
  private async dispatch(event: EngineEvent): Promise<void> {
    while (this.eventsInFlight >= MAX_EVENTS_IN_FLIGHT) {
      await new Promise<void>((resolve) => {
        this.eventSlotFreed = resolve;
      });
    }
    this.eventsInFlight += 1;
    void this.handleEvent(event).finally(() => {
      this.eventsInFlight -= 1;
      const wake = this.eventSlotFreed;
      this.eventSlotFreed = undefined;
      wake?.();
    });
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.expiryTimer);
    clearTimeout(this.retryTimer);
    this.stopEvents.abort();
    await this.eventsLoop?.catch(() => undefined);
    await this.inFlight;
    await this.reports.idle();
  }
}
