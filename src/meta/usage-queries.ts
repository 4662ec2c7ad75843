import { sql, type Expression, type Kysely, type SqlBool } from 'kysely';
import { MediaType } from '../oci/mediatypes.js';
import type { Digest } from '../oci/digest.js';
import type { RepoId } from './metadata.js';
import type { Database } from './schema.js';

export interface ManifestUsageRow {
  digest: Digest;
  mediaType: string;
  size: number;
  /** Sizes of the blobs (config, layers) it names; children of an index are not included. */
  blobBytes: number;
  /** Of `blobBytes`, the blobs no other manifest anywhere names. */
  uniqueBlobBytes: number;
  /** Whether the manifest's own bytes are in no other repository and named by no index. */
  ownBytesUnique: boolean;
  /** Whether any signature is attached (a cosign `.sig` tag, a Sigstore bundle referrer, a simple signature); not whether it verifies. */
  signed: boolean;
  children: Digest[];
  tags: string[];
  pushedAt: number;
  pulledAt: number | null;
}

export interface RepositoryUsageRow {
  /** Distinct bytes the repository holds: linked blobs, referenced blobs, its manifests. */
  storedBytes: number;
  /** Of those, bytes no other repository holds. */
  uniqueBytes: number;
}

/**
 * Storage accounting over the metadata index. Nothing here walks the store
 * or parses a manifest: sizes and edges are recorded when content is pushed
 * (`blobs`, `manifest_refs`, `manifests`) and each answer is an aggregate
 * over those indexed rows, so it is current the moment a push or delete commits.
 */
export class UsageQueries {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Registry-wide: all stored bytes (blobs and manifests, until GC removes
   * them), and the logical bytes (every manifest plus every blob it names, as
   * if nothing were shared), each one aggregate over the index.
   */
  async totals(): Promise<{ storedBytes: number; storedObjects: number; logicalBytes: number }> {
    const stored = await this.db
      .selectFrom('blobs')
      .select((eb) => [eb.fn.coalesce(eb.fn.sum<number>('size'), eb.lit(0)).as('bytes'), eb.fn.countAll<number>().as('count')])
      .executeTakeFirstOrThrow();
    const manifests = await this.db
      .selectFrom('manifests')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('size'), eb.lit(0)).as('bytes'))
      .executeTakeFirstOrThrow();
    const named = await this.db
      .selectFrom('manifest_refs as r')
      .innerJoin('blobs as b', 'b.digest', 'r.ref_digest')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('b.size'), eb.lit(0)).as('bytes'))
      .where('r.kind', '=', 'blob')
      .executeTakeFirstOrThrow();
    return { storedBytes: Number(stored.bytes), storedObjects: Number(stored.count), logicalBytes: Number(manifests.bytes) + Number(named.bytes) };
  }

  /** Repositories holding a manifest, and upload sessions open with their bytes so far. */
  async inventory(): Promise<{ repositories: number; uploads: number; uploadBytes: number }> {
    const repos = await this.db
      .selectFrom('repositories')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where((eb) => eb.exists(eb.selectFrom('manifests').select('digest').whereRef('manifests.repository_id', '=', 'repositories.id')))
      .executeTakeFirstOrThrow();
    const uploads = await this.db
      .selectFrom('uploads')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.coalesce(eb.fn.sum<number>('size'), eb.lit(0)).as('bytes')])
      .executeTakeFirstOrThrow();
    return { repositories: Number(repos.n), uploads: Number(uploads.n), uploadBytes: Number(uploads.bytes) };
  }

  async manifests(repositoryId: RepoId): Promise<ManifestUsageRow[]> {
    const manifests = await this.db
      .selectFrom('manifests as m')
      .select((eb) => [
        'm.digest',
        'm.media_type',
        'm.size',
        'm.pushed_at',
        'm.pulled_at',
        eb
          .not(
            eb.or([
              eb.exists(eb.selectFrom('manifests as o').select('o.digest').whereRef('o.digest', '=', 'm.digest').whereRef('o.repository_id', '<>', 'm.repository_id')),
              eb.exists(eb.selectFrom('manifest_refs as p').select('p.ref_digest').whereRef('p.ref_digest', '=', 'm.digest').where('p.kind', '=', 'manifest')),
            ]),
          )
          .as('own_unique'),
        eb
          .or([
            eb.exists(eb.selectFrom('signatures as s').select('s.content_digest').whereRef('s.repository_id', '=', 'm.repository_id').whereRef('s.manifest_digest', '=', 'm.digest')),
            eb.exists(
              eb
                .selectFrom('tags as t')
                .select('t.name')
                .whereRef('t.repository_id', '=', 'm.repository_id')
                .where('t.name', '=', sql<string>`'sha256-' || substr(m.digest, 8) || '.sig'`),
            ),
            eb.exists(
              eb.selectFrom('manifests as b').select('b.digest').whereRef('b.repository_id', '=', 'm.repository_id').whereRef('b.subject', '=', 'm.digest').where('b.artifact_type', '=', MediaType.sigstoreBundleV03),
            ),
          ])
          .as('signed'),
      ])
      .where('m.repository_id', '=', repositoryId)
      .orderBy('m.digest')
      .execute();
    const refs = await this.db
      .selectFrom('manifest_refs as r')
      .innerJoin('blobs as b', 'b.digest', 'r.ref_digest')
      .select((eb) => [
        'r.manifest_digest',
        'r.ref_digest',
        'r.kind',
        'b.size',
        eb
          .not(
            eb.exists(
              eb
                .selectFrom('manifest_refs as o')
                .select('o.ref_digest')
                .whereRef('o.ref_digest', '=', 'r.ref_digest')
                .where((x) => x.or([x('o.repository_id', '<>', repositoryId), x('o.manifest_digest', '<>', x.ref('r.manifest_digest'))])),
            ),
          )
          .as('only_here'),
      ])
      .where('r.repository_id', '=', repositoryId)
      .execute();
    const tags = await this.db.selectFrom('tags').select(['name', 'digest']).where('repository_id', '=', repositoryId).orderBy('name').execute();
    const byDigest = new Map<string, ManifestUsageRow>();
    for (const m of manifests) {
      byDigest.set(m.digest, {
        digest: m.digest as Digest,
        mediaType: m.media_type,
        size: Number(m.size),
        blobBytes: 0,
        uniqueBlobBytes: 0,
        ownBytesUnique: truthy(m.own_unique),
        signed: truthy(m.signed),
        children: [],
        tags: [],
        pushedAt: Number(m.pushed_at),
        pulledAt: m.pulled_at === null ? null : Number(m.pulled_at),
      });
    }
    for (const r of refs) {
      const m = byDigest.get(r.manifest_digest);
      if (!m) continue;
      if (r.kind === 'manifest') {
        m.children.push(r.ref_digest as Digest);
        continue;
      }
      m.blobBytes += Number(r.size);
      if (truthy(r.only_here)) m.uniqueBlobBytes += Number(r.size);
    }
    for (const t of tags) byDigest.get(t.digest)?.tags.push(t.name);
    return [...byDigest.values()];
  }

  async repository(repositoryId: RepoId): Promise<RepositoryUsageRow> {
    const held = this.heldBy((eb) => eb('repository_id', '=', repositoryId));
    const heldElsewhere = this.heldBy((eb) => eb('repository_id', '<>', repositoryId));
    const r = await this.db
      .selectFrom('blobs')
      .select((eb) => [
        eb.fn.coalesce(eb.fn.sum<number>('size'), eb.lit(0)).as('stored'),
        eb.fn
          .coalesce(
            eb.fn.sum<number>(
              eb
                .case()
                .when('digest', 'in', heldElsewhere)
                .then(eb.lit(0))
                .else(eb.ref('size'))
                .end(),
            ),
            eb.lit(0),
          )
          .as('unique'),
      ])
      .where('digest', 'in', held)
      .executeTakeFirstOrThrow();
    return { storedBytes: Number(r.stored), uniqueBytes: Number(r.unique) };
  }

  /** Distinct bytes held by the repositories of a namespace (`ns` or `ns/...`), for quotas. */
  async namespaceBytes(namespace: string): Promise<number> {
    const r = await this.db
      .selectFrom('blobs')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('size'), eb.lit(0)).as('bytes'))
      .where('digest', 'in', this.heldBy((eb) => eb('repository_id', 'in', this.namespaceIds(namespace))))
      .executeTakeFirstOrThrow();
    return Number(r.bytes);
  }

  /** Whether a digest is already held in the namespace (pushing it again costs nothing). */
  async namespaceHolds(namespace: string, digest: Digest): Promise<boolean> {
    const r = await this.db
      .selectFrom('blobs')
      .select('digest')
      .where('digest', '=', digest)
      .where('digest', 'in', this.heldBy((eb) => eb('repository_id', 'in', this.namespaceIds(namespace))))
      .executeTakeFirst();
    return r !== undefined;
  }

  /** A prefix match as a range ('/' + 1 is '0'), so `_` or `%` in a name mean nothing special. */
  private namespaceIds(namespace: string) {
    return this.db
      .selectFrom('repositories')
      .select('id')
      .where((eb) => eb.or([eb('name', '=', namespace), eb.and([eb('name', '>=', `${namespace}/`), eb('name', '<', `${namespace}0`)])]));
  }

  async recordPull(repositoryId: RepoId, digest: Digest, now: number): Promise<void> {
    await this.db.updateTable('manifests').set({ pulled_at: now }).where('repository_id', '=', repositoryId).where('digest', '=', digest).execute();
  }

  /** Digests a set of repositories holds: links, manifests and what those manifests name. */
  private heldBy(where: (eb: any) => Expression<SqlBool>) {
    return this.db
      .selectFrom('repository_blobs')
      .select('digest')
      .where(where)
      .union(this.db.selectFrom('manifests').select('digest').where(where))
      .union(this.db.selectFrom('manifest_refs').select('ref_digest as digest').where(where));
  }
}

/** SQLite returns booleans as 0/1, PostgreSQL as true/false. */
const truthy = (v: unknown): boolean => v === true || v === 1 || v === '1';
