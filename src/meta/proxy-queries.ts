import { sql, type Kysely } from 'kysely';
import type { Digest } from '../oci/digest.js';
import type { RepoId } from './metadata.js';
import type { Database } from './schema.js';

/** A cached image eviction may take: a manifest no index of its repository names. */
export interface CachedImage {
  repositoryId: RepoId;
  repository: string;
  digest: Digest;
  /** Last pull, or when it was cached when never pulled since. */
  usedAt: number;
}

export interface ProxyCounts {
  /** Requests answered from the cache without asking the upstream. */
  hits: number;
  upstreamRequests: number;
  upstreamBytes: number;
}

/** The pull-through cache's queries (migrations 011, 012): its name in `Via`, fetch claims, tag confirmations, counters. Same SQL on both dialects. */
export class ProxyQueries {
  /** `reader` serves the lookups every cached pull makes (see Metadata). */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly reader: Kysely<Database> = db,
  ) {}

  /**
   * Takes `key` for `holder` until `until`: succeeds when nobody holds it,
   * the claim lapsed (its holder died or hung), or it is already ours. One
   * statement, so two replicas racing for it cannot both win.
   */
  async claim(key: string, holder: string, now: number, until: number): Promise<boolean> {
    const r = await this.db
      .insertInto('proxy_claims')
      .values({ key, holder, expires_at: until })
      .onConflict((oc) =>
        oc
          .column('key')
          .doUpdateSet({ holder, expires_at: until })
          .where((eb) => eb.or([eb('proxy_claims.expires_at', '<', now), eb('proxy_claims.holder', '=', holder)])),
      )
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async release(key: string, holder: string): Promise<void> {
    await this.db.deleteFrom('proxy_claims').where('key', '=', key).where('holder', '=', holder).execute();
  }

  /** This registry's name in `Via` headers, the same for every process and replica (migration 012). */
  async hop(): Promise<string> {
    return (await this.db.selectFrom('registry_id').select('hop').executeTakeFirstOrThrow()).hop;
  }

  /** A manifest of the repository that names the blob, if any: a cache fetches only blobs its manifests name. */
  async manifestNaming(repositoryId: RepoId, digest: Digest): Promise<Digest | undefined> {
    const r = await this.reader
      .selectFrom('manifest_refs')
      .select('manifest_digest')
      .where('repository_id', '=', repositoryId)
      .where('ref_digest', '=', digest)
      .where('kind', '=', 'blob')
      .limit(1)
      .executeTakeFirst();
    return r?.manifest_digest as Digest | undefined;
  }

  async tagCheckedAt(repositoryId: RepoId, tag: string): Promise<number | undefined> {
    const r = await this.reader.selectFrom('proxy_tags').select('checked_at').where('repository_id', '=', repositoryId).where('tag', '=', tag).executeTakeFirst();
    return r === undefined ? undefined : Number(r.checked_at);
  }

  async markTagChecked(repositoryId: RepoId, tag: string, now: number): Promise<void> {
    await this.db
      .insertInto('proxy_tags')
      .values({ repository_id: repositoryId, tag, checked_at: now })
      .onConflict((oc) => oc.columns(['repository_id', 'tag']).doUpdateSet({ checked_at: now }))
      .execute();
  }

  /** Adds to a namespace's counters (each replica adds what it counted). */
  async addCounts(namespace: string, c: ProxyCounts): Promise<void> {
    await this.db
      .insertInto('proxy_stats')
      .values({ namespace, hits: c.hits, upstream_requests: c.upstreamRequests, upstream_bytes: c.upstreamBytes })
      .onConflict((oc) =>
        oc.column('namespace').doUpdateSet((eb) => ({
          hits: eb('proxy_stats.hits', '+', c.hits),
          upstream_requests: eb('proxy_stats.upstream_requests', '+', c.upstreamRequests),
          upstream_bytes: eb('proxy_stats.upstream_bytes', '+', c.upstreamBytes),
        })),
      )
      .execute();
  }

  /**
   * Cached images of the namespaces, least recently pulled first, not used
   * since `before` (GC's grace period: what was pulled within it stays).
   */
  async leastRecentlyPulled(namespaces: string[], before: number, limit: number): Promise<CachedImage[]> {
    const used = sql<number>`coalesce(m.pulled_at, m.pushed_at)`;
    const rows = await this.db
      .selectFrom('manifests as m')
      .innerJoin('repositories as r', 'r.id', 'm.repository_id')
      .select(['m.repository_id', 'r.name', 'm.digest', used.as('used_at')])
      // A prefix as a range ('/' + 1 is '0'), so `_` or `%` in a name mean nothing special.
      .where((eb) => eb.or(namespaces.map((ns) => eb.and([eb('r.name', '>', `${ns}/`), eb('r.name', '<', `${ns}0`)]))))
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('manifest_refs as p')
              .select('p.ref_digest')
              .whereRef('p.repository_id', '=', 'm.repository_id')
              .whereRef('p.ref_digest', '=', 'm.digest')
              .where('p.kind', '=', 'manifest'),
          ),
        ),
      )
      .where(used, '<', before)
      .orderBy(used)
      .orderBy('m.digest')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ repositoryId: Number(r.repository_id) as RepoId, repository: r.name, digest: r.digest as Digest, usedAt: Number(r.used_at) }));
  }

  async counts(): Promise<Map<string, ProxyCounts>> {
    const rows = await this.db.selectFrom('proxy_stats').selectAll().execute();
    return new Map(rows.map((r) => [r.namespace, { hits: Number(r.hits), upstreamRequests: Number(r.upstream_requests), upstreamBytes: Number(r.upstream_bytes) }]));
  }
}
