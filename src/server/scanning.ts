import type { Logger } from 'pino';
import type { JobQueue } from '../jobs/queue.js';
import { every } from '../jobs/schedule.js';
import type { JobHandler } from '../jobs/runner.js';
import type { Leases } from '../meta/lease.js';
import type { RegistryContext } from '../registry/context.js';
import { RESCAN_QUEUE, SCAN_QUEUE, type ScanJob } from '../registry/scan-on-push.js';
import { scannerStamp } from '../registry/scan-stamp.js';
import { sweepScanResults } from '../registry/scan-sweep.js';
import type { Config } from '../config/config.js';
import { installScanning, vulnDbPath, type ScanConfig } from '../config/scan.js';
import { WorkerPool } from '../workers/pool.js';

/** A failing scan is tried this often: a broken layer stays broken, a store that was down comes back. */
const MAX_ATTEMPTS = 3;

export interface Scanning {
  /** The job handlers of the `scan` and `rescan` queues, for the server's runner. */
  handlers: JobHandler[];
  /** Starts the scheduled database update, the first one at once. */
  start(): void;
  stop(): Promise<void>;
}

/**
 * Scan on push inside `berth serve`: the listener and the pull policy on
 * `ctx`, the job handlers, and the scheduled database update.
 *
 * Scans run in worker threads of their own, `scan.concurrency` of them,
 * each with a heap of at most `scan.memory`: a scan reads whole images and
 * must neither wait behind nor starve the usage and GC threads, nor take the
 * server down with it when an image needs more memory than allowed. The
 * queue is the registry's one job queue; `rescan` is a second queue name in
 * it so that a push is never scanned after a million rescans.
 *
 * The update runs at start and then once per `scan.db.updateInterval`
 * across every replica (jobs/schedule.ts), one at a time (a lease), in a
 * scan thread (the download and the import take minutes on a real
 * database), and is followed by the sweep that enqueues rescans of results
 * made with an older database.
 */
export function openScanning(config: Config, scan: ScanConfig, deps: { ctx: RegistryContext; jobs: JobQueue; leases: Leases; logger: Logger }): Scanning {
  const { ctx, jobs, leases, logger } = deps;
  installScanning(ctx, scan, jobs);
  // Each queue may hand the pool `concurrency` scans; one more slot is for the database update.
  const pool = new WorkerPool(config, { threads: scan.concurrency, maxQueue: 2 * scan.concurrency + 1, maxHeapBytes: scan.memory });
  const dbPath = vulnDbPath(scan, config.data);
  const scanner = scannerStamp(scan.secrets);

  const run: JobHandler['run'] = async (payload, { job, signal }) => {
    const { digest } = payload as ScanJob;
    try {
      const r = await pool.run('scanImage', { digest, dbPath, secrets: scan.secrets, limits: { maxEntries: scan.maxFiles, maxBytes: scan.maxBytes } }, signal);
      logger[r.outcome === 'scanned' || r.outcome === 'rematched' ? 'info' : 'debug']({ digest, queue: job.queue, ...r }, 'image scan done');
    } catch (e) {
      if ((e as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY') throw new Error(`the scan needed more memory than scan.memory (${Math.round(scan.memory / 2 ** 20)} MiB) allows`);
      throw e;
    }
  };
  const handlers = [SCAN_QUEUE, RESCAN_QUEUE].map((queue): JobHandler => ({ queue, concurrency: scan.concurrency, leaseMs: scan.lease, maxAttempts: MAX_ATTEMPTS, run }));

  const abort = new AbortController();
  let stopSchedule = () => {};
  let running: Promise<void> | undefined;
  const refresh = async () => {
    const held = await leases.withLease('scan-db', async () => {
      const db = await pool.run('refreshVulnDb', { dbPath, ...(scan.db.updateUrl ? { from: scan.db.updateUrl } : {}), ecosystems: scan.db.ecosystems });
      for (const w of db.warnings) logger.warn({ database: dbPath }, `vulnerability database: ${w}`);
      if (db.outcomes.some((o) => o.status === 'imported')) {
        logger.info({ database: dbPath, changedAt: new Date(db.version).toISOString(), sources: db.outcomes.map((o) => ({ location: o.location, status: o.status, advisories: o.advisories })) }, 'vulnerability database updated');
      } else if (db.version === 0) {
        logger.warn({ database: dbPath }, 'no vulnerability database yet: scans list packages and secrets only (set scan.db.updateUrl, or run berth db update --db on this path)');
      }
      const swept = await sweepScanResults(ctx, jobs, scanner, db.version, abort.signal);
      if (swept.rescans || swept.removed) logger.info(swept, 'scan results swept: rescans queued, results of deleted images removed');
    });
    if (!held.held) logger.debug('vulnerability database update skipped: another replica is at it');
  };
  const failed = (err: unknown) => logger.warn({ err }, 'vulnerability database update failed; the current database stays in use');
  // The lease lets one replica in; this keeps one update of this process at a time too.
  const update = () => (running ??= refresh().finally(() => (running = undefined)));
  return {
    handlers,
    start() {
      // At start too: a new registry gets its database now, a restarted one catches up.
      update().catch(failed);
      stopSchedule = every(ctx.meta.db, leases, { name: 'scan-db-update', intervalMs: scan.db.updateInterval, run: update, onError: failed });
    },
    async stop() {
      stopSchedule();
      abort.abort();
      await pool.close();
      await running?.catch(() => {});
    },
  };
}
