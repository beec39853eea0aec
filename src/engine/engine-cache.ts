import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../errors.js';
import { containerName } from './container-name.js';
import { isNotFound } from './not-found.js';
import type { ProcessSource } from './process-source.js';
import { TtlCache } from './ttl-cache.js';
import type {
  ContainerInspect,
  ContainerProcess,
  ContainerSummary,
  Engine,
  EngineInfo,
  EngineVersion,
  ExecInspect,
  ImageHistoryEntry,
  ImageInspect,
  NetworkInspect,
} from './types.js';

const FOREVER = Number.POSITIVE_INFINITY;

/** Host-level reads of the current refresh. */
interface HostData {
  info?: Promise<EngineInfo>;
  version?: Promise<EngineVersion>;
  networks?: Promise<NetworkInspect[]>;
}

/** Images and containers cached at most: far above what one host runs, a bound should one misbehave. */
const MAX_CACHED = 20_000;

/** How long a container whose init process is gone may still be shown running by the engine. */
const STOPPING_SETTLE_MS = 250;

/**
 * The engine's data, cached so that refreshes and scrapes stay cheap:
 * - the inspect data of every running container, read at a resync and again after each event for
 *   that container, so a scan between them needs no engine call;
 * - image data per image ID, until the image is tagged, untagged or deleted (its references change
 *   while its ID stays), the next resync, or no container uses it;
 * - process lists per container, for `processTtlMs` or until the next scan;
 * - the host's `/info`, `/version` and `/networks`, until a resync or an event that changes them.
 * What clears it (the methods from beginResync on) is called by the event follower alone
 * (src/core/event-follower.ts); the evaluator only reads.
 */
export class EngineCache {
  private readonly images = new TtlCache<string, ImageInspect>(FOREVER, MAX_CACHED);
  /** The references (tags, digests) of each image read, to find the image a moved tag left. */
  private readonly references = new Map<string, ReadonlySet<string>>();
  private readonly histories = new TtlCache<string, ImageHistoryEntry[]>(FOREVER, MAX_CACHED);
  private readonly processLists: TtlCache<string, ContainerProcess[]>;
  /**
   * Running containers' inspect data, with the resync during which each was read. `failedRead` holds why
   * the newest read failed (dockerd blocks a paused container's inspect for up to its health check's
   * timeout when the pause caught a probe): the data may predate the change that read was for, so a scan
   * does not evaluate it; the next read that succeeds replaces it.
   */
  private readonly inspections = new Map<string, { inspect: ContainerInspect; resync: number; failedRead?: string }>();
  /**
   * Containers with inspect reads under way: how many, and the newest read whose answer the cache took
   * (or that a forget outdated). Two reads of one container can answer out of order (a resync's and an
   * event's); an older answer arriving last must not replace a newer one, which later scans evaluate.
   */
  private readonly underway = new Map<string, { count: number; applied: number }>();
  private reads = 0;
  private resyncs = 0;
  private host: HostData = {};
  private generation = 0;

  constructor(
    readonly engine: Engine,
    readonly processSource: ProcessSource,
    processTtlMs: number,
  ) {
    this.processLists = new TtlCache(processTtlMs, MAX_CACHED);
  }

  /** Starts a resync: the host's data is read again, and so is every container's inspect data and every image's. */
  beginResync(): void {
    this.resyncs += 1;
    this.hostChanged();
    // An image's references change with no change to its ID; an event missed while the stream was down is caught here.
    this.retainImages(new Set());
  }

  /** Starts a scan: every container's processes are read again (one /proc pass, or `top` each). */
  beginScan(): void {
    this.processLists.retain(new Set());
    this.processSource.forget?.();
  }

  /** The engine's configuration or networks changed: `/info`, `/version` and `/networks` are read again. */
  hostChanged(): void {
    this.host = {};
    this.generation += 1;
  }

  /** Changes whenever the host's data may have: results that read it are computed again. */
  get hostGeneration(): number {
    return this.generation;
  }

  /**
   * A container's inspect data: the cached one, or (when `fresh`, or none is cached) the engine's, which
   * is cached while the container runs. Undefined when the container is gone or no longer running.
   * Throws, without asking the engine, for cached data whose newest read failed: reading it again is
   * the event path's work (Monitor's retries), not a scan's, which a scrape may wait for.
   */
  async container(id: string, fresh: boolean): Promise<ContainerInspect | undefined> {
    const cached = this.inspections.get(id);
    if (!fresh && cached?.failedRead !== undefined)
      throw new Error(`its inspect data is out of date: the last read failed (${cached.failedRead})`);
    if (!fresh && cached !== undefined) return cached.inspect;
    this.reads += 1;
    const read = this.reads;
    const track = this.underway.get(id) ?? { count: 0, applied: 0 };
    track.count += 1;
    this.underway.set(id, track);
    try {
      const inspect = await this.runningInspect(id);
      if (read > track.applied) {
        track.applied = read;
        if (inspect === undefined) this.inspections.delete(id);
        else if (this.inspections.size < MAX_CACHED || this.inspections.has(id))
          this.inspections.set(id, { inspect, resync: this.resyncs });
      }
      return inspect;
    } catch (error) {
      const entry = this.inspections.get(id);
      if (read > track.applied && entry !== undefined) entry.failedRead = errorMessage(error);
      throw error;
    } finally {
      track.count -= 1;
      if (track.count === 0) this.underway.delete(id);
    }
  }

  /** The engine's inspect data of a running container; undefined when it is gone or stopped. */
  private async runningInspect(id: string): Promise<ContainerInspect | undefined> {
    try {
      const inspect = await this.engine.inspectContainer(id);
      return inspect.State?.Running === true ? inspect : undefined;
    } catch (error) {
      if (!isNotFound(error)) throw error;
      return undefined;
    }
  }

  /** The inspect data cached for a container, without asking the engine; undefined when its newest read failed. */
  cachedContainer(id: string): ContainerInspect | undefined {
    const cached = this.inspections.get(id);
    return cached?.failedRead === undefined ? cached?.inspect : undefined;
  }

  /** The running containers whose inspect data is cached. */
  knownContainers(): { id: string; name: string }[] {
    return [...this.inspections.values()].map(({ inspect }) => ({ id: inspect.Id, name: containerName(inspect.Name) }));
  }

  image(imageId: string): Promise<ImageInspect> {
    return this.images.get(imageId, async () => {
      const image = await this.engine.inspectImage(imageId);
      this.references.set(imageId, new Set([...(image.RepoTags ?? []), ...(image.RepoDigests ?? [])]));
      return image;
    });
  }

  imageHistory(imageId: string): Promise<ImageHistoryEntry[]> {
    return this.histories.get(imageId, () => this.engine.imageHistory(imageId));
  }

  processes(container: ContainerInspect): Promise<ContainerProcess[]> {
    return this.processLists.get(container.Id, () => this.processSource.processes(container));
  }

  /** An exec session's data; never cached (sessions come and go with each inspect read). */
  exec(id: string): Promise<ExecInspect> {
    return this.engine.inspectExec(id);
  }

  /** The running containers, listed by the engine now (a resync's list). */
  runningContainers(): Promise<ContainerSummary[]> {
    return this.engine.listContainers();
  }

  /** Throws when the engine does not answer: a scan's one engine call, so an engine that went away shows as down. */
  ping(): Promise<void> {
    return this.engine.ping();
  }

  /**
   * Whether a container whose checks gave errors still runs, asked of the engine now. Its init process
   * can be gone a moment before the engine marks it stopped, so a container still shown running is
   * asked about once more shortly after.
   */
  async stillRunning(id: string): Promise<boolean> {
    const running = async (): Promise<boolean> => {
      try {
        return (await this.engine.inspectContainer(id)).State?.Running === true;
      } catch (error) {
        // Unsure (the engine did not answer): keep the errors, they are real.
        return !isNotFound(error);
      }
    };
    if (!(await running())) return false;
    await sleep(STOPPING_SETTLE_MS);
    return running();
  }

  info(): Promise<EngineInfo> {
    return (this.host.info ??= this.engine.info());
  }

  version(): Promise<EngineVersion> {
    return (this.host.version ??= this.engine.version());
  }

  networks(): Promise<NetworkInspect[]> {
    return (this.host.networks ??= this.engine.networks());
  }

  /** A container changed (started, updated, an exec began): its process list is read again. */
  forgetProcesses(id: string): void {
    this.processLists.delete(id);
    this.processSource.forget?.();
  }

  /** A container stopped or was removed: the answers of reads already under way are older than that. */
  forgetContainer(id: string): void {
    this.forgetProcesses(id);
    this.inspections.delete(id);
    const track = this.underway.get(id);
    if (track !== undefined) track.applied = this.reads;
  }

  /**
   * An image was tagged, untagged or deleted: its data (references, digests) is read again, and so is
   * that of any image that held the reference named (`docker tag B app:1` moves `app:1` from image A,
   * and the engine announces it for B alone). An event that names no image cached here (an engine that
   * names it otherwise) drops every image, so none stays stale.
   */
  forgetImage(id: string, reference?: string): void {
    const bare = id.replace(/^sha256:/, '');
    const cached = this.images.keys();
    const named = cached.filter(
      (imageId) =>
        (bare !== '' && imageId.replace(/^sha256:/, '').startsWith(bare)) ||
        (reference !== undefined && this.references.get(imageId)?.has(reference) === true),
    );
    const forget = new Set(named.length > 0 ? named : cached);
    const keep = new Set(cached.filter((imageId) => !forget.has(imageId)));
    this.retainImages(keep);
  }

  /** Keeps the data of these images only. */
  private retainImages(keep: ReadonlySet<string>): void {
    this.images.retain(keep);
    this.histories.retain(keep);
    for (const imageId of this.references.keys()) if (!keep.has(imageId)) this.references.delete(imageId);
  }

  /**
   * After an evaluation: keep only what the running containers still use. After a resync's list, a
   * container it did not list is forgotten unless an event brought it in since the resync began.
   */
  retain(containerIds: ReadonlySet<string>, imageIds: ReadonlySet<string>, listed: boolean): void {
    this.processLists.retain(containerIds);
    this.retainImages(imageIds);
    if (!listed) return;
    for (const [id, { resync }] of this.inspections) {
      if (!containerIds.has(id) && resync < this.resyncs) this.inspections.delete(id);
    }
  }
}
