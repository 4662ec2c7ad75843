import { GcRuns, type GcRun } from '../meta/gc-runs.js';
import { UsageQueries } from '../meta/usage-queries.js';
import type { RegistryContext } from './context.js';
import { collectGarbage } from './gc.js';
import type { RetentionAction } from './retention.js';

const GC_RUNS_SHOWN = 20;
const UPLOADS_SHOWN = 100;
/** Entries of each kind a dry run report lists; the totals count them all. */
const DRY_RUN_ENTRIES = 200;

export interface OperationsReport {
  gcRuns: GcRun[];
  gc: { graceMs: number; deleteUntagged: boolean };
  quotas: { namespace: string; limitBytes: number; usedBytes: number }[];
  retention: { repositories: string; keepLast?: number; olderThanMs?: number; keepTags: string[] }[];
  uploads: { id: string; repository: string; bytes: number; owner: string | null; client: string | null; createdAt: string; updatedAt: string }[];
  uploadsTotal: number;
}

export interface DryRunSummary {
  graceMs: number;
  freedBytes: number;
  blobs: number;
  manifests: { repository: string; digest: string; size: number }[];
  manifestsTotal: number;
  retention: Omit<RetentionAction, 'updatedAt' | 'done'>[];
  retentionTotal: number;
}

/**
 * What an operator watches: GC runs and what they freed, quotas and how full
 * they are, retention rules, upload sessions in flight. Quota usage
 * aggregates over the namespace: it runs in a worker thread.
 */
export async function operationsReport(ctx: RegistryContext): Promise<OperationsReport> {
  const usage = new UsageQueries(ctx.meta.db);
  const quotas = [];
  for (const [namespace, limitBytes] of Object.entries(ctx.policy.settings.quotas)) quotas.push({ namespace, limitBytes, usedBytes: await usage.namespaceBytes(namespace) });
  const uploads = await ctx.meta.db
    .selectFrom('uploads as u')
    .innerJoin('repositories as r', 'r.id', 'u.repository_id')
    .select(['u.id', 'r.name', 'u.size', 'u.owner', 'u.client', 'u.created_at', 'u.updated_at'])
    .orderBy('u.updated_at', 'desc')
    .limit(UPLOADS_SHOWN)
    .execute();
  const total = await ctx.meta.db.selectFrom('uploads').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const { gc, retention } = ctx.policy.settings;
  return {
    gcRuns: await new GcRuns(ctx.meta.db).latest(GC_RUNS_SHOWN),
    gc: { graceMs: gc.graceMs, deleteUntagged: gc.deleteUntagged },
    quotas,
    retention,
    uploads: uploads.map((u) => ({
      id: u.id,
      repository: u.name,
      bytes: Number(u.size),
      owner: u.owner,
      client: u.client,
      createdAt: new Date(Number(u.created_at)).toISOString(),
      updatedAt: new Date(Number(u.updated_at)).toISOString(),
    })),
    uploadsTotal: Number(total.n),
  };
}

/** A GC dry run (retention plan included), cut to what a page shows. */
export async function gcDryRun(ctx: RegistryContext): Promise<DryRunSummary> {
  const r = await collectGarbage(ctx, { dryRun: true });
  return {
    graceMs: r.graceMs,
    freedBytes: r.freedBytes,
    blobs: r.blobsTotal,
    manifests: r.manifests.slice(0, DRY_RUN_ENTRIES).map(({ repository, digest, size }) => ({ repository, digest, size })),
    manifestsTotal: r.manifests.length,
    retention: r.retention.slice(0, DRY_RUN_ENTRIES).map(({ repository, tag, digest }) => ({ repository, tag, digest })),
    retentionTotal: r.retention.length,
  };
}
