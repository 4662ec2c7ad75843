import type { Kysely } from 'kysely';

/**
 * The pull-through cache's own facts; the content it caches lives in the
 * ordinary tables, in repositories under each upstream's namespace.
 *
 * - `proxy_claims`: who is fetching a missing blob or manifest from an
 *   upstream right now, until when (renewed while the bytes flow), so
 *   replicas share one fetch and a dead holder's claim lapses.
 * - `proxy_tags`: when a cached tag was last confirmed upstream; it is served
 *   without asking again until the upstream's tag TTL has passed. Rows go
 *   with their repository.
 * - `proxy_stats`: per upstream namespace, requests answered from the cache
 *   alone, requests sent upstream and bytes fetched, added to by every replica.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('proxy_claims')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('proxy_tags')
    .addColumn('repository_id', 'bigint', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
    .addColumn('tag', 'text', (c) => c.notNull())
    .addColumn('checked_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('proxy_tags_pk', ['repository_id', 'tag'])
    .execute();
  await db.schema
    .createTable('proxy_stats')
    .addColumn('namespace', 'text', (c) => c.primaryKey())
    .addColumn('hits', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('upstream_requests', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('upstream_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
}
