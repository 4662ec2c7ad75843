/** A size-bounded LRU map; `weigh` says what an entry costs against `capacity`. */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();
  private used = 0;

  constructor(
    private readonly capacity: number,
    private readonly weigh: (v: V) => number = () => 1,
  ) {}

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  set(key: K, value: V): void {
    const w = this.weigh(value);
    if (w > this.capacity) return;
    this.delete(key);
    this.map.set(key, value);
    this.used += w;
    for (const [k, v] of this.map) {
      if (this.used <= this.capacity) break;
      this.map.delete(k);
      this.used -= this.weigh(v);
    }
  }

  delete(key: K): void {
    const v = this.map.get(key);
    if (v === undefined) return;
    this.map.delete(key);
    this.used -= this.weigh(v);
  }

  clear(): void {
    this.map.clear();
    this.used = 0;
  }
}
