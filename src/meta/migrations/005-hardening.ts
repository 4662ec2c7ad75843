import { sql, type Kysely } from 'kysely';

/**
 * Who opened an upload session: the user, or for anonymous pushes the
 * client address, so open sessions can be capped per user and per address
 * (an unfinished session holds storage until it expires). Blobs found
 * damaged while being served (stored size not the indexed one), for fsck.
 *
 * And annotations move out of `manifests` into a table of their own, kept
 * only for referrers (the referrers API is all that reads them). In
 * `manifests` they sat before columns every pull and push updates, so a
 * manifest with megabytes of annotations made each of those rewrite
 * megabytes while holding SQLite's only writer.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('uploads').addColumn('owner', 'text').execute();
  await db.schema.alterTable('uploads').addColumn('client', 'text').execute();
  await db.schema.createIndex('uploads_owner').on('uploads').column('owner').execute();
  await db.schema.createIndex('uploads_client').on('uploads').column('client').execute();
  await db.schema
    .createTable('manifest_annotations')
    .addColumn('repository_id', 'bigint', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('chars', 'bigint', (c) => c.notNull())
    .addColumn('annotations', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('manifest_annotations_pk', ['repository_id', 'digest'])
    .addForeignKeyConstraint('manifest_annotations_manifest_fk', ['repository_id', 'digest'], 'manifests', ['repository_id', 'digest'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db
    .insertInto('manifest_annotations')
    .columns(['repository_id', 'digest', 'chars', 'annotations'])
    .expression((eb: any) =>
      eb
        .selectFrom('manifests')
        .select(['repository_id', 'digest', sql`length(annotations)`.as('chars'), 'annotations'])
        .where('annotations', 'is not', null)
        .where('subject', 'is not', null),
    )
    .execute();
  await db.schema.alterTable('manifests').dropColumn('annotations').execute();
  await db.schema
    .createTable('suspect_blobs')
    .addColumn('digest', 'text', (c) => c.primaryKey())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('noted_at', 'bigint', (c) => c.notNull())
    .execute();
}
