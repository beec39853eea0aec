import { TtlCache } from '../engine/ttl-cache.js';
import type { TaskPool } from '../policy/types.js';

/** Images whose verdicts one scanner check keeps at most; past that the oldest scan is forgotten. */
const MAX_SCANNED_IMAGES = 5_000;

/**
 * A scanner check's results by image ID: one scan per image however many containers run it (callers
 * during a scan share it), reused for `ttlMs`, then scanned again. A failed scan is not kept: the next
 * caller tries again. Scans wait for a place in the policy's scan pool.
 */
export class ImageScanCache<T> {
  private readonly results: TtlCache<string, T>;

  constructor(
    ttlMs: number,
    private readonly pool: TaskPool,
    now: () => number = Date.now,
  ) {
    this.results = new TtlCache(ttlMs, MAX_SCANNED_IMAGES, now);
  }

  get(imageId: string, scan: () => Promise<T>): Promise<T> {
    return this.results.get(imageId, () => this.pool.run(scan));
  }
}
