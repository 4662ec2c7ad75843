import type { Kysely, Transaction } from 'kysely';

/** Per-repository tables in the order their references need; `key` is each one's primary key. */
const REPO_TABLES = [
  { table: 'repository_blobs', key: ['repository_id', 'digest'] },
  { table: 'manifests', key: ['repository_id', 'digest'] },
  { table: 'manifest_annotations', key: ['repository_id', 'digest'] },
  { table: 'signatures', key: ['repository_id', 'manifest_digest', 'content_digest'] },
  { table: 'manifest_refs', key: ['repository_id', 'manifest_digest', 'ref_digest', 'kind'] },
  // The source's tag wins: after a migration the destination answers as the source did.
  { table: 'tags', key: ['repository_id', 'name'], overwrite: ['digest', 'updated_at'] },
] as const;

const BATCH = 500;

export interface MetadataCopyStats {
  repositories: number;
  blobs: number;
  manifests: number;
  tags: number;
}

/**
 * Copies the metadata index between databases of either dialect (upload
 * sessions excepted: they are short-lived and their bytes stay behind).
 * Idempotent, so an interrupted run is resumed by running it again: rows
 * already there are kept, each repository is copied in one transaction, and
 * tag history is copied only into a repository that has none yet. Rows are
 * copied column for column, so both databases must be at the same schema
 * version (the caller migrates both first). Repository ids differ between
 * databases and are mapped by name.
 */
export async function copyMetadata(src: Kysely<any>, dst: Kysely<any>): Promise<MetadataCopyStats> {
  const stats: MetadataCopyStats = { repositories: 0, blobs: 0, manifests: 0, tags: 0 };
  for await (const rows of pages(src, 'blobs', ['digest'])) {
    await dst.insertInto('blobs').values(rows).onConflict((oc) => oc.column('digest').doNothing()).execute();
    stats.blobs += rows.length;
  }
  for await (const repos of pages(src, 'repositories', ['name'])) {
    for (const repo of repos) {
      await dst.transaction().execute(async (trx) => {
        const { id: _sourceId, ...fields } = repo;
        await trx.insertInto('repositories').values(fields).onConflict((oc) => oc.column('name').doNothing()).execute();
        const { id } = await trx.selectFrom('repositories').select('id').where('name', '=', repo.name).executeTakeFirstOrThrow();
        for (const t of REPO_TABLES) {
          for await (const rows of pages(src, t.table, [...t.key], repo.id)) {
            const mapped = rows.map((r) => ({ ...r, repository_id: id }));
            await trx
              .insertInto(t.table)
              .values(mapped)
              .onConflict((oc) => {
                const c = oc.columns([...t.key]);
                return 'overwrite' in t ? c.doUpdateSet(Object.fromEntries(t.overwrite.map((k) => [k, (eb: any) => eb.ref(`excluded.${k}`)]))) : c.doNothing();
              })
              .execute();
            if (t.table === 'manifests') stats.manifests += rows.length;
            if (t.table === 'tags') stats.tags += rows.length;
          }
        }
        await copyTagHistory(src, trx, repo.id, id);
      });
      stats.repositories += 1;
    }
  }
  return stats;
}

async function copyTagHistory(src: Kysely<any>, trx: Transaction<any>, from: number, to: number): Promise<void> {
  const existing = await trx.selectFrom('tag_history').select('id').where('repository_id', '=', to).limit(1).executeTakeFirst();
  if (existing) return;
  for await (const rows of pages(src, 'tag_history', ['id'], from)) {
    await trx
      .insertInto('tag_history')
      .values(rows.map(({ id: _id, ...r }) => ({ ...r, repository_id: to })))
      .execute();
  }
}

/** Keyset pagination, so memory stays flat however large the tables are. */
async function* pages(db: Kysely<any>, table: string, key: string[], repositoryId?: number): AsyncIterable<Record<string, any>[]> {
  let after: Record<string, any> | undefined;
  for (;;) {
    let q = db.selectFrom(table).selectAll().limit(BATCH);
    for (const k of key) q = q.orderBy(k);
    if (repositoryId !== undefined) q = q.where('repository_id', '=', repositoryId);
    if (after) {
      const last = after;
      q = q.where((eb) => eb(eb.refTuple(...(key as [string, string])), '>', eb.tuple(...(key.map((k) => last[k]) as [any, any]))));
    }
    const rows = await q.execute();
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < BATCH) return;
    after = rows[rows.length - 1];
  }
}
