import type { Digest } from '../oci/digest.js';
import { GcQueries } from '../meta/gc-queries.js';
import type { RegistryContext } from './context.js';
import { applyRetention, type RetentionAction } from './retention.js';
import { deleteAttachmentsOf } from './attachment-cleanup.js';
import type { RepoId } from '../meta/metadata.js';
import { GcRuns } from '../meta/gc-runs.js';

const PAGE = 500;
/** Tag history's `actor` for attachment tags GC removes with their subject. */
const GC_ACTOR = 'berth-gc';
/** An index freed in one pass frees its children in the next; deeper nesting waits for the next run. */
const MAX_UNTAGGED_PASSES = 5;

export interface GcReport {
  dryRun: boolean;
  graceMs: number;
  retention: RetentionAction[];
  manifests: { repository: string; repositoryId: RepoId; digest: Digest; size: number }[];
  linksRemoved: number;
  blobs: { digest: Digest; size: number }[];
  /** Bytes removed from the store (in a dry run: that would be). */
  freedBytes: number;
  /** Repository rows that held nothing (left by uploads that never completed). */
  repositoriesRemoved: number;
  /** Blobs nothing references any more that the grace period still protects: the next run after it frees them. */
  waiting: { blobs: number; bytes: number };
}

/**
 * Garbage collection from the metadata index, safe beside live pushes on any
 * number of processes (the argument is in src/meta/gc-queries.ts). Order:
 * retention, untagged manifests (when the policy says so), unreferenced links
 * older than the grace period, blobs nothing holds, then repositories that
 * hold nothing. A dry run deletes
 * nothing and reports the blobs the sweep would remove now; blobs that only
 * become garbage once this run's retention and manifest deletes happen are
 * not in it. Every run, dry or not, is recorded (`gc_runs`) for the UI's operations page.
 */
export async function collectGarbage(ctx: RegistryContext, opts: { dryRun: boolean }): Promise<GcReport> {
  const startedAt = ctx.now();
  const q = new GcQueries(ctx.meta.db);
  const { graceMs, deleteUntagged } = ctx.policy.settings.gc;
  const report: GcReport = { dryRun: opts.dryRun, graceMs, retention: [], manifests: [], linksRemoved: 0, blobs: [], freedBytes: 0, repositoriesRemoved: 0, waiting: { blobs: 0, bytes: 0 } };
  report.retention = await applyRetention(ctx, opts.dryRun);
  if (deleteUntagged) report.manifests = await removeUntagged(ctx, q, opts.dryRun);
  if (!opts.dryRun) for (const m of report.manifests) await deleteAttachmentsOf(ctx, m.repositoryId, m.digest, GC_ACTOR);
  const cutoff = ctx.now() - graceMs;
  if (!opts.dryRun) report.linksRemoved = await q.sweepLinks(cutoff);
  let after = '';
  for (;;) {
    const page = await q.sweepableBlobs(cutoff, PAGE, after);
    for (const b of page) {
      if (opts.dryRun || (await q.sweepBlob(b.digest, cutoff, () => ctx.store.delete(b.digest)))) {
        report.blobs.push(b);
        report.freedBytes += b.size;
      }
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.digest;
  }
  if (!opts.dryRun) report.repositoriesRemoved = await q.sweepRepositories(cutoff);
  if (report.repositoriesRemoved > 0) ctx.caches.clearMutable();
  report.waiting = await waitingForGrace(q, ctx.now(), new Set(report.blobs.map((b) => b.digest)));
  await new GcRuns(ctx.meta.db).record({
    startedAt,
    finishedAt: ctx.now(),
    dryRun: opts.dryRun,
    tagsRemoved: report.retention.length,
    manifestsRemoved: report.manifests.length,
    blobsRemoved: report.blobs.length,
    freedBytes: report.freedBytes,
  });
  return report;
}

/** Unreferenced now, but not yet for the whole grace period (a cutoff of now is a grace of zero). */
async function waitingForGrace(q: GcQueries, now: number, swept: Set<Digest>): Promise<GcReport['waiting']> {
  const waiting = { blobs: 0, bytes: 0 };
  let after = '';
  for (;;) {
    const page = await q.sweepableBlobs(now + 1, PAGE, after);
    for (const b of page) {
      if (swept.has(b.digest)) continue;
      waiting.blobs++;
      waiting.bytes += b.size;
    }
    if (page.length < PAGE) return waiting;
    after = page[page.length - 1]!.digest;
  }
}

async function removeUntagged(ctx: RegistryContext, q: GcQueries, dryRun: boolean): Promise<GcReport['manifests']> {
  const names = new Map((await ctx.meta.db.selectFrom('repositories').select(['id', 'name']).execute()).map((r) => [Number(r.id), r.name]));
  const removed: GcReport['manifests'] = [];
  for (let pass = 0; pass < (dryRun ? 1 : MAX_UNTAGGED_PASSES); pass++) {
    const cutoff = ctx.now() - ctx.policy.settings.gc.graceMs;
    const candidates = await q.untaggedManifests(cutoff, PAGE);
    let progress = 0;
    for (const m of candidates) {
      if (!dryRun && !(await q.deleteUntagged(m.repositoryId, m.digest, cutoff))) continue;
      ctx.caches.forgetManifest(m.repositoryId, m.digest);
      removed.push({ repository: names.get(m.repositoryId) ?? `#${m.repositoryId}`, repositoryId: m.repositoryId, digest: m.digest, size: m.size });
      progress++;
    }
    if (progress === 0) break;
  }
  return removed;
}
