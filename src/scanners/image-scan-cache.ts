import { TtlCache } from '../engine/ttl-cache.js';
import { scanPool, type ScanPool } from './scan-pool.js';

/** Every cache made, so that one retain() call can forget images no container uses any more. */
const caches = new Set<ImageScanCache<unknown>>();

/**
 * A scanner check's results by image ID: one scan per image however many containers run it (callers
 * during a scan share it), reused for `ttlMs`, then scanned again. A failed scan is not kept: the next
 * caller tries again. Scans wait for a place in the shared pool.
 */
export class ImageScanCache<T> {
  private readonly results: TtlCache<string, T>;

  constructor(
    private readonly ttlMs: number,
    private readonly pool: ScanPool = scanPool,
    private readonly now: () => number = Date.now,
  ) {
    this.results = new TtlCache(ttlMs, now);
    caches.add(this);
  }

  /** `scan` receives when its result will expire (ms since the epoch), for data kept beside the cache. */
  get(imageId: string, scan: (expires: number) => Promise<T>): Promise<T> {
    return this.results.get(imageId, () => {
      const expires = this.now() + this.ttlMs;
      return this.pool.run(() => scan(expires));
    });
  }

  retain(imageIds: ReadonlySet<string>): void {
    this.results.retain(imageIds);
  }
}

/** Drops every scanner's cached results for images not in `imageIds`. */
export function retainScanResults(imageIds: ReadonlySet<string>): void {
  for (const cache of caches) cache.retain(imageIds);
}
