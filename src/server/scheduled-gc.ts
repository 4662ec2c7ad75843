import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { every } from '../jobs/schedule.js';
import type { Leases } from '../meta/lease.js';
import type { Database } from '../meta/schema.js';
import type { WorkerPool } from '../workers/pool.js';

/**
 * Runs GC (with retention) every `intervalMs` once across every process, in a
 * worker thread: marking and sweeping cost what the registry holds, and the
 * event loop must keep answering meanwhile. Returns a stop function.
 */
export function scheduleGc(db: Kysely<Database>, workers: WorkerPool, leases: Leases, intervalMs: number, logger: Logger): () => void {
  return every(db, leases, {
    name: 'gc',
    intervalMs,
    run: async () => {
      const { retention, manifests, linksRemoved, blobs, freedBytes } = await workers.run('collectGarbage', { dryRun: false });
      logger.info({ tagsRemoved: retention.length, manifestsRemoved: manifests.length, linksRemoved, blobsRemoved: blobs.length, freedBytes }, 'garbage collected');
    },
    onError: (err) => logger.warn({ err }, 'garbage collection failed; it will run again'),
  });
}
