import { createRequire } from 'node:module';
import { collectDefaultMetrics, type Registry } from 'prom-client';

const require = createRequire(import.meta.url);

type DefaultMetric = (registry: Registry, config: { eventLoopMonitoringPrecision: number }) => void;

/**
 * prom-client's default Node.js metrics under their usual names, GC durations
 * only when asked for. prom-client takes them from a PerformanceObserver, which
 * Node calls into JavaScript after every collection; a registry under load
 * collects a few hundred times a second, and that alone cost 7 % of manifest
 * GET throughput. V8's GCProfiler, the other source, cost 15 % (it records
 * the heap's spaces before and after each collection). Both measured with two
 * servers loaded at once: docs/BENCHMARKS.md.
 */
export function collectNodeMetrics(registry: Registry, gcDurations: boolean): void {
  for (const name of collectDefaultMetrics.metricsList) {
    if (name !== 'gc' || gcDurations) (require(`prom-client/lib/metrics/${name}.js`) as DefaultMetric)(registry, { eventLoopMonitoringPrecision: 10 });
  }
}
