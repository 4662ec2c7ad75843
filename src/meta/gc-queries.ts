import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { Digest } from '../oci/digest.js';
import type { RepoId } from './metadata.js';
import type { Database } from './schema.js';

/**
 * The queries of online garbage collection, and why they are safe while
 * pushes continue on any number of processes.
 *
 * What is live: a `blobs` row survives while any repository links it, any
 * manifest references it (`manifest_refs`: configs, layers, index children),
 * any manifest *is* it (manifest bytes live in the same store), or a writer
 * claimed it (`linked_at`) within the grace period. A link survives while a
 * manifest of its repository references it or it was accessed (pushed,
 * mounted, HEAD/GET) within the grace period. Uploads in progress have no
 * digest yet: their blob is claimed in the same transaction that commits it.
 *
 * The race "HEAD blob -> 200, then PUT manifest" is closed in two steps:
 *
 * 1. Links. `statBlob` refreshes `last_access_at` at least every
 *    grace/4 (capped at 5 min), and the link sweep deletes only links older
 *    than the grace, in one conditional DELETE. A HEAD answers 200 only if
 *    the link is younger than the touch interval or its touch (an UPDATE)
 *    found the row: a link swept between the HEAD's read and its touch is a
 *    404, and the client uploads the blob again. So after a 200 the client
 *    has at least grace - grace/4 to PUT the manifest. `putManifest` does not read
 *    the links it needs, it UPDATEs them (`touchMissing`) inside its
 *    transaction, and then inserts `manifest_refs`. SQLite runs the two
 *    transactions one after the other: either the sweep committed first and
 *    putManifest sees the link missing (MANIFEST_BLOB_UNKNOWN; nothing is
 *    acknowledged), or putManifest committed first and the sweep sees the
 *    reference. PostgreSQL (READ COMMITTED): both statements lock the link
 *    row; whichever waits re-evaluates its WHERE on the committed row: the
 *    UPDATE finds the row gone, or the DELETE finds `last_access_at` fresh.
 *    So a manifest can never commit pointing at a swept link.
 * 2. Bytes. A `blobs` row is deleted only when nothing above holds it, and the
 *    store's bytes are deleted *inside the same transaction*, after the row is
 *    gone and before the commit. Every writer that makes bytes visible or
 *    relies on them (upload commit, mount, manifest push) first claims the
 *    row (insert, or UPDATE `linked_at`), which waits for that transaction.
 *    After the claim either the sweep is over (bytes gone; the writer writes
 *    them again: a re-upload recreates the row) or the sweep will see the
 *    fresh claim and leave the row alone. A sweep whose store delete fails
 *    rolls back and keeps the row.
 *
 * All conditions are plain correlated NOT EXISTS, the same SQL on both dialects.
 */
export class GcQueries {
  constructor(private readonly db: Kysely<Database>) {}

  /** Deletes links older than `cutoff` that no manifest of their repository references. */
  async sweepLinks(cutoff: number): Promise<number> {
    const r = await this.db
      .deleteFrom('repository_blobs')
      .where('last_access_at', '<', cutoff)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('manifest_refs')
              .select('manifest_refs.ref_digest')
              .whereRef('manifest_refs.repository_id', '=', 'repository_blobs.repository_id')
              .whereRef('manifest_refs.ref_digest', '=', 'repository_blobs.digest'),
          ),
        ),
      )
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /**
   * Blobs GC would delete: unclaimed since `cutoff`, with no reference and no
   * link newer than `cutoff` (so a dry run also counts links this run would sweep).
   */
  sweepableBlobs(cutoff: number, limit: number, after = ''): Promise<{ digest: Digest; size: number }[]> {
    return this.unreferencedBlobs(limit, after, (eb) => eb.and([eb('linked_at', '<', cutoff), eb.not(freshLink(eb, cutoff))]));
  }

  /** Blobs nothing references that the grace period still protects: claimed, or a link of theirs accessed, since `cutoff`. */
  waitingBlobs(cutoff: number, limit: number, after = ''): Promise<{ digest: Digest; size: number }[]> {
    return this.unreferencedBlobs(limit, after, (eb) => eb.or([eb('linked_at', '>=', cutoff), freshLink(eb, cutoff)]));
  }

  /** A page, in digest order, of the blobs no manifest references or is, that `held` selects. */
  private async unreferencedBlobs(limit: number, after: string, held: (eb: ExpressionBuilder<Database, 'blobs'>) => Expression<SqlBool>): Promise<{ digest: Digest; size: number }[]> {
    const rows = await this.db
      .selectFrom('blobs')
      .select(['digest', 'size'])
      .where('digest', '>', after)
      .where((eb) =>
        eb.and([
          held(eb),
          eb.not(eb.exists(eb.selectFrom('manifest_refs').select('ref_digest').whereRef('manifest_refs.ref_digest', '=', 'blobs.digest'))),
          eb.not(eb.exists(eb.selectFrom('manifests').select('digest').whereRef('manifests.digest', '=', 'blobs.digest'))),
        ]),
      )
      .orderBy('digest')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ digest: r.digest as Digest, size: Number(r.size) }));
  }

  /**
   * Deletes one blob's row, if it is still garbage, and (inside the same
   * transaction) its bytes via `deleteBytes`. Resolves to whether it went.
   */
  async sweepBlob(digest: Digest, cutoff: number, deleteBytes: () => Promise<void>): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const r = await trx
        .deleteFrom('blobs')
        .where('digest', '=', digest)
        .where('linked_at', '<', cutoff)
        .where(({ not, exists, selectFrom, and }) =>
          and([
            not(exists(selectFrom('repository_blobs').select('digest').whereRef('repository_blobs.digest', '=', 'blobs.digest'))),
            not(exists(selectFrom('manifest_refs').select('ref_digest').whereRef('manifest_refs.ref_digest', '=', 'blobs.digest'))),
            not(exists(selectFrom('manifests').select('digest').whereRef('manifests.digest', '=', 'blobs.digest'))),
          ]),
        )
        .executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) return false;
      await deleteBytes();
      return true;
    });
  }

  /**
   * Manifests that no tag and no index in their repository names, pushed
   * before `cutoff`, and that are not a referrer of a manifest still present.
   */
  async untaggedManifests(cutoff: number, limit: number): Promise<{ repositoryId: RepoId; digest: Digest; size: number }[]> {
    const rows = await this.db
      .selectFrom('manifests as m')
      .select(['m.repository_id', 'm.digest', 'm.size'])
      .where('m.pushed_at', '<', cutoff)
      .where(({ not, exists, selectFrom, and, or, eb }) =>
        and([
          not(exists(selectFrom('tags').select('tags.name').whereRef('tags.repository_id', '=', 'm.repository_id').whereRef('tags.digest', '=', 'm.digest'))),
          not(
            exists(
              selectFrom('manifest_refs')
                .select('manifest_refs.ref_digest')
                .whereRef('manifest_refs.repository_id', '=', 'm.repository_id')
                .whereRef('manifest_refs.ref_digest', '=', 'm.digest')
                .where('manifest_refs.kind', '=', 'manifest'),
            ),
          ),
          or([
            eb('m.subject', 'is', null),
            not(exists(selectFrom('manifests as s').select('s.digest').whereRef('s.repository_id', '=', 'm.repository_id').whereRef('s.digest', '=', 'm.subject'))),
          ]),
        ]),
      )
      .orderBy('m.digest')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ repositoryId: Number(r.repository_id) as RepoId, digest: r.digest as Digest, size: Number(r.size) }));
  }

  /**
   * Deletes an untagged manifest if it still is one (same conditions as
   * above, re-checked in the DELETE), with its outgoing references.
   * `pushed_at` is refreshed by a re-push or a new parent index, under the
   * row lock, so neither can be lost to this delete.
   */
  async deleteUntagged(repositoryId: RepoId, digest: Digest, cutoff: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const r = await trx
        .deleteFrom('manifests')
        .where('repository_id', '=', repositoryId)
        .where('digest', '=', digest)
        .where('pushed_at', '<', cutoff)
        .where(({ not, exists, selectFrom, and }) =>
          and([
            not(exists(selectFrom('tags').select('tags.name').where('tags.repository_id', '=', repositoryId).where('tags.digest', '=', digest))),
            not(
              exists(
                selectFrom('manifest_refs')
                  .select('manifest_refs.ref_digest')
                  .where('manifest_refs.repository_id', '=', repositoryId)
                  .where('manifest_refs.ref_digest', '=', digest)
                  .where('manifest_refs.kind', '=', 'manifest'),
              ),
            ),
          ]),
        )
        .executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) return false;
      await trx.deleteFrom('manifest_refs').where('repository_id', '=', repositoryId).where('manifest_digest', '=', digest).execute();
      return true;
    });
  }

  /** Deletes a tag only if it still points at `digest`, recording the move. */
  async deleteTagIf(repositoryId: RepoId, tag: string, digest: Digest, now: number, actor: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const r = await trx.deleteFrom('tags').where('repository_id', '=', repositoryId).where('name', '=', tag).where('digest', '=', digest).executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) return false;
      await trx.insertInto('tag_history').values({ repository_id: repositoryId, tag, old_digest: digest, new_digest: null, at: now, actor }).execute();
      return true;
    });
  }

  /**
   * Deletes repositories created before `cutoff` that hold nothing and never
   * did anything worth remembering: no manifest, link, tag, tag history or
   * upload (rows an upload created before the process died, say). A writer
   * racing this one retries with a fresh row (RegistryContext.withRepo).
   */
  async sweepRepositories(cutoff: number): Promise<number> {
    const none = (table: 'manifests' | 'repository_blobs' | 'tags' | 'tag_history' | 'uploads' | 'manifest_refs') => (eb: ExpressionBuilder<Database, 'repositories'>) =>
      eb.not(eb.exists(eb.selectFrom(table).select(sql.lit(1).as('one')).where(sql.ref(`${table}.repository_id`), '=', sql.ref('repositories.id'))));
    const r = await this.db
      .deleteFrom('repositories')
      .where('created_at', '<', cutoff)
      .where(none('manifests'))
      .where(none('repository_blobs'))
      .where(none('tags'))
      .where(none('tag_history'))
      .where(none('uploads'))
      .where(none('manifest_refs'))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /**
   * Runs `fn` (which removes stored bytes the index does not know) while
   * holding a placeholder `blobs` row for the digest, so an upload committing
   * the same digest right now either committed first (we skip: not an orphan)
   * or claims the row after us and writes its bytes after ours are gone.
   */
  async withOrphanClaim(digest: Digest, fn: () => Promise<void>): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const r = await trx
        .insertInto('blobs')
        .values({ digest, size: 0, created_at: 0, linked_at: 0 })
        .onConflict((oc) => oc.column('digest').doNothing())
        .executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      await fn();
      await trx.deleteFrom('blobs').where('digest', '=', digest).execute();
      return true;
    });
  }
}

/** Some repository linked the blob, or touched its link, since `cutoff`. */
const freshLink = (eb: ExpressionBuilder<Database, 'blobs'>, cutoff: number) =>
  eb.exists(eb.selectFrom('repository_blobs').select('digest').whereRef('repository_blobs.digest', '=', 'blobs.digest').where('last_access_at', '>=', cutoff));
