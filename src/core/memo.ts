import { createHash } from 'node:crypto';
import type { EngineCache } from '../engine/engine-cache.js';
import type { ContainerInspect, ContainerProcess, ImageInspect } from '../engine/types.js';
import type { ChainOutcome, ImageVerdict } from '../policy/chain.js';
import type { CheckInstance, HostReport } from '../policy/types.js';

/** What the memo reads to key results: the cache's data, never the engine's directly. */
export type MemoReads = Pick<EngineCache, 'image' | 'processes' | 'hostGeneration'>;

/** A process list as a key: equal lists give equal keys. */
function processesKey(processes: readonly ContainerProcess[]): string {
  return processes.map(({ pid, uid, user, command }) => `${pid}:${uid}:${user}:${command}`).join('\n');
}

/** An image's data as a key: its ID, references and digests (a tag or untag changes them, not the ID). */
function imageKey(image: ImageInspect): string {
  const sorted = (list: readonly string[] | null | undefined): string => [...(list ?? [])].sort().join(',');
  return `${image.Id}\u0001${sorted(image.RepoTags)}\u0001${sorted(image.RepoDigests)}`;
}

/** The key kept for an object read from the engine, made once per read: each read is a new object. */
function keptKey<T extends object, K>(keys: WeakMap<T, K>, read: T, make: (read: T) => K): K {
  let key = keys.get(read);
  if (key === undefined) {
    key = make(read);
    keys.set(read, key);
  }
  return key;
}

/** What a container's chain read: the inspect read and its data's key, its image's data, the host data's generation, its process list's key. */
export interface ChainReads {
  inspect: ContainerInspect;
  inspectKey: string;
  /** '' when nothing reads the image; undefined when it could not be read. */
  image: string | undefined;
  generation: number;
  /** '' when no check reads processes; undefined when they could not be read. */
  processes: string | undefined;
}

/** A container's last chain and what it read. */
interface LastChain extends ChainReads {
  outcome: ChainOutcome;
}

/**
 * The evaluator's reuse bookkeeping: each container's last chain with what it read (reused whole while
 * none of that changed, else check by check through the chain's memo for the checks whose inputs stayed
 * the same), image-scoped verdicts, and the host checks' results. Keys are computed once per read.
 */
export class Memo {
  /** Image-scoped verdicts, shared by every container of an image. */
  readonly imageVerdicts = new Map<string, ImageVerdict>();
  private readonly chains = new Map<string, LastChain>();
  /** A number per inspect object read from the engine: a new read is a new version (what `exec` inputs are keyed by). */
  private readonly inspectVersions = new WeakMap<ContainerInspect, number>();
  private inspectsSeen = 0;
  /** Inspect data as keys, computed once per read: equal data read again (a resync) give the same key. */
  private readonly inspectKeys = new WeakMap<ContainerInspect, string>();
  /** Process lists as keys, computed once per list read. */
  private readonly processKeys = new WeakMap<readonly ContainerProcess[], string>();
  /** Image data as keys, computed once per image read (every container of the image, every check). */
  private readonly imageKeys = new WeakMap<ImageInspect, string>();
  /** The host checks' results, kept until the host's data changes. */
  private hostResults: { generation: number; report: HostReport } | undefined;

  /**
   * @param readsProcesses some container check reads processes: only then does a process list change a chain
   * @param readsImage some check or selector reads the image: only then does its data change a chain
   * @param readsExec some container check reads exec sessions: then a new inspect read changes a chain
   */
  constructor(
    private readonly reads: MemoReads,
    private readonly readsProcesses: boolean,
    private readonly readsImage: boolean,
    private readonly readsExec: boolean,
  ) {}

  private inspectVersion(inspect: ContainerInspect): number {
    return keptKey(this.inspectVersions, inspect, () => (this.inspectsSeen += 1));
  }

  /**
   * The key of a container's inspect data: a digest of the whole document, so a resync's new read of
   * unchanged data reuses the results, and any changed field (health, state, labels…) runs the checks.
   */
  private inspectKey(inspect: ContainerInspect): string {
    return keptKey(this.inspectKeys, inspect, (read) => createHash('sha256').update(JSON.stringify(read)).digest('base64'));
  }

  /**
   * The state of a check's inputs: the inspect data; for exec sessions the inspect read itself (a session
   * starts with the container's data as they were when it was created, and its event brings a new read);
   * the image's data, the process list, and the host's data generation (which changes whenever that data
   * is read again). Throws when an input cannot be read.
   */
  async inputsKey(check: CheckInstance, inspect: ContainerInspect): Promise<string> {
    const parts: string[] = [];
    for (const input of check.inputs) {
      if (input === 'inspect') parts.push(`i${this.inspectKey(inspect)}`);
      else if (input === 'exec') parts.push(`x${this.inspectVersion(inspect)}`);
      else if (input === 'image') parts.push(await this.imageDataKey(inspect));
      else if (input === 'engine') parts.push(`e${this.reads.hostGeneration}`);
      else parts.push(await this.processesKey(inspect));
    }
    return parts.join('\u0000');
  }

  private async processesKey(inspect: ContainerInspect): Promise<string> {
    return keptKey(this.processKeys, await this.reads.processes(inspect), processesKey);
  }

  /** The key of a container's image data: '' when nothing reads the image, undefined when it cannot be read. */
  async imageKeyOf(inspect: ContainerInspect): Promise<string | undefined> {
    if (!this.readsImage) return '';
    return this.imageDataKey(inspect).catch(() => undefined);
  }

  /** The key of a container's image data; throws when the image cannot be read. */
  private async imageDataKey(inspect: ContainerInspect): Promise<string> {
    return keptKey(this.imageKeys, await this.reads.image(inspect.Image), imageKey);
  }

  /**
   * What a container's chain reads now, and its last chain when that can be reused whole: the same
   * inspect data (the same read where a check reads exec sessions), image data and host data, no error,
   * and (compared only where it can decide, so that a first read is the checks' own) the same process list.
   */
  async lookup(
    inspect: ContainerInspect,
    image: string | undefined,
    skipped: boolean,
  ): Promise<{ reads: ChainReads; reuse: ChainOutcome | undefined; previous: ChainOutcome | undefined }> {
    const last = this.chains.get(inspect.Id);
    const generation = this.reads.hostGeneration;
    const inspectKey = this.inspectKey(inspect);
    const candidate =
      !skipped &&
      last !== undefined &&
      last.inspectKey === inspectKey &&
      (!this.readsExec || last.inspect === inspect) &&
      image !== undefined &&
      last.image === image &&
      last.generation === generation &&
      !last.outcome.results.some((result) => result.result === 'error');
    const reads: ChainReads = {
      inspect,
      inspectKey,
      image,
      generation,
      processes: !this.readsProcesses ? '' : candidate ? await this.processesKey(inspect).catch(() => undefined) : undefined,
    };
    const unchanged = candidate && reads.processes !== undefined && last.processes === reads.processes;
    return { reads, reuse: unchanged ? last.outcome : undefined, previous: last?.outcome };
  }

  /** Keeps a container's chain with what it read. */
  async record(reads: ChainReads, outcome: ChainOutcome, skipped: boolean): Promise<void> {
    if (reads.processes === undefined && this.readsProcesses && !skipped) {
      // Read by the chain's checks just now (cached): what they saw is what the next evaluation compares against.
      reads.processes = await this.processesKey(reads.inspect).catch(() => undefined);
    }
    this.chains.set(reads.inspect.Id, { ...reads, outcome });
  }

  forget(id: string): void {
    this.chains.delete(id);
  }

  /** The host checks' results kept for the host data's current generation, if any. */
  hostReport(): HostReport | undefined {
    return this.hostResults?.generation === this.reads.hostGeneration ? this.hostResults.report : undefined;
  }

  /** Keeps the host checks' results, read at `generation`, unless one erred (errors are tried again). */
  keepHostReport(generation: number, report: HostReport): void {
    if (!report.results.some((result) => result.result === 'error')) this.hostResults = { generation, report };
  }

  /** After an evaluation: forgets the chains of containers not running and the verdicts of images no container uses. */
  retain(running: ReadonlySet<string>, imageIds: ReadonlySet<string>): void {
    for (const id of this.chains.keys()) if (!running.has(id)) this.chains.delete(id);
    for (const key of this.imageVerdicts.keys()) {
      if (!imageIds.has(key.slice(key.indexOf('\u0000') + 1))) this.imageVerdicts.delete(key);
    }
  }
}
