/**
 * Failed basic-auth logins, limited per client address before any bcrypt work: each address may fail
 * `burst` times at once, then once per `refillMs`; beyond, its unverified attempts are refused (429) without
 * a comparison. Logins already verified never reach the limiter, so wrong passwords cannot starve scrapes
 * that carry the right ones. At most `maxComparisons` bcrypt comparisons run at once, for every address
 * together: bcrypt runs on the main thread.
 */
export interface LoginLimits {
  burst: number;
  refillMs: number;
  maxComparisons: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { burst: 5, refillMs: 1_000, maxComparisons: 2 };
/** Addresses tracked at once; beyond, the fullest buckets (no recent failures) are forgotten first. */
const MAX_ADDRESSES = 10_000;

interface Bucket {
  tokens: number;
  updated: number;
}

export class LoginLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private comparisons = 0;

  constructor(
    private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  private bucket(address: string): Bucket {
    const now = this.now();
    let bucket = this.buckets.get(address);
    if (bucket === undefined) {
      if (this.buckets.size >= MAX_ADDRESSES) this.forgetRefilled(now);
      bucket = { tokens: this.limits.burst, updated: now };
      this.buckets.set(address, bucket);
    }
    bucket.tokens = Math.min(this.limits.burst, bucket.tokens + (now - bucket.updated) / this.limits.refillMs);
    bucket.updated = now;
    return bucket;
  }

  private forgetRefilled(now: number): void {
    for (const [address, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updated) / this.limits.refillMs >= this.limits.burst) this.buckets.delete(address);
    }
    // Every address failed recently: start over rather than grow without bound.
    if (this.buckets.size >= MAX_ADDRESSES) this.buckets.clear();
  }

  /** Whether an unverified attempt from `address` may be compared now. A true answer must be followed by `release`. */
  tryAcquire(address: string): boolean {
    if (this.bucket(address).tokens < 1 || this.comparisons >= this.limits.maxComparisons) return false;
    this.comparisons += 1;
    return true;
  }

  /** The comparison is done; a failed one costs the address a token. */
  release(address: string, failed: boolean): void {
    this.comparisons -= 1;
    if (failed) this.bucket(address).tokens -= 1;
  }
}
