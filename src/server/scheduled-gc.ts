import type { Logger } from 'pino';
import type { Leases } from '../meta/lease.js';
import type { WorkerPool } from '../workers/pool.js';
import type { GcReport } from '../registry/gc.js';

/** Told how each run went (the metrics): its report, or undefined when it failed. */
export type GcObserver = (report: GcReport | undefined, seconds: number) => void;

/**
 * Runs GC (with retention) every `intervalMs` on one replica at a time, in a
 * worker thread: marking and sweeping cost what the registry holds, and the
 * event loop must keep answering meanwhile. Returns a stop function.
 */
export function scheduleGc(workers: WorkerPool, leases: Leases, intervalMs: number, logger: Logger, observe: GcObserver = () => {}): () => void {
  if (intervalMs === 0) return () => {};
  const timer = setInterval(() => {
    let started = 0;
    const seconds = () => (performance.now() - started) / 1000;
    leases
      .withLease('gc', () => {
        started = performance.now();
        return workers.run('collectGarbage', { dryRun: false });
      })
      .then((r) => {
        if (!r.held) return;
        const { retention, manifests, linksRemoved, blobs, freedBytes } = r.value;
        observe(r.value, seconds());
        logger.info({ tagsRemoved: retention.length, manifestsRemoved: manifests.length, linksRemoved, blobsRemoved: blobs.length, freedBytes }, 'garbage collected');
      })
      .catch((err: unknown) => {
        if (started) observe(undefined, seconds());
        logger.warn({ err }, 'garbage collection failed; it will run again');
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
