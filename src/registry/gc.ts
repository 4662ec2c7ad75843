import type { Digest } from '../oci/digest.js';
import { GcQueries } from '../meta/gc-queries.js';
import type { RegistryContext } from './context.js';
import { applyRetention, type RetentionAction } from './retention.js';
import { deleteAttachmentsOf } from './attachment-cleanup.js';
import type { RepoId } from '../meta/metadata.js';
import { GcRuns } from '../meta/gc-runs.js';

const PAGE = 500;
/** How many swept blobs a report names; the rest are counted (a million-blob registry's list would not fit the memory budget). */
export const REPORT_BLOBS = 1000;
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
  /** The first REPORT_BLOBS blobs removed (in a dry run: that would be), in digest order. */
  blobs: { digest: Digest; size: number }[];
  /** How many blobs were removed (would be), named above or not. */
  blobsTotal: number;
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
  const report: GcReport = { dryRun: opts.dryRun, graceMs, retention: [], manifests: [], linksRemoved: 0, blobs: [], blobsTotal: 0, freedBytes: 0, repositoriesRemoved: 0, waiting: { blobs: 0, bytes: 0 } };
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
        if (report.blobs.length < REPORT_BLOBS) report.blobs.push(b);
        report.blobsTotal++;
        report.freedBytes += b.size;
      }
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.digest;
  }
  if (!opts.dryRun) report.repositoriesRemoved = await q.sweepRepositories(cutoff);
  if (report.repositoriesRemoved > 0) ctx.caches.clearMutable();
  report.waiting = await waitingForGrace(q, cutoff);
  await new GcRuns(ctx.meta.db).record({
    startedAt,
    finishedAt: ctx.now(),
    dryRun: opts.dryRun,
    tagsRemoved: report.retention.length,
    manifestsRemoved: report.manifests.length,
    blobsRemoved: report.blobsTotal,
    freedBytes: report.freedBytes,
  });
  return report;
}

/** Unreferenced, but not yet for the whole grace period: the next run after it frees them. */
async function waitingForGrace(q: GcQueries, cutoff: number): Promise<GcReport['waiting']> {
  const waiting = { blobs: 0, bytes: 0 };
  let after = '';
  for (;;) {
    const page = await q.waitingBlobs(cutoff, PAGE, after);
    for (const b of page) {
      waiting.blobs++;
      waiting.bytes += b.size;
    }
    if (page.length < PAGE) return waiting;
    after = page[page.length - 1]!.digest;
  }
}

async function removeUntagged(ctx: RegistryContext, q: GcQueries, dryRun: boolean): Promise<GcReport['manifests']> {
  const removed: GcReport['manifests'] = [];
  for (let pass = 0; pass < (dryRun ? 1 : MAX_UNTAGGED_PASSES); pass++) {
    const cutoff = ctx.now() - ctx.policy.settings.gc.graceMs;
    const candidates = await q.untaggedManifests(cutoff, PAGE);
    const names = await repositoryNames(ctx, candidates.map((m) => m.repositoryId));
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

/** The names of one page's repositories (a registry's every name would grow with it). */
async function repositoryNames(ctx: RegistryContext, ids: RepoId[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await ctx.meta.db.selectFrom('repositories').select(['id', 'name']).where('id', 'in', [...new Set(ids)]).execute();
  return new Map(rows.map((r) => [Number(r.id), r.name]));
}
