import pLimit, { type LimitFunction } from 'p-limit';

export const DEFAULT_SCAN_CONCURRENCY = 2;

/**
 * Bounds how many image scans run at once. Scans are heavy (trivy unpacks every layer, twistcli uploads
 * file hashes), so the scanner checks of one policy share one pool (see CheckContext); when they ask for
 * different sizes, the smallest wins.
 */
export class ScanPool {
  private readonly limit: LimitFunction;
  private requested: number | undefined;

  constructor(concurrency = DEFAULT_SCAN_CONCURRENCY) {
    this.limit = pLimit(concurrency);
  }

  /** A scanner check's `concurrency` option: the pool never grows past the smallest asked for. */
  request(concurrency: number): void {
    this.requested = Math.min(this.requested ?? concurrency, concurrency);
    this.limit.concurrency = this.requested;
  }

  get concurrency(): number {
    return this.limit.concurrency;
  }

  run<T>(scan: () => Promise<T>): Promise<T> {
    return this.limit(scan);
  }
}
