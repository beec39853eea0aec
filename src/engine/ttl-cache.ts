/**
 * Caches promises by key for a time, so concurrent callers share one engine call in flight. A rejected
 * load is forgotten at once: errors are retried by the next caller, never served from the cache.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { expires: number; value: Promise<V> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: K, load: () => Promise<V>): Promise<V> {
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.expires > this.now()) return entry.value;
    const value = load();
    this.entries.set(key, { expires: this.now() + this.ttlMs, value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** Drops every key not in `keep` (images no container uses any more). */
  retain(keep: ReadonlySet<K>): void {
    for (const key of this.entries.keys()) if (!keep.has(key)) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
