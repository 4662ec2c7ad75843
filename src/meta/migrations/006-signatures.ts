import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * Signatures of the registry signature extension. Each row names its
 * manifest through a foreign key that cascades: deleting a manifest (by
 * API, untagged GC or retention) deletes its signatures in the same
 * statement, and a signature can never be stored for a manifest that is not
 * there (or that a concurrent delete removes first). That is the whole GC
 * story for them: no orphan, and none of a live manifest is ever lost.
 */
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('signatures')
    .addColumn('repository_id', 'bigint', (c) => c.notNull())
    .addColumn('manifest_digest', 'text', (c) => c.notNull())
    .addColumn('content_digest', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('content', dialect === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('actor', 'text')
    .addPrimaryKeyConstraint('signatures_pk', ['repository_id', 'manifest_digest', 'content_digest'])
    .addForeignKeyConstraint('signatures_manifest_fk', ['repository_id', 'manifest_digest'], 'manifests', ['repository_id', 'digest'], (fk) => fk.onDelete('cascade'))
    .execute();
}
