import type { Kysely, Transaction } from 'kysely';
import type { Digest } from '../oci/digest.js';
import type { RepoId } from './metadata.js';
import type { Database } from './schema.js';

export interface StoredSignature {
  name: string;
  content: Buffer;
  createdAt: number;
  actor: string | null;
}

export type AddResult = 'added' | 'exists' | 'full' | 'no-manifest';

/** The signature extension's facts: signatures per (repository, manifest). */
export class SignatureQueries {
  constructor(private readonly db: Kysely<Database>) {}

  async list(repo: RepoId, digest: Digest, limit: number): Promise<StoredSignature[]> {
    const rows = await this.db
      .selectFrom('signatures')
      .select(['name', 'content', 'created_at', 'actor'])
      .where('repository_id', '=', repo)
      .where('manifest_digest', '=', digest)
      .orderBy('created_at')
      .orderBy('content_digest')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ name: r.name, content: Buffer.from(r.content), createdAt: Number(r.created_at), actor: r.actor }));
  }

  /** How many signatures a manifest has and when the last arrived: changes whenever its signatures do. */
  async state(repo: RepoId, digest: Digest): Promise<string> {
    const r = await this.db
      .selectFrom('signatures')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max('created_at').as('last')])
      .where('repository_id', '=', repo)
      .where('manifest_digest', '=', digest)
      .executeTakeFirstOrThrow();
    return `${Number(r.n)}/${Number(r.last ?? 0)}`;
  }

  /**
   * Stores one signature unless the same content is there or the manifest
   * already has `max`. The count and the insert share a transaction; the
   * foreign key refuses the insert when the manifest is gone.
   */
  /** `added` runs in the transaction once the signature is in (to record work that must not be lost, such as its replication). */
  async add(
    repo: RepoId,
    digest: Digest,
    sig: { name: string; content: Buffer; contentDigest: string; now: number; actor: string | null },
    max: number,
    added?: (trx: Transaction<Database>) => Promise<void>,
  ): Promise<AddResult> {
    return this.db.transaction().execute(async (trx) => {
      const m = await trx.selectFrom('manifests').select('digest').where('repository_id', '=', repo).where('digest', '=', digest).executeTakeFirst();
      if (!m) return 'no-manifest';
      const { n } = await trx
        .selectFrom('signatures')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('repository_id', '=', repo)
        .where('manifest_digest', '=', digest)
        .executeTakeFirstOrThrow();
      if (Number(n) >= max) return 'full';
      try {
        const r = await trx
          .insertInto('signatures')
          .values({ repository_id: repo, manifest_digest: digest, content_digest: sig.contentDigest, name: sig.name, content: sig.content, created_at: sig.now, actor: sig.actor })
          .onConflict((oc) => oc.columns(['repository_id', 'manifest_digest', 'content_digest']).doNothing())
          .executeTakeFirst();
        if (Number(r.numInsertedOrUpdatedRows ?? 0) !== 1) return 'exists';
      } catch (e) {
        // A delete of the manifest committed between our read and the insert (PostgreSQL: the key lock made us wait for it).
        if (isForeignKeyViolation(e)) return 'no-manifest';
        throw e;
      }
      await added?.(trx);
      return 'added';
    });
  }

  /** Referrers of a manifest: how many and the newest, so a cached verdict knows when they changed. */
  async referrerState(repo: RepoId, digest: Digest): Promise<string> {
    const r = await this.db
      .selectFrom('manifests')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max('created_at').as('last')])
      .where('repository_id', '=', repo)
      .where('subject', '=', digest)
      .executeTakeFirstOrThrow();
    return `${Number(r.n)}/${Number(r.last ?? 0)}`;
  }
}

const isForeignKeyViolation = (e: unknown): boolean => {
  const code = (e as { code?: string }).code;
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
};
