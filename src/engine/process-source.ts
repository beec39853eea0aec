import { isPodman } from './engine-kind.js';
import type { ContainerInspect, ContainerProcess, Engine } from './types.js';
import { parseProcessTable } from './processes.js';

/** Where a container's process list comes from: the engine's `top`, or the host's /proc. */
export interface ProcessSource {
  readonly kind: 'top' | 'proc';
  processes(container: ContainerInspect): Promise<ContainerProcess[]>;
  /** Something changed in a container (an exec started): the next call must not reuse older reads. */
  forget?(): void;
}

/**
 * Podman's `top` takes its own descriptors, not ps options: given Docker's `-o pid,uid,user,args` it
 * runs `ps` inside the container instead, which shows the container's PIDs and users (or nothing, in
 * an image without a full ps). Its descriptors give the host's PID and user beside the container's.
 */
export const PODMAN_PS_ARGS = 'pid,hpid,user,huser,args';

export class TopProcessSource implements ProcessSource {
  readonly kind = 'top' as const;
  /** The ps arguments for this engine, decided once from `/version` (undefined: Docker's). */
  private psArgs: Promise<string | undefined> | undefined;

  constructor(private readonly engine: Engine) {}

  async processes(container: ContainerInspect): Promise<ContainerProcess[]> {
    this.psArgs ??= this.engine.version().then(
      (version) => (isPodman(version) ? PODMAN_PS_ARGS : undefined),
      (error: unknown) => {
        this.psArgs = undefined;
        throw error;
      },
    );
    return parseProcessTable(await this.engine.top(container.Id, await this.psArgs));
  }
}
