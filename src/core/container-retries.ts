/** The first retry of a container whose evaluation failed comes this soon; later ones, twice as late each time. */
const FIRST_RETRY_MS = 500;
/**
 * The longest wait between retries. Short: dockerd blocks a paused container's inspect for up to its
 * health check's timeout (when the pause caught a probe) and a verdict is due soon after it answers; a
 * retry is one inspect of one container.
 */
const LONGEST_RETRY_MS = 2_000;

/**
 * The timers that evaluate again, on the event path, a container the engine failed on (its inspect
 * timed out, say), until one evaluation succeeds or the container is gone: its last verdict is served
 * meanwhile, and no scan evaluates data older than the change that the failed read was to bring.
 */
export class ContainerRetries {
  private readonly pending = new Map<string, { attempt: number; timer: NodeJS.Timeout | undefined }>();

  /** Whether the container's evaluation has failed since its last success. */
  failing(id: string): boolean {
    return this.pending.has(id);
  }

  /** Runs `retry` later unless one is already waiting; each consecutive failure waits longer, up to LONGEST_RETRY_MS. */
  schedule(id: string, retry: () => void): void {
    const entry = this.pending.get(id) ?? { attempt: 0, timer: undefined };
    if (entry.timer !== undefined) return;
    const delay = Math.min(FIRST_RETRY_MS * 2 ** entry.attempt, LONGEST_RETRY_MS);
    entry.attempt += 1;
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      retry();
    }, delay);
    entry.timer.unref();
    this.pending.set(id, entry);
  }

  /** The container was evaluated, or is gone: no retry. */
  succeeded(id: string): void {
    clearTimeout(this.pending.get(id)?.timer);
    this.pending.delete(id);
  }

  clear(): void {
    for (const { timer } of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
  }
}
