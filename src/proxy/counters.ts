import type { ProxyCounts, ProxyQueries } from '../meta/proxy-queries.js';
import type { UpstreamMeter } from './upstream.js';

/**
 * What the cache saved, counted in memory per upstream namespace and added
 * to `proxy_stats` every few seconds: a database write per blob served would
 * cost more than the figure is worth. What a crash loses is at most one interval.
 */
export class ProxyCounters implements UpstreamMeter {
  private pending = new Map<string, ProxyCounts>();

  constructor(private readonly q: ProxyQueries) {}

  /** A request answered from the cache alone. */
  hit(namespace: string): void {
    this.of(namespace).hits++;
  }

  request(namespace: string): void {
    this.of(namespace).upstreamRequests++;
  }

  bytes(namespace: string, n: number): void {
    this.of(namespace).upstreamBytes += n;
  }

  async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    for (const [namespace, c] of batch) await this.q.addCounts(namespace, c);
  }

  private of(namespace: string): ProxyCounts {
    let c = this.pending.get(namespace);
    if (!c) this.pending.set(namespace, (c = { hits: 0, upstreamRequests: 0, upstreamBytes: 0 }));
    return c;
  }
}
