import type { JobQueue } from '../jobs/queue.js';
import type { Digest } from '../oci/digest.js';
import { mayBeImage } from '../scan/scannable.js';
import type { RegistryContext } from './context.js';

/** Scans of pushed images; rescans (a newer database) wait in a queue of their own, so a push is never behind a million of them. */
export const SCAN_QUEUE = 'scan';
export const RESCAN_QUEUE = 'rescan';
export const SCAN_QUEUES = [SCAN_QUEUE, RESCAN_QUEUE];

/** The payload of both queues' jobs, keyed by the digest: one scan per digest waits at a time. */
export interface ScanJob {
  digest: Digest;
}

/**
 * Scan on push: an image manifest pushed gets a `scan` job, enqueued in the
 * push's own transaction, so the job exists exactly when the push committed
 * (and survives any crash after). An index gets none: each of its children
 * was pushed before it, with an event of its own. Referrers (a subject) and
 * artifacts (an artifactType of their own) get none; cosign signatures and
 * attestations look like images until their layers are read, and the job
 * itself passes over them (src/scan/scannable.ts).
 */
export function scanOnPush(ctx: RegistryContext, jobs: JobQueue): void {
  scanning.set(ctx, jobs);
  ctx.events.listen(async (event, trx) => {
    if (event.action !== 'push' || !mayBeImage(event)) return;
    const job: ScanJob = { digest: event.digest };
    await jobs.enqueue({ queue: SCAN_QUEUE, key: event.digest, payload: job }, trx);
  });
}

const scanning = new WeakMap<RegistryContext, JobQueue>();

/** The queue scans go through when `berth serve` turned scanning on for `ctx`, else undefined. */
export const scanJobsOf = (ctx: RegistryContext): JobQueue | undefined => scanning.get(ctx);
