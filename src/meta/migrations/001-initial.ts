import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';
import { withId } from './columns.js';

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await withId(db.schema.createTable('repositories'), dialect)
    .addColumn('name', 'text', (c: any) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c: any) => c.notNull())
    .execute();

  await db.schema
    .createTable('blobs')
    .addColumn('digest', 'text', (c) => c.primaryKey())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('repository_blobs')
    .addColumn('repository_id', 'bigint', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_access_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('repository_blobs_pk', ['repository_id', 'digest'])
    .execute();
  await db.schema.createIndex('repository_blobs_digest').on('repository_blobs').column('digest').execute();

  await db.schema
    .createTable('manifests')
    .addColumn('repository_id', 'bigint', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('media_type', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('artifact_type', 'text')
    .addColumn('subject', 'text')
    .addColumn('annotations', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('manifests_pk', ['repository_id', 'digest'])
    .execute();
  await db.schema.createIndex('manifests_subject').on('manifests').columns(['repository_id', 'subject']).execute();
  await db.schema.createIndex('manifests_digest').on('manifests').column('digest').execute();

  await db.schema
    .createTable('manifest_refs')
    .addColumn('repository_id', 'bigint', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
    .addColumn('manifest_digest', 'text', (c) => c.notNull())
    .addColumn('ref_digest', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('manifest_refs_pk', ['repository_id', 'manifest_digest', 'ref_digest', 'kind'])
    .execute();
  await db.schema.createIndex('manifest_refs_ref').on('manifest_refs').columns(['ref_digest']).execute();

  await db.schema
    .createTable('tags')
    .addColumn('repository_id', 'bigint', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('tags_pk', ['repository_id', 'name'])
    .execute();
  await db.schema.createIndex('tags_digest').on('tags').columns(['repository_id', 'digest']).execute();

  await withId(db.schema.createTable('tag_history'), dialect)
    .addColumn('repository_id', 'bigint', (c: any) => c.notNull().references('repositories.id').onDelete('cascade'))
    .addColumn('tag', 'text', (c: any) => c.notNull())
    .addColumn('old_digest', 'text')
    .addColumn('new_digest', 'text')
    .addColumn('at', 'bigint', (c: any) => c.notNull())
    .addColumn('actor', 'text')
    .execute();
  await db.schema.createIndex('tag_history_tag').on('tag_history').columns(['repository_id', 'tag']).execute();

  await db.schema
    .createTable('uploads')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('repository_id', 'bigint', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('uploads_updated').on('uploads').column('updated_at').execute();
}
