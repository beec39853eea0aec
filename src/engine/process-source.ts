import type { ContainerInspect, ContainerProcess, Engine } from './types.js';
import { parseProcessTable } from './processes.js';

/** Where a container's process list comes from: the engine's `top`, or the host's /proc. */
export interface ProcessSource {
  readonly kind: 'top' | 'proc';
  processes(container: ContainerInspect): Promise<ContainerProcess[]>;
  /** Something changed in a container (an exec started): the next call must not reuse older reads. */
  forget?(): void;
}

export class TopProcessSource implements ProcessSource {
  readonly kind = 'top' as const;

  constructor(private readonly engine: Engine) {}

  async processes(container: ContainerInspect): Promise<ContainerProcess[]> {
    return parseProcessTable(await this.engine.top(container.Id));
  }
}
