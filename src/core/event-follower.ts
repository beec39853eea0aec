import { errorMessage } from '../errors.js';
import type { EngineCache } from '../engine/engine-cache.js';
import { healthCheckCommand } from '../engine/health-command.js';
import type { Engine, EngineEvent } from '../engine/types.js';
import type { Logger } from '../log.js';

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
/** Actions after which a container loses its series at once. */
const REMOVE_ON = new Set(['die', 'destroy', 'stop']);
/** Network actions that change `/networks`. */
const NETWORK_CHANGES = new Set(['create', 'destroy', 'remove', 'update']);
/**
 * Network actions about one container: that container is evaluated again, which is all they can change.
 * The host's data stay: `GET /networks` lists no members (`Containers` is `{}` in Docker's and Podman's
 * lists), and every container start and stop sends one, which would otherwise run the host-reading checks
 * of the whole fleet again.
 */
const NETWORK_MEMBERSHIP = new Set(['connect', 'disconnect']);
/** Image actions that change an image's references (tags and digests), which selectors match. */
const IMAGE_REFERENCE_CHANGES = new Set(['tag', 'untag', 'delete']);
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5_000;
/** A stream that stayed open this long was healthy: the next break starts the backoff over. */
const STREAM_HEALTHY_MS = 30_000;
/** Event evaluations in flight at once; beyond, the stream is read no faster than they finish. */
const MAX_EVENTS_IN_FLIGHT = 64;
/** Health-check exec sessions remembered at most: sessions whose exec_die was missed (a stream break) must not pile up. */
const MAX_HEALTH_EXECS = 10_000;

/** What an event asks for. */
export type EventDecision =
  /** Nothing new about any container. */
  | { kind: 'ignore' }
  /** The host's data or an image's changed (already forgotten): a refresh sees it. */
  | { kind: 'engine' }
  /** The container stopped or went: its series go at once. */
  | { kind: 'remove'; id: string; name: string | undefined }
  /**
   * The container is evaluated again. `settle`: an exec session the engine announces before it starts
   * the process, evaluated a moment later, when its process can be seen. `processesChanged`: false for a
   * health status, which changes no process.
   */
  | { kind: 'evaluate'; id: string; name: string | undefined; settle: boolean; processesChanged: boolean };

/** What a refresh evaluated: the cached data of anything else is dropped. */
export interface EvaluatedSet {
  /** Every container listed (a resync) or known (a scan), and the images they use. */
  running: ReadonlySet<string>;
  imageIds: ReadonlySet<string>;
  /** Containers that stopped while they were evaluated. */
  stopped: readonly string[];
}

/** What the follower tells its scheduler about the stream. */
export interface StreamHandlers {
  /** The stream opened; `reopened` after a break. Whatever happened before (or while it was down) needs a resync. */
  opened(reopened: boolean): void;
  /** The stream broke (the engine may have gone). */
  broken(): void;
  /** One event, started in order; at most MAX_EVENTS_IN_FLIGHT run at once. */
  event(event: EngineEvent): Promise<void>;
}

/** What follows the colon of an action (`health_status: healthy`, `exec_start: sleep 3`). */
function actionDetail(action: string): string {
  return action.slice(action.indexOf(':') + 1).trim();
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function wait(ms: number, signal: AbortSignal): Promise<void> {
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
 * Follows the engine's `/events` (reconnecting with backoff), decides which events matter, filters out
 * the container's own health checks, and is the one place that clears cached engine data: after an
 * event, at a resync or scan, and after a refresh (what no running container uses any more).
 */
export class EventFollower {
  /** The stream is open: while it is, the cached inspect data is current. */
  private streamOpen = false;
  /** Exec sessions started by health checks; `exec_die` names no command, only the session. */
  private readonly healthExecs = new Set<string>();
  private eventsInFlight = 0;
  private eventSlotFreed: (() => void) | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly cache: EngineCache,
    private readonly logger: Logger,
  ) {}

  get connected(): boolean {
    return this.streamOpen;
  }

  /** Follows `/events` until `signal` aborts; on a break, reconnects with backoff. */
  async follow(handlers: StreamHandlers, signal: AbortSignal): Promise<void> {
    let backoff = BACKOFF_MIN_MS;
    let reopened = false;
    while (!signal.aborted) {
      let connectedAt: number | undefined;
      try {
        const events = await this.engine.events(signal);
        connectedAt = performance.now();
        this.streamOpen = true;
        // Logged at info only after a healthy stream: a stream that keeps breaking at once would fill the log.
        const level = backoff === BACKOFF_MIN_MS ? 'info' : 'debug';
        this.logger[level](reopened ? 'reconnected to Docker events; resynchronising' : 'following Docker events');
        handlers.opened(reopened);
        for await (const event of events) await this.dispatch(event, handlers);
      } catch (error) {
        if (!signal.aborted) this.logger.debug({ err: errorMessage(error), retryInMs: backoff }, 'Docker event stream unavailable');
      }
      this.streamOpen = false;
      if (signal.aborted) return;
      // Only a stream that stayed open for a while starts the backoff over; one that closes at once does not.
      if (connectedAt !== undefined && performance.now() - connectedAt >= STREAM_HEALTHY_MS) backoff = BACKOFF_MIN_MS;
      handlers.broken();
      reopened = true;
      // The wait ends at shutdown too: the scheduler's close() awaits this loop.
      await wait(backoff, signal);
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    }
  }

  /** Starts an event's handling; waits first while MAX_EVENTS_IN_FLIGHT are running, so a flood is not queued in memory. */
  private async dispatch(event: EngineEvent, handlers: StreamHandlers): Promise<void> {
    while (this.eventsInFlight >= MAX_EVENTS_IN_FLIGHT) {
      await new Promise<void>((resolve) => {
        this.eventSlotFreed = resolve;
      });
    }
    this.eventsInFlight += 1;
    void handlers.event(event).finally(() => {
      this.eventsInFlight -= 1;
      const wake = this.eventSlotFreed;
      this.eventSlotFreed = undefined;
      wake?.();
    });
  }

  /**
   * What an event asks for. Network, daemon and image events change what the cache holds (the host's
   * data, a container's networks, an image's references), forgotten here at once; a container attached
   * or detached is evaluated again. A container's own cached data is forgotten by containerTouched, once
   * the scheduler has numbered the event.
   */
  decide(event: EngineEvent): EventDecision {
    if (event.Type !== 'container') {
      if (event.Type === 'network' && NETWORK_MEMBERSHIP.has(event.Action)) {
        return event.container === undefined
          ? { kind: 'ignore' }
          : this.decide({ Type: 'container', Action: 'update', id: event.container });
      }
      const network = event.Type === 'network' && NETWORK_CHANGES.has(event.Action);
      const image = event.Type === 'image' && IMAGE_REFERENCE_CHANGES.has(event.Action);
      if (event.Type === 'daemon' || network) this.cache.hostChanged();
      if (image) this.cache.forgetImage(event.id, event.name);
      return event.Type === 'daemon' || network || image ? { kind: 'engine' } : { kind: 'ignore' };
    }
    if (event.id === '') return { kind: 'ignore' };
    const action = event.Action.split(':')[0] ?? '';
    const remove = REMOVE_ON.has(action);
    if (!remove && !EVALUATE_ON.has(action)) return { kind: 'ignore' };
    // A health check runs as an exec every few seconds: neither its exec events nor an unchanged health
    // status say anything new about the container (its process list included).
    if (this.isHealthCheckExec(action, event)) return { kind: 'ignore' };
    const health = action === 'health_status';
    // A status is news unless the data the verdict was computed from already says it (Podman announces
    // it at every probe). Not the last event's status: dockerd marks a paused container unhealthy with
    // no event, and announces `healthy` again after the unpause.
    if (health && this.cache.cachedContainer(event.id)?.State?.Health?.Status === actionDetail(event.Action)) return { kind: 'ignore' };
    if (remove) return { kind: 'remove', id: event.id, name: event.name };
    return { kind: 'evaluate', id: event.id, name: event.name, settle: action === 'exec_start', processesChanged: !health };
  }

  /** Whether an exec event is one of the container's own health checks (`exec_start: <command>` naming its command). */
  private isHealthCheckExec(action: string, event: EngineEvent): boolean {
    if (event.execId === undefined) return false;
    if (action === 'exec_die') return this.healthExecs.delete(event.execId);
    if (action !== 'exec_start') return false;
    const command = actionDetail(event.Action);
    const inspect = this.cache.cachedContainer(event.id);
    const health = inspect === undefined ? undefined : healthCheckCommand(inspect)?.join(' ');
    if (command === '' || health !== command) return false;
    if (this.healthExecs.size >= MAX_HEALTH_EXECS) this.healthExecs.clear();
    this.healthExecs.add(event.execId);
    return true;
  }

  /** A container event the scheduler has numbered: what the cache holds of it is forgotten. */
  containerTouched(decision: Extract<EventDecision, { kind: 'remove' | 'evaluate' }>): void {
    if (decision.kind === 'remove') this.cache.forgetContainer(decision.id);
    else if (decision.processesChanged) this.cache.forgetProcesses(decision.id);
  }

  /** A container that stopped while it was evaluated after an event. */
  containerStopped(id: string): void {
    this.cache.forgetContainer(id);
  }

  /** Before a resync: every container's, image's and the host's data is read again, and every process list. */
  beginResync(): void {
    this.cache.beginResync();
    this.cache.beginScan();
  }

  /** Before a scan: every container's processes are read again (they change with no event). */
  beginScan(): void {
    this.cache.beginScan();
  }

  /** After a refresh's evaluation (`listed`: a resync): keeps only what the running containers still use. */
  afterEvaluation(evaluated: EvaluatedSet, listed: boolean): void {
    for (const id of evaluated.stopped) this.cache.forgetContainer(id);
    this.cache.retain(evaluated.running, evaluated.imageIds, listed);
  }
}
