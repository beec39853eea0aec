import type { ContainerReport, HostReport } from '../policy/types.js';
import { sameReport, sameResults } from '../policy/report-equality.js';
import type { WaiverSet } from '../policy/waivers.js';
import type { Evaluation } from './evaluator.js';

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

/**
 * `up` falls to 0 at the first refresh that does not reach the engine, and rises to 1 again only after
 * this many refreshes in a row that did (at once for the first contact): an engine whose ping fails every
 * other time stays at 0, so `up == 0 for 1m` fires instead of the value flapping.
 */
export const UP_AFTER_SUCCESSES = 3;

/** What adopting a refresh's evaluation did. */
export interface Adopted {
  /** The reports the state took (not those a newer event superseded): what the listeners are told. */
  reports: ContainerReport[];
  /** `up` rose to 1 with this refresh. */
  cameUp: boolean;
}

/**
 * Where a refresh began: the number of the latest event, and the containers whose event evaluations
 * were still running. Such an evaluation may not have read the container yet when the refresh reads
 * it from the cache (the read before the event), so the refresh yields to it as to a later event.
 */
export interface RefreshStart {
  sequence: number;
  pending: ReadonlySet<string>;
}

/**
 * The verdicts: the state object, and the sequence numbers that decide between a refresh and the events
 * that arrived while it ran. Every event is numbered; a refresh remembers where it started (RefreshStart),
 * and keeps its hands off every container an event has touched since or was still evaluating then. Knows
 * nothing of the engine: what comes in is evaluations and reports.
 */
export class VerdictStore {
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
  private engineReached = false;
  /** Refreshes in a row that reached the engine (see UP_AFTER_SUCCESSES). */
  private successesInRow = 0;
  /** The event stream opened again after it broke: the engine is back, and the next refresh that reaches it says so at once. */
  private streamReopened = false;

  /** @param waivers whose ends are applied to every report the state takes */
  constructor(private waivers: Pick<WaiverSet, 'expire'>) {}

  get state(): MonitorState {
    return this.current;
  }

  /** Whether a refresh has reached the engine at least once. */
  get reached(): boolean {
    return this.engineReached;
  }

  /** A refresh starts now: it yields to every event numbered after it, and to the evaluations still running. */
  refreshStarts(): RefreshStart {
    return { sequence: this.sequence, pending: new Set(this.pending.keys()) };
  }

  /** Containers remembered as touched by an event until a refresh that started after it. */
  get touchedCount(): number {
    return this.touched.size;
  }

  /** A reloaded policy's waivers. */
  useWaivers(waivers: Pick<WaiverSet, 'expire'>): void {
    this.waivers = waivers;
  }

  /** An event about a container: returns its sequence number. */
  touch(id: string): number {
    this.sequence += 1;
    this.touched.set(id, this.sequence);
    return this.sequence;
  }

  /** An event's evaluation of a container began: its `touched` entry outlives any refresh until it ends. */
  evaluationStarted(id: string): void {
    this.pending.set(id, (this.pending.get(id) ?? 0) + 1);
  }

  evaluationEnded(id: string): void {
    const left = (this.pending.get(id) ?? 1) - 1;
    if (left === 0) this.pending.delete(id);
    else this.pending.set(id, left);
  }

  /** Applies an event's result (undefined: the container is gone) unless a later event for it already decided; says whether it did. */
  applyEvent(id: string, report: ContainerReport | undefined, sequence: number): boolean {
    if ((this.touched.get(id) ?? 0) > sequence) return false;
    const containers = new Map(this.current.containers);
    if (report === undefined) containers.delete(id);
    else containers.set(id, this.waivers.expire(report));
    this.current = { ...this.current, containers };
    return true;
  }

  /**
   * Makes a refresh's evaluation the state; a report that says what the current one says keeps the
   * current object. Containers that failed keep their last verdict; containers an event touched after
   * `start`, or was still evaluating at `start`, keep what the event decided.
   */
  adoptRefresh(evaluation: Evaluation, start: RefreshStart, durationSeconds: number): Adopted {
    const containers = new Map<string, ContainerReport>();
    // An evaluation under way when a waiver ended may still carry it.
    const evaluated = evaluation.containers.map((report) => {
      const expired = this.waivers.expire(report);
      const previous = this.current.containers.get(report.id);
      return previous !== undefined && sameReport(previous, expired) ? previous : expired;
    });
    for (const report of evaluated) containers.set(report.id, report);
    for (const failed of evaluation.failed) {
      const previous = this.current.containers.get(failed.id);
      if (previous !== undefined) containers.set(failed.id, previous);
    }
    const superseded = new Set<string>();
    for (const [id, touchedAt] of this.touched) {
      if (touchedAt <= start.sequence && !start.pending.has(id)) continue;
      superseded.add(id);
      const newer = this.current.containers.get(id);
      if (newer === undefined) containers.delete(id);
      else containers.set(id, newer);
    }
    for (const [id, touchedAt] of this.touched) {
      if (touchedAt <= start.sequence && !this.pending.has(id)) this.touched.delete(id);
    }
    this.successesInRow += 1;
    const up = this.current.up || !this.engineReached || this.streamReopened || this.successesInRow >= UP_AFTER_SUCCESSES;
    const cameUp = up && !this.current.up;
    this.streamReopened = false;
    this.engineReached = true;
    const unchanged =
      containers.size === this.current.containers.size &&
      [...containers].every(([id, report]) => this.current.containers.get(id) === report);
    this.current = {
      containers: unchanged ? this.current.containers : containers,
      host: sameResults(evaluation.host.results, this.current.host.results) ? this.current.host : evaluation.host,
      up,
      lastRefreshTimestamp: Date.now() / 1000,
      refreshDuration: durationSeconds,
    };
    // Only what the state adopted: a report an event has since superseded must not reach enforcement.
    return { reports: evaluated.filter((report) => !superseded.has(report.id)), cameUp };
  }

  /** A refresh that did not reach the engine: the last-known verdicts stay, with `up` 0. */
  refreshFailed(durationSeconds: number): void {
    this.successesInRow = 0;
    this.current = { ...this.current, up: false, refreshDuration: durationSeconds };
  }

  /** A scrape's budget ran out before the refresh finished: the engine did not answer in time. */
  timedOut(): void {
    this.successesInRow = 0;
    this.current = { ...this.current, up: false };
  }

  /** The event stream opened again after a break: the next refresh that reaches the engine puts `up` back at once. */
  streamReopenedAfterBreak(): void {
    this.streamReopened = true;
  }

  /** Applies the waivers that have ended to the state; returns the reports that changed (now failing). */
  expireWaivers(): ContainerReport[] {
    const changed: ContainerReport[] = [];
    const containers = new Map<string, ContainerReport>();
    for (const [id, report] of this.current.containers) {
      const updated = this.waivers.expire(report);
      if (updated !== report) changed.push(updated);
      containers.set(id, updated);
    }
    if (changed.length > 0) this.current = { ...this.current, containers };
    return changed;
  }
}
