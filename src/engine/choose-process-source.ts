import type { Logger } from '../log.js';
import type { ContainerInspect, ContainerProcess, Engine } from './types.js';
import { ProcProcessSource, type ProcProcessSourceOptions } from './proc-process-source.js';
import { TopProcessSource, type ProcessSource } from './process-source.js';
import { containerName } from './container-name.js';

/** Failed checks before /proc is given up for good: one container may simply have stopped meanwhile. */
const TRIES_BEFORE_TOP = 3;

/**
 * Uses /proc when the first container asked about proves this process sees the host's PIDs (its inspect
 * `State.Pid` is in /proc, and that process's cgroup names the container), else the engine's `top`.
 * Deciding on the first real container costs no extra engine call and works when none runs at start.
 * A failed check uses `top` for that container and checks again on the next one; after three failed checks
 * `top` stays. Either choice is logged once, with its reason.
 */
class CheckedProcessSource implements ProcessSource {
  private chosen: ProcessSource | undefined;
  private failures = 0;

  constructor(
    private readonly proc: ProcProcessSource,
    private readonly top: TopProcessSource,
    private readonly logger: Logger,
  ) {}

  get kind(): ProcessSource['kind'] {
    return this.chosen?.kind ?? 'top';
  }

  processes(container: ContainerInspect): Promise<ContainerProcess[]> {
    return (this.chosen ?? this.choose(container)).processes(container);
  }

  /** `top` reads afresh every time; only the /proc index can be stale. */
  forget(): void {
    this.proc.forget();
  }

  private choose(container: ContainerInspect): ProcessSource {
    const visibility = this.proc.visibility(container);
    if (visibility.visible) {
      this.logger.info(
        { processSource: 'proc', procRoot: this.proc.procRoot },
        `reading container processes from ${this.proc.procRoot}: it shows the host's PIDs (container ${containerName(container.Name)}'s init process ${container.State?.Pid ?? 0} is there, in its cgroup)`,
      );
      this.chosen = this.proc;
      return this.proc;
    }
    this.failures += 1;
    const giveUp = this.failures >= TRIES_BEFORE_TOP;
    if (this.failures === 1 || giveUp) {
      this.logger.info(
        { processSource: 'top', reason: visibility.reason },
        `reading container processes with the engine's top: ${visibility.reason}; run the exporter on the host or with --pid=host for the /proc fast path` +
          (giveUp ? '' : ' (checking again on the next container)'),
      );
    }
    if (giveUp) this.chosen = this.top;
    return this.top;
  }
}

export interface ChooseProcessSourceOptions extends ProcProcessSourceOptions {
  /** The engine is reached over the network (tcp://, ssh://): its processes are on its own machine. */
  remote?: boolean;
}

/**
 * The process source for this exporter: /proc when it sees the host's PIDs, else `top` (see above). A
 * remote engine's PIDs are another machine's: a PID that happens to exist here would be a stranger's
 * process, so a remote engine gets `top` from the start.
 */
export function chooseProcessSource(engine: Engine, logger: Logger, options: ChooseProcessSourceOptions = {}): ProcessSource {
  const top = new TopProcessSource(engine);
  if (options.remote === true) return new RemoteProcessSource(top, engine.address, logger);
  return new CheckedProcessSource(new ProcProcessSource(options), top, logger);
}

/** `top`, saying why once, when the first container is asked about (an engine that never answers logs nothing). */
class RemoteProcessSource implements ProcessSource {
  readonly kind = 'top' as const;
  private logged = false;

  constructor(
    private readonly top: TopProcessSource,
    private readonly address: string,
    private readonly logger: Logger,
  ) {}

  processes(container: ContainerInspect): Promise<ContainerProcess[]> {
    if (!this.logged) {
      this.logged = true;
      this.logger.info(
        { processSource: 'top', engine: this.address, remote: true },
        `reading container processes with the engine's top: the engine at ${this.address} is reached over the network, so its processes are not in this machine's /proc`,
      );
    }
    return this.top.processes(container);
  }
}
