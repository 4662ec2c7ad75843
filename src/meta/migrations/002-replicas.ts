import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

/** Tables whose rows the registry caches in memory; a write to any of them must reach every replica. */
export const WATCHED_TABLES = ['repositories', 'manifests', 'tags'] as const;
export const CHANGE_CHANNEL = 'berth_changes';

/**
 * What several processes need to coordinate. Uploads get a write claim
 * (`writer`, `writer_until`): a chunk is written only by the request that
 * claimed the session at its current size, so a second writer on another
 * replica is refused before it touches the stored bytes. PostgreSQL: a statement trigger
 * that NOTIFYs every committed write to a cached table, tagged with the
 * writer's application_name so a replica can skip its own (it has already
 * forgotten what it changed). SQLite: a lease table (PostgreSQL uses advisory locks).
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema.alterTable('uploads').addColumn('writer', 'text').execute();
  await db.schema.alterTable('uploads').addColumn('writer_until', 'bigint').execute();
  if (dialect === 'sqlite') {
    await db.schema
      .createTable('leases')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('holder', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    return;
  }
  await sql`
    CREATE OR REPLACE FUNCTION berth_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify(${sql.lit(CHANGE_CHANNEL)}, current_setting('application_name'));
      RETURN NULL;
    END $$`.execute(db);
  for (const table of WATCHED_TABLES) {
    await sql`
      CREATE TRIGGER ${sql.id(`${table}_changed`)}
      AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${sql.table(table)}
      FOR EACH STATEMENT EXECUTE FUNCTION berth_notify_change()`.execute(db);
  }
}
