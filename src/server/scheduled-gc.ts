import type { Logger } from 'pino';
import type { Leases } from '../meta/lease.js';
import type { WorkerPool } from '../workers/pool.js';

/**
 * Runs GC (with retention) every `intervalMs` on one replica at a time, in a
 * worker thread: marking and sweeping cost what the registry holds, and the
 * event loop must keep answering meanwhile. Returns a stop function.
 */
export function scheduleGc(workers: WorkerPool, leases: Leases, intervalMs: number, logger: Logger): () => void {
  if (intervalMs === 0) return () => {};
  const timer = setInterval(() => {
    leases
      .withLease('gc', () => workers.run('collectGarbage', { dryRun: false }))
      .then((r) => {
        if (!r.held) return;
        const { retention, manifests, linksRemoved, blobs, freedBytes } = r.value;
        logger.info({ tagsRemoved: retention.length, manifestsRemoved: manifests.length, linksRemoved, blobsRemoved: blobs.length, freedBytes }, 'garbage collected');
      })
      .catch((err: unknown) => logger.warn({ err }, 'garbage collection failed; it will run again'));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
