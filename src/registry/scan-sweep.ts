import { setImmediate as nextTurn } from 'node:timers/promises';
import type { JobQueue } from '../jobs/queue.js';
import { ScanQueries } from '../meta/scan-queries.js';
import type { RegistryContext } from './context.js';
import { RESCAN_QUEUE, type ScanJob } from './scan-on-push.js';
import { isStale } from './scan-stamp.js';

/** Results looked at per step: one bounded query and one short transaction. */
const PAGE = 500;

export interface SweepOutcome {
  rescans: number;
  removed: number;
}

/**
 * After the vulnerability database (or the scanner) changed: every result
 * made with an older one gets a `rescan` job, and results of digests no
 * repository holds any more are removed. The table is walked in digest
 * order one page at a time, whatever the registry holds, with a turn of the
 * event loop between pages; enqueueing what already waits is a no-op, so a
 * sweep cut short (a restart) is simply run again.
 */
export async function sweepScanResults(ctx: RegistryContext, jobs: JobQueue, scanner: string, dbVersion: number, signal?: AbortSignal): Promise<SweepOutcome> {
  const q = new ScanQueries(ctx.meta.db);
  const outcome: SweepOutcome = { rescans: 0, removed: 0 };
  for (let after = ''; !signal?.aborted; await nextTurn()) {
    const rows = await q.page(after, PAGE);
    if (rows.length === 0) break;
    after = rows.at(-1)!.digest;
    outcome.removed += await q.deleteOrphans(rows.filter((r) => !r.live).map((r) => r.digest));
    const stale = rows.filter((r) => r.live && isStale(r, scanner, dbVersion));
    if (stale.length === 0) continue;
    await ctx.meta.db.transaction().execute(async (trx) => {
      for (const r of stale) await jobs.enqueue({ queue: RESCAN_QUEUE, key: r.digest, payload: { digest: r.digest } satisfies ScanJob }, trx);
    });
    outcome.rescans += stale.length;
  }
  return outcome;
}
