import { sql, type Kysely } from 'kysely';

/**
 * Facts for online GC and storage accounting.
 *
 * - `blobs.linked_at`: when a writer last claimed the blob (commit, mount,
 *   manifest push). GC deletes a `blobs` row only if it is older than the
 *   grace period, and every claim updates the row, so under PostgreSQL the
 *   claim and GC's conditional DELETE contend on one row lock.
 * - Manifests get a `blobs` row too (their bytes live in the same store), so
 *   one sweep and one SUM cover all stored bytes.
 * - `manifests.pushed_at` / `pulled_at`: last push (or reference by a new
 *   index) and last pull, for `berth usage` and the untagged-manifest policy.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('blobs').addColumn('linked_at', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.updateTable('blobs').set({ linked_at: sql`created_at` }).execute();
  await db.schema.createIndex('blobs_linked_at').on('blobs').column('linked_at').execute();

  await db.schema.alterTable('manifests').addColumn('pushed_at', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('manifests').addColumn('pulled_at', 'bigint').execute();
  await db.updateTable('manifests').set({ pushed_at: sql`created_at` }).execute();

  await db
    .insertInto('blobs')
    .columns(['digest', 'size', 'created_at', 'linked_at'])
    .expression((eb: any) =>
      eb
        .selectFrom('manifests')
        .select(['digest', eb.fn.max('size').as('size'), eb.fn.min('created_at').as('created_at'), eb.fn.max('created_at').as('linked_at')])
        .groupBy('digest'),
    )
    .onConflict((oc: any) => oc.column('digest').doNothing())
    .execute();
}
