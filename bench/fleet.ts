import Docker from 'dockerode';
import pLimit from 'p-limit';
import { connectionOptions } from '../src/engine/engine-address.js';

/** Every container the benchmark makes carries this label, set to the run's ID; only those are removed. */
export const BENCH_LABEL = 'docker-monitor.bench';

/**
 * The three kinds of container the policy must tell apart: root (fails), non-root (passes), and non-root
 * with a root process started by `docker exec -d -u 0` (passes RunningAsRootCheck, fails RootProcessCheck).
 */
export const KINDS = ['root', 'non-root', 'non-root-with-root-exec'] as const;
export type Kind = (typeof KINDS)[number];

export interface BenchContainer {
  id: string;
  name: string;
  kind: Kind;
}

const SLEEP = ['sleep', '100000'];

/** Told how many of how many are done. */
export type Progress = (done: number, of: number) => void;

/** A callback to call once per item done, which tells `progress` at each tenth of `total` (and at the end). */
function tenths(total: number, progress: Progress): () => void {
  let done = 0;
  const step = Math.max(1, Math.ceil(total / 10));
  return () => {
    done += 1;
    if (done % step === 0 || done === total) progress(done, total);
  };
}

/** The labelled containers of one benchmark run, created through the Engine API. */
export class Fleet {
  private readonly docker: Docker;
  readonly members: BenchContainer[] = [];
  private made = 0;
  private closed = false;
  /** Creations under way, so that closing can wait for them and remove what they made. */
  private readonly starting = new Set<Promise<unknown>>();

  constructor(
    host: string,
    private readonly image: string,
    readonly runId: string,
  ) {
    this.docker = new Docker(connectionOptions(host) as Docker.DockerOptions);
  }

  /** Creates, starts (and for the third kind, execs a root process in) one container. */
  start(kind: Kind): Promise<BenchContainer> {
    if (this.closed) return Promise.reject(new Error('the benchmark is stopping'));
    const starting = this.create(kind);
    this.starting.add(starting);
    void starting.catch(() => undefined).finally(() => this.starting.delete(starting));
    return starting;
  }

  private async create(kind: Kind): Promise<BenchContainer> {
    this.made += 1;
    const name = `dm-bench-${this.runId}-${this.made}`;
    const container = await this.docker.createContainer({
      name,
      Image: this.image,
      Cmd: SLEEP,
      User: kind === 'root' ? '' : '1000',
      // No network: a Linux bridge holds at most 1 024 ports, and docker0 is shared with everything else.
      HostConfig: { NetworkMode: 'none' },
      Labels: { [BENCH_LABEL]: this.runId, [`${BENCH_LABEL}.kind`]: kind },
    });
    await container.start();
    if (kind === 'non-root-with-root-exec') {
      const exec = await container.exec({ Cmd: SLEEP, User: '0' });
      await exec.start({ Detach: true });
    }
    return { id: container.id, name, kind };
  }

  /**
   * Grows the fleet to `size` containers, the kinds in turn, `concurrency` at a time through the Engine API
   * (no CLI process per container), telling `progress` each tenth of the way.
   */
  async growTo(size: number, concurrency = 8, progress: Progress = () => undefined): Promise<void> {
    const limit = pLimit(concurrency);
    const wanted = Array.from(
      { length: Math.max(0, size - this.members.length) },
      (_, index) => KINDS[(this.members.length + index) % KINDS.length] ?? 'root',
    );
    const report = tenths(wanted.length, progress);
    const started = await Promise.all(wanted.map((kind) => limit(() => this.start(kind).finally(report))));
    this.members.push(...started);
  }

  /** Force-removes `ids` (kill and remove in one call each), `concurrency` at a time; a container already gone is fine. */
  async remove(ids: readonly string[], concurrency = 8, progress: Progress = () => undefined): Promise<void> {
    const limit = pLimit(concurrency);
    const report = tenths(ids.length, progress);
    await Promise.all(
      ids.map((id) =>
        limit(() =>
          this.docker
            .getContainer(id)
            .remove({ force: true })
            .catch(() => undefined)
            .finally(report),
        ),
      ),
    );
  }

  /** Stops making containers, waits for those being made, and removes every one of this run. */
  async close(concurrency = 8, progress: Progress = () => undefined): Promise<number> {
    this.closed = true;
    await Promise.allSettled([...this.starting]);
    return this.removeAll(concurrency, progress);
  }

  /** Removes every container labelled with this run's ID, whether or not this process still tracks it. */
  async removeAll(concurrency = 8, progress: Progress = () => undefined): Promise<number> {
    const labelled = await this.docker.listContainers({ all: true, filters: { label: [`${BENCH_LABEL}=${this.runId}`] } });
    await this.remove(
      labelled.map(({ Id }) => Id),
      concurrency,
      progress,
    );
    this.members.length = 0;
    return labelled.length;
  }
}
