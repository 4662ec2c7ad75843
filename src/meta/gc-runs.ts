import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface GcRun {
  startedAt: number;
  finishedAt: number;
  dryRun: boolean;
  tagsRemoved: number;
  manifestsRemoved: number;
  blobsRemoved: number;
  freedBytes: number;
}

/** Runs kept; older ones are dropped as new ones are recorded. */
const KEPT_RUNS = 200;

/** The record of garbage collection runs (scheduled, `berth gc`, and dry runs from the UI). */
export class GcRuns {
  constructor(private readonly db: Kysely<Database>) {}

  async record(run: GcRun): Promise<void> {
    await this.db
      .insertInto('gc_runs')
      .values({
        started_at: run.startedAt,
        finished_at: run.finishedAt,
        dry_run: run.dryRun ? 1 : 0,
        tags_removed: run.tagsRemoved,
        manifests_removed: run.manifestsRemoved,
        blobs_removed: run.blobsRemoved,
        freed_bytes: run.freedBytes,
      })
      .execute();
    const keep = this.db.selectFrom('gc_runs').select('id').orderBy('id', 'desc').limit(KEPT_RUNS);
    await this.db.deleteFrom('gc_runs').where('id', 'not in', keep).execute();
  }

  /** The latest runs, newest first. */
  async latest(limit: number): Promise<GcRun[]> {
    const rows = await this.db.selectFrom('gc_runs').selectAll().orderBy('id', 'desc').limit(limit).execute();
    return rows.map((r) => ({
      startedAt: Number(r.started_at),
      finishedAt: Number(r.finished_at),
      dryRun: Number(r.dry_run) === 1,
      tagsRemoved: Number(r.tags_removed),
      manifestsRemoved: Number(r.manifests_removed),
      blobsRemoved: Number(r.blobs_removed),
      freedBytes: Number(r.freed_bytes),
    }));
  }
}
