import type { Metric, MetricValueWithName } from 'prom-client';

/** Latency buckets, seconds: a HEAD answers in a millisecond, a layer upload may take minutes. */
export const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** What was answered for one (route template, method, status). */
interface Tally {
  readonly route: string;
  readonly method: string;
  readonly status: string;
  readonly code: number;
  requests: number;
  received: number;
  sent: number;
  seconds: number;
  /** Requests per latency bucket (not cumulative); the last slot is above the highest bound. */
  readonly buckets: number[];
}

type Label = 'route' | 'method' | 'status';

/**
 * The HTTP figures of every request, counted as plain numbers on the hot path and turned into Prometheus metrics only
 * when scraped. prom-client's own counters validate and hash their labels on every increment, five times a request;
 * here a request costs one map lookup and a few additions (measured: `npm run bench -- --only metrics-cost`).
 */
export class RequestTally {
  private readonly tallies = new Map<string, Tally>();
  /** The tally of the request before: under load most requests are of the kind just answered, and then no key is built. */
  private last: Tally | undefined;

  add(route: string, method: string, status: number, seconds: number, received: number, sent: number): void {
    let t = this.last;
    if (!t || t.code !== status || t.route !== route || t.method !== method) t = this.last = this.tallyOf(route, method, status);
    t.requests++;
    t.received += received;
    t.sent += sent;
    t.seconds += seconds;
    let b = 0;
    while (b < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[b]!) b++;
    t.buckets[b]!++;
  }

  private tallyOf(route: string, method: string, status: number): Tally {
    const key = `${route} ${method} ${status}`;
    let t = this.tallies.get(key);
    if (!t) {
      t = { route, method, status: String(status), code: status, requests: 0, received: 0, sent: 0, seconds: 0, buckets: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0) };
      this.tallies.set(key, t);
    }
    return t;
  }

  /** The four HTTP metrics, for a prom-client registry. */
  metrics(): Metric[] {
    return [
      this.counter('berth_http_requests_total', 'HTTP requests answered, by route template, method and status.', ['route', 'method', 'status'], (t) => t.requests),
      this.histogram('berth_http_request_duration_seconds', 'Time from request to the last byte of the answer.'),
      this.counter('berth_http_received_bytes_total', 'Request body bytes read from clients, by route template.', ['route'], (t) => t.received),
      this.counter('berth_http_sent_bytes_total', 'Bytes written to clients, headers and bodies, by route template.', ['route'], (t) => t.sent),
    ];
  }

  /** Adds up the tallies that share the given labels' values. */
  private grouped(labels: readonly Label[]): { labels: Record<string, string>; tallies: Tally[] }[] {
    const groups = new Map<string, { labels: Record<string, string>; tallies: Tally[] }>();
    for (const t of this.tallies.values()) {
      const key = labels.map((l) => t[l]).join(' ');
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { labels: Object.fromEntries(labels.map((l) => [l, t[l]])), tallies: [] }));
      g.tallies.push(t);
    }
    return [...groups.values()];
  }

  private counter(name: string, help: string, labels: Label[], pick: (t: Tally) => number): Metric {
    return scraped({
      name,
      help,
      type: 'counter',
      values: () => this.grouped(labels).map((g) => ({ labels: g.labels, value: g.tallies.reduce((n, t) => n + pick(t), 0) })),
    });
  }

  private histogram(name: string, help: string): Metric {
    return scraped({
      name,
      help,
      type: 'histogram',
      values: () =>
        this.grouped(['route', 'method']).flatMap((g) => {
          const per = LATENCY_BUCKETS.map((_, i) => g.tallies.reduce((n, t) => n + t.buckets[i]!, 0));
          const count = g.tallies.reduce((n, t) => n + t.requests, 0);
          let cumulative = 0;
          const bucket = (le: number | string, value: number): MetricValueWithName<string> => ({ metricName: `${name}_bucket`, labels: { ...g.labels, le }, value });
          return [
            ...LATENCY_BUCKETS.map((le, i) => bucket(le, (cumulative += per[i]!))),
            bucket('+Inf', count),
            { metricName: `${name}_sum`, labels: g.labels, value: g.tallies.reduce((n, t) => n + t.seconds, 0) },
            { metricName: `${name}_count`, labels: g.labels, value: count },
          ];
        }),
    });
  }
}

/**
 * A metric whose values are computed when scraped. prom-client has no way to set a histogram's buckets, so this is
 * the shape its registry reads from any metric (`name`, `help`, `get()`); the cluster aggregator adds them up too.
 */
function scraped(m: { name: string; help: string; type: 'counter' | 'histogram'; values: () => MetricValueWithName<string>[] }): Metric {
  const metric = {
    name: m.name,
    help: m.help,
    get: async () => ({ name: m.name, help: m.help, type: m.type, aggregator: 'sum', values: m.values() }),
  };
  return metric as unknown as Metric;
}
