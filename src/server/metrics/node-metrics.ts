import { createRequire } from 'node:module';
import { GCProfiler } from 'node:v8';
import { collectDefaultMetrics, Histogram, type Registry } from 'prom-client';

const require = createRequire(import.meta.url);

/** The profile is read at least this often, scraped or not: it holds about 3 KB per collection, and a busy server makes hundreds a second. */
const GC_READ_MS = 5000;
/** V8's names for collections, as prom-client's `kind` label calls them. */
const GC_KINDS: Record<string, string> = { Scavenge: 'minor', MinorMarkCompact: 'minor', MinorMarkSweep: 'minor', MarkSweepCompact: 'major', IncrementalMarking: 'incremental', ProcessWeakCallbacks: 'weakcb' };

type DefaultMetric = (registry: Registry, config: { eventLoopMonitoringPrecision: number }) => void;

/**
 * prom-client's default Node.js metrics under their usual names, except that
 * GC durations come from V8's GC profiler rather than prom-client's
 * PerformanceObserver. The observer calls into JavaScript after every
 * collection, and a registry under load collects a few hundred times a
 * second: it alone cost 7 % of manifest GET throughput (two servers loaded at
 * once, docs/BENCHMARKS.md). The profiler records in C++ and is read here.
 */
export function collectNodeMetrics(registry: Registry): void {
  for (const name of collectDefaultMetrics.metricsList) {
    if (name !== 'gc') (require(`prom-client/lib/metrics/${name}.js`) as DefaultMetric)(registry, { eventLoopMonitoringPrecision: 10 });
  }
  const gcSeconds = new Histogram({
    name: 'nodejs_gc_duration_seconds',
    help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
    labelNames: ['kind'],
    buckets: [0.001, 0.01, 0.1, 1, 2, 5],
    registers: [registry],
    collect: () => read(),
  });
  let profiler = started();
  const read = (): void => {
    // The next profiler starts before this one stops, so no collection falls between them.
    const next = started();
    const { statistics } = profiler.stop();
    profiler = next;
    for (const gc of statistics) gcSeconds.labels(GC_KINDS[gc.gcType] ?? gc.gcType.toLowerCase()).observe(gc.cost / 1e6);
  };
  setInterval(read, GC_READ_MS).unref();
}

function started(): GCProfiler {
  const profiler = new GCProfiler();
  profiler.start();
  return profiler;
}
