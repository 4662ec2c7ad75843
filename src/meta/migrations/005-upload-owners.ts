import type { Kysely } from 'kysely';

/**
 * Who opened an upload session: the user, or for anonymous pushes the
 * client address, so open sessions can be capped per user and per address
 * (an unfinished session holds storage until it expires).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('uploads').addColumn('owner', 'text').execute();
  await db.schema.alterTable('uploads').addColumn('client', 'text').execute();
  await db.schema.createIndex('uploads_owner').on('uploads').column('owner').execute();
  await db.schema.createIndex('uploads_client').on('uploads').column('client').execute();
}
