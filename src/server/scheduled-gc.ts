import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { every } from '../jobs/schedule.js';
import type { Leases } from '../meta/lease.js';
import type { EvictionInput } from '../proxy/eviction.js';
import type { Database } from '../meta/schema.js';
import type { GcReport } from '../registry/gc.js';
import type { WorkerPool } from '../workers/pool.js';

/** Told how each run went (the metrics): its report, or undefined when it failed. */
export type GcObserver = (report: GcReport | undefined, seconds: number) => void;

/**
 * Runs GC (with retention) every `intervalMs` once across every process, in a
 * worker thread: marking and sweeping cost what the registry holds, and the
 * event loop must keep answering meanwhile. Returns a stop function.
 */
export function scheduleGc(db: Kysely<Database>, workers: WorkerPool, leases: Leases, intervalMs: number, logger: Logger, observe: GcObserver = () => {}): () => void {
  return every(db, leases, {
    name: 'gc',
    intervalMs,
    run: async () => {
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      let report: GcReport;
      try {
        report = await workers.run('collectGarbage', { dryRun: false });
      } catch (err) {
        observe(undefined, seconds());
        throw err;
      }
      observe(report, seconds());
      const { retention, manifests, linksRemoved, blobsTotal, freedBytes } = report;
      logger.info({ tagsRemoved: retention.length, manifestsRemoved: manifests.length, linksRemoved, blobsRemoved: blobsTotal, freedBytes }, 'garbage collected');
    },
    onError: (err) => logger.warn({ err }, 'garbage collection failed; it will run again'),
  });
}

/** Keeps the pull-through cache under `proxy.maxSize` the same way: a worker thread, once per interval across every process. */
export function scheduleEviction(db: Kysely<Database>, workers: WorkerPool, leases: Leases, input: EvictionInput, intervalMs: number, logger: Logger): () => void {
  return every(db, leases, {
    name: 'proxy-evict',
    intervalMs,
    run: async () => {
      const { evicted, freedBytes, heldBytes } = await workers.run('evictCache', input);
      if (evicted.length > 0) logger.info({ imagesEvicted: evicted.length, freedBytes, heldBytes, maxBytes: input.maxBytes }, 'cache evicted the least recently pulled images');
    },
    onError: (err) => logger.warn({ err }, 'cache eviction failed; it will run again'),
  });
}
