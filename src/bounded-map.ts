/**
 * A Map that forgets its oldest entries past `limit`, for per-container memory (what was last logged,
 * which start was acted on) that must not grow with every container a long-running exporter has seen.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly limit: number) {
    super();
  }

  /** Sets the entry as the newest one, forgetting the oldest past the limit. */
  override set(key: K, value: V): this {
    super.delete(key);
    super.set(key, value);
    if (this.size > this.limit) {
      const oldest = this.keys().next();
      if (oldest.done !== true) super.delete(oldest.value);
    }
    return this;
  }
}
