import type { Kysely } from 'kysely';

/**
 * Who opened an upload session: the user, or for anonymous pushes the
 * client address, so open sessions can be capped per user and per address
 * (an unfinished session holds storage until it expires). And blobs found
 * damaged while being served (stored size not the indexed one), for fsck.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('uploads').addColumn('owner', 'text').execute();
  await db.schema.alterTable('uploads').addColumn('client', 'text').execute();
  await db.schema.createIndex('uploads_owner').on('uploads').column('owner').execute();
  await db.schema.createIndex('uploads_client').on('uploads').column('client').execute();
  await db.schema
    .createTable('suspect_blobs')
    .addColumn('digest', 'text', (c) => c.primaryKey())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('noted_at', 'bigint', (c) => c.notNull())
    .execute();
}
