import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * What the web UI keeps: its login sessions, in the metadata database so
 * every replica knows them (no sticky sessions), each stored under the
 * SHA-256 of its cookie value (a copy of the table opens no session); and a
 * record of garbage collection runs, which until now only went to the log.
 * A repository's whole tag history, newest first, is read by an index.
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('ui_sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('csrf', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ui_sessions_subject').on('ui_sessions').columns(['subject', 'created_at']).execute();

  await db.schema.createIndex('tag_history_repository').on('tag_history').columns(['repository_id', 'id']).execute();

  const id = (t: any) =>
    dialect === 'postgres'
      ? t.addColumn('id', 'bigserial', (c: any) => c.primaryKey())
      : t.addColumn('id', 'integer', (c: any) => c.primaryKey().autoIncrement());
  await id(db.schema.createTable('gc_runs'))
    .addColumn('started_at', 'bigint', (c: any) => c.notNull())
    .addColumn('finished_at', 'bigint', (c: any) => c.notNull())
    .addColumn('dry_run', 'integer', (c: any) => c.notNull())
    .addColumn('tags_removed', 'bigint', (c: any) => c.notNull())
    .addColumn('manifests_removed', 'bigint', (c: any) => c.notNull())
    .addColumn('blobs_removed', 'bigint', (c: any) => c.notNull())
    .addColumn('freed_bytes', 'bigint', (c: any) => c.notNull())
    .execute();
}
