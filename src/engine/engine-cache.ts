import type { ProcessSource } from './process-source.js';
import { TtlCache } from './ttl-cache.js';
import type {
  ContainerInspect,
  ContainerProcess,
  Engine,
  EngineInfo,
  EngineVersion,
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

/**
 * The expensive engine reads, cached so that refreshes and scrapes stay cheap: image data per image ID
 * (an ID's content never changes; entries go when no container uses the image), process lists per
 * container for `processTtlMs`, and the host's `/info`, `/version` and `/networks` for one refresh.
 */
export class EngineCache {
  private readonly images = new TtlCache<string, ImageInspect>(FOREVER, MAX_CACHED);
  private readonly histories = new TtlCache<string, ImageHistoryEntry[]>(FOREVER, MAX_CACHED);
  private readonly processLists: TtlCache<string, ContainerProcess[]>;
  private host: HostData = {};

  constructor(
    readonly engine: Engine,
    readonly processSource: ProcessSource,
    processTtlMs: number,
  ) {
    this.processLists = new TtlCache(processTtlMs, MAX_CACHED);
  }

  /** Starts a refresh: host-level data is read again once. */
  beginRefresh(): void {
    this.host = {};
  }

  image(imageId: string): Promise<ImageInspect> {
    return this.images.get(imageId, () => this.engine.inspectImage(imageId));
  }

  imageHistory(imageId: string): Promise<ImageHistoryEntry[]> {
    return this.histories.get(imageId, () => this.engine.imageHistory(imageId));
  }

  processes(container: ContainerInspect): Promise<ContainerProcess[]> {
    return this.processLists.get(container.Id, () => this.processSource.processes(container));
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
  forgetContainer(id: string): void {
    this.processLists.delete(id);
    this.processSource.forget?.();
  }

  /** After a full refresh: keep only what the running containers still use. */
  retain(containerIds: ReadonlySet<string>, imageIds: ReadonlySet<string>): void {
    this.processLists.retain(containerIds);
    this.images.retain(imageIds);
    this.histories.retain(imageIds);
  }
}
