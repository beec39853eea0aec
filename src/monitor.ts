import { errorMessage } from './errors.js';
import type { EngineCache } from './engine/engine-cache.js';
import type { Engine, EngineEvent } from './engine/types.js';
import type { Evaluator } from './evaluator.js';
import type { Logger } from './log.js';
import type { ContainerReport, HostReport } from './policy/types.js';
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
}

/** Actions after which a container is evaluated at once. */
// `kill` (any signal, e.g. SIGHUP to reload) and `oom` (one process killed) do not end a container by
// themselves: it is looked at again, and goes only if it is no longer running.
const EVALUATE_ON = new Set(['start', 'restart', 'unpause', 'pause', 'update', 'rename', 'health_status', 'exec_start', 'exec_die', 'kill', 'oom']);
/**
 * The engine announces `exec_start` before it starts the process, so an exec session (a root shell,
 * say) is evaluated this long after its event, when its process can be seen.
 */
const EXEC_SETTLE_MS = 500;
/** Actions after which a container loses its series at once. */
const REMOVE_ON = new Set(['die', 'destroy', 'stop']);
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5_000;

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
  private sequence = 0;
  private inFlight: Promise<void> | undefined;
  private firstRefreshDone = false;
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
  get ready(): boolean {
    return this.firstRefreshDone;
  }

  /** Starts the background refresh (interval mode) and the event stream. */
  start(): void {
    const { refresh } = this.options;
    this.eventsLoop = this.followEvents();
    void this.refresh();
    this.scheduleWaiverExpiry();
    if (refresh !== 'scrape') {
      this.timer = setInterval(() => void this.refresh(), refresh);
      this.timer.unref();
    }
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

  /** The state a scrape should expose: in `scrape` mode a fresh evaluation (shared by overlapping scrapes). */
  async forScrape(): Promise<MonitorState> {
    if (this.options.refresh === 'scrape') await this.refresh();
    return this.current;
  }

  /** A full refresh; concurrent callers share the one in flight. Never throws. */
  refresh(): Promise<void> {
    this.inFlight ??= this.fullRefresh().finally(() => {
      this.inFlight = undefined;
      this.firstRefreshDone = true;
    });
    return this.inFlight;
  }

  private async fullRefresh(): Promise<void> {
    const startSequence = this.sequence;
    const started = performance.now();
    try {
      const evaluation = await this.options.evaluator.evaluateAll();
      const containers = new Map<string, ContainerReport>();
      // An evaluation under way when a waiver ended may still carry it.
      const { waivers } = this.options.evaluator;
      for (const report of evaluation.containers) containers.set(report.id, waivers.expire(report));
      for (const failed of evaluation.failed) {
        this.options.logger.warn({ container: failed.name, err: failed.error }, 'container could not be evaluated; keeping its last verdict');
        const previous = this.current.containers.get(failed.id);
        if (previous !== undefined) containers.set(failed.id, previous);
      }
      // Containers touched by an event during this refresh keep what the event decided.
      for (const [id, touchedAt] of this.touched) {
        if (touchedAt <= startSequence) continue;
        const newer = this.current.containers.get(id);
        if (newer === undefined) containers.delete(id);
        else containers.set(id, newer);
      }
      for (const [id, touchedAt] of this.touched) {
        if (touchedAt <= startSequence && !this.pending.has(id)) this.touched.delete(id);
      }
      this.current = {
        containers,
        host: evaluation.host,
        up: true,
        lastRefreshTimestamp: Date.now() / 1000,
        refreshDuration: (performance.now() - started) / 1000,
      };
      this.countErrors([...evaluation.containers.flatMap((report) => report.results), ...evaluation.host.results]);
      // Only what the state adopted: a report an event has since superseded must not reach enforcement.
      this.reports.push(evaluation.containers.filter((report) => containers.get(report.id) === report));
    } catch (error) {
      if (this.current.up) this.options.logger.error({ err: errorMessage(error) }, 'engine unreachable; serving the last-known verdicts with docker_monitor_up 0');
      this.current = { ...this.current, up: false, refreshDuration: (performance.now() - started) / 1000 };
    }
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

  /** Applies one engine event: evaluate the container at once, or drop its series at once. */
  async handleEvent(event: EngineEvent): Promise<void> {
    if (event.Type !== 'container' || event.id === '') return;
    const action = event.Action.split(':')[0] ?? '';
    const remove = REMOVE_ON.has(action);
    if (!remove && !EVALUATE_ON.has(action)) return;
    if (action === 'exec_start') {
      await new Promise((resolve) => setTimeout(resolve, EXEC_SETTLE_MS).unref());
      if (this.stopEvents.signal.aborted) return;
    }
    this.sequence += 1;
    const sequence = this.sequence;
    this.touched.set(event.id, sequence);
    if (remove) {
      this.setContainer(event.id, undefined, sequence);
      this.options.cache.forgetContainer(event.id);
      return;
    }
    this.options.cache.forgetContainer(event.id);
    this.pending.set(event.id, (this.pending.get(event.id) ?? 0) + 1);
    try {
      const report = await this.options.evaluator.evaluateContainer(event.id);
      if (this.setContainer(event.id, report, sequence) && report !== undefined) {
        this.countErrors(report.results);
        this.reports.push([report]);
      }
    } catch (error) {
      this.options.logger.warn({ container: event.name ?? event.id, err: errorMessage(error) }, 'container could not be evaluated after an event');
    } finally {
      const left = (this.pending.get(event.id) ?? 1) - 1;
      if (left === 0) this.pending.delete(event.id);
      else this.pending.set(event.id, left);
    }
  }

  /** Follows `/events`; on a break, reconnects with backoff and resynchronises with a full refresh. */
  private async followEvents(): Promise<void> {
    const signal = this.stopEvents.signal;
    const { engine, logger } = this.options;
    let backoff = BACKOFF_MIN_MS;
    let resync = false;
    while (!signal.aborted) {
      try {
        const events = await engine.events(signal);
        backoff = BACKOFF_MIN_MS;
        logger.info(resync ? 'reconnected to Docker events; resynchronising' : 'following Docker events');
        // Whatever happened while the stream was down is caught up by a full list.
        if (resync) void this.refresh();
        for await (const event of events) void this.handleEvent(event);
      } catch (error) {
        if (!signal.aborted) logger.debug({ err: errorMessage(error), retryInMs: backoff }, 'Docker event stream unavailable');
      }
      if (signal.aborted) return;
      // A broken stream usually means the engine went away: find out now, not at the next interval.
      void this.refresh();
      resync = true;
      await new Promise((resolve) => setTimeout(resolve, backoff).unref());
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.expiryTimer);
    this.stopEvents.abort();
    await this.eventsLoop?.catch(() => undefined);
    await this.inFlight;
    await this.reports.idle();
  }
}
