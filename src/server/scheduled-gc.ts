import type { Logger } from 'pino';
import type { Leases } from '../meta/lease.js';
import type { EvictionInput } from '../proxy/eviction.js';
import type { WorkerPool } from '../workers/pool.js';

/**
 * Runs GC (with retention) every `intervalMs` on one replica at a time, in a
 * worker thread: marking and sweeping cost what the registry holds, and the
 * event loop must keep answering meanwhile. Returns a stop function.
 */
export function scheduleGc(workers: WorkerPool, leases: Leases, intervalMs: number, logger: Logger): () => void {
  return repeat(intervalMs, async () => {
    const r = await leases.withLease('gc', () => workers.run('collectGarbage', { dryRun: false }));
    if (!r.held) return;
    const { retention, manifests, linksRemoved, blobs, freedBytes } = r.value;
    logger.info({ tagsRemoved: retention.length, manifestsRemoved: manifests.length, linksRemoved, blobsRemoved: blobs.length, freedBytes }, 'garbage collected');
  }, (err) => logger.warn({ err }, 'garbage collection failed; it will run again'));
}

/** Keeps the pull-through cache under `proxy.maxSize` the same way: a worker thread, one replica at a time. */
export function scheduleEviction(workers: WorkerPool, leases: Leases, input: EvictionInput, intervalMs: number, logger: Logger): () => void {
  return repeat(intervalMs, async () => {
    const r = await leases.withLease('proxy-evict', () => workers.run('evictCache', input));
    if (!r.held || r.value.evicted.length === 0) return;
    const { evicted, freedBytes, heldBytes } = r.value;
    logger.info({ imagesEvicted: evicted.length, freedBytes, heldBytes, maxBytes: input.maxBytes }, 'cache evicted the least recently pulled images');
  }, (err) => logger.warn({ err }, 'cache eviction failed; it will run again'));
}

function repeat(intervalMs: number, run: () => Promise<void>, onError: (err: unknown) => void): () => void {
  if (intervalMs === 0) return () => {};
  const timer = setInterval(() => void run().catch(onError), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
