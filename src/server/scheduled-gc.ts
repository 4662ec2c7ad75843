import type { Logger } from 'pino';
import type { Leases } from '../meta/lease.js';
import type { RegistryContext } from '../registry/context.js';
import { collectGarbage } from '../registry/gc.js';

/** Runs GC (with retention) every `intervalMs` on one replica at a time; returns a stop function. */
export function scheduleGc(ctx: RegistryContext, leases: Leases, intervalMs: number, logger: Logger): () => void {
  if (intervalMs === 0) return () => {};
  const timer = setInterval(() => {
    leases
      .withLease('gc', () => collectGarbage(ctx, { dryRun: false }))
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
