import { sql, type Kysely } from 'kysely';
import type { Digest } from '../oci/digest.js';
import type { RepoId } from './metadata.js';
import type { Database } from './schema.js';

/** What a repository list may be ordered by. */
export const REPOSITORY_SORTS = ['name', 'size', 'stored', 'unique', 'tags', 'pushed', 'pulled'] as const;
export type RepositorySort = (typeof REPOSITORY_SORTS)[number];

export interface RepositoryOrder {
  sort: RepositorySort;
  descending: boolean;
  /** Only names containing this text. */
  search: string;
  offset: number;
  limit: number;
}

export interface TagRow {
  tag: string;
  digest: Digest;
  mediaType: string;
  size: number;
  /** The manifest and everything it names: config and layers, and for an index its children with theirs. */
  logicalBytes: number;
  children: Digest[];
  pushedAt: number;
  pulledAt: number | null;
  artifactType: string | null;
}

export interface Holder {
  repository: string;
  digest: Digest;
  /** One of its tags (the first by name), or null when untagged. */
  tag: string | null;
}

export interface HistoryRow {
  id: number;
  tag: string;
  from: Digest | null;
  to: Digest | null;
  at: number;
  actor: string | null;
}

/**
 * Digests each repository holds (links, manifests and what they name), once per repository:
 * the same definition of "held" as UsageQueries, for all repositories in one pass.
 */
const HELD = sql`SELECT repository_id, digest FROM repository_blobs
  UNION SELECT repository_id, digest FROM manifests
  UNION SELECT repository_id, ref_digest AS digest FROM manifest_refs`;

/**
 * The read side of the web UI and its JSON API: repositories in any order,
 * a page of tags with what they point at, who else holds a layer, a
 * repository's history. Orders by size aggregate over the whole index, so
 * callers run them in worker threads.
 */
export class BrowseQueries {
  constructor(private readonly db: Kysely<Database>) {}

  /** One window of repository names (those holding a manifest), ordered, ties broken by name. */
  async repositoryNames(o: RepositoryOrder): Promise<string[]> {
    const like = likeContaining(o.search);
    const dir = sql.raw(o.descending ? 'DESC' : 'ASC');
    const hasManifest = sql`EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id)`;
    let query;
    if (o.sort === 'name') {
      query = sql<{ name: string }>`SELECT r.name FROM repositories r WHERE ${hasManifest} AND r.name LIKE ${like} ESCAPE '\\'
        ORDER BY r.name ${dir} LIMIT ${o.limit} OFFSET ${o.offset}`;
    } else if (o.sort === 'stored' || o.sort === 'unique') {
      const bytes = o.sort === 'stored' ? sql`b.size` : sql`CASE WHEN c.n = 1 THEN b.size ELSE 0 END`;
      query = sql<{ name: string }>`WITH held AS (${HELD}), holders AS (SELECT digest, COUNT(*) AS n FROM held GROUP BY digest)
        SELECT r.name FROM repositories r JOIN held h ON h.repository_id = r.id JOIN holders c ON c.digest = h.digest JOIN blobs b ON b.digest = h.digest
        WHERE ${hasManifest} AND r.name LIKE ${like} ESCAPE '\\'
        GROUP BY r.id, r.name ORDER BY SUM(${bytes}) ${dir}, r.name LIMIT ${o.limit} OFFSET ${o.offset}`;
    } else {
      query = sql<{ name: string }>`SELECT r.name FROM repositories r WHERE ${hasManifest} AND r.name LIKE ${like} ESCAPE '\\'
        ORDER BY ${sortKey(o.sort)} ${dir}, r.name LIMIT ${o.limit} OFFSET ${o.offset}`;
    }
    return (await query.execute(this.db)).rows.map((r) => r.name);
  }

  async countRepositories(search: string): Promise<number> {
    const r = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM repositories r
      WHERE EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id) AND r.name LIKE ${likeContaining(search)} ESCAPE '\\'`.execute(this.db);
    return Number(r.rows[0]?.n ?? 0);
  }

  /** The named tags of a repository with their manifests (tags that do not exist are left out). */
  async tags(repositoryId: RepoId, tags: string[]): Promise<TagRow[]> {
    if (tags.length === 0) return [];
    const rows = await this.db
      .selectFrom('tags as t')
      .innerJoin('manifests as m', (j) => j.onRef('m.repository_id', '=', 't.repository_id').onRef('m.digest', '=', 't.digest'))
      .select(['t.name', 't.digest', 'm.media_type', 'm.size', 'm.pushed_at', 'm.pulled_at', 'm.artifact_type'])
      .where('t.repository_id', '=', repositoryId)
      .where('t.name', 'in', tags)
      .orderBy('t.name')
      .execute();
    const digests = [...new Set(rows.map((r) => r.digest))];
    const children = await this.children(repositoryId, digests);
    const childDigests = [...children.values()].flat();
    const blobBytes = await this.blobBytes(repositoryId, [...digests, ...childDigests]);
    const childSizes = await this.manifestSizes(repositoryId, childDigests);
    const own = (d: string, size: number) => size + (blobBytes.get(d) ?? 0);
    return rows.map((r) => {
      const kids = children.get(r.digest) ?? [];
      return {
        tag: r.name,
        digest: r.digest as Digest,
        mediaType: r.media_type,
        size: Number(r.size),
        logicalBytes: own(r.digest, Number(r.size)) + kids.reduce((n, c) => n + own(c, childSizes.get(c) ?? 0), 0),
        children: kids,
        pushedAt: Number(r.pushed_at),
        pulledAt: r.pulled_at === null ? null : Number(r.pulled_at),
        artifactType: r.artifact_type,
      };
    });
  }

  /** Child manifests of some manifests of a repository. */
  async children(repositoryId: RepoId, digests: string[]): Promise<Map<string, Digest[]>> {
    const out = new Map<string, Digest[]>();
    if (digests.length === 0) return out;
    const rows = await this.db
      .selectFrom('manifest_refs')
      .select(['manifest_digest', 'ref_digest'])
      .where('repository_id', '=', repositoryId)
      .where('kind', '=', 'manifest')
      .where('manifest_digest', 'in', digests)
      .execute();
    for (const r of rows) out.set(r.manifest_digest, [...(out.get(r.manifest_digest) ?? []), r.ref_digest as Digest]);
    return out;
  }

  /** Sizes of the blobs each manifest names. */
  private async blobBytes(repositoryId: RepoId, digests: string[]): Promise<Map<string, number>> {
    if (digests.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('manifest_refs as r')
      .innerJoin('blobs as b', 'b.digest', 'r.ref_digest')
      .select((eb) => ['r.manifest_digest', eb.fn.sum<number>('b.size').as('bytes')])
      .where('r.repository_id', '=', repositoryId)
      .where('r.kind', '=', 'blob')
      .where('r.manifest_digest', 'in', [...new Set(digests)])
      .groupBy('r.manifest_digest')
      .execute();
    return new Map(rows.map((r) => [r.manifest_digest, Number(r.bytes)]));
  }

  private async manifestSizes(repositoryId: RepoId, digests: string[]): Promise<Map<string, number>> {
    if (digests.length === 0) return new Map();
    const rows = await this.db.selectFrom('manifests').select(['digest', 'size']).where('repository_id', '=', repositoryId).where('digest', 'in', [...new Set(digests)]).execute();
    return new Map(rows.map((r) => [r.digest, Number(r.size)]));
  }

  /** Sizes of some blobs, as indexed. */
  async blobSizes(digests: string[]): Promise<Map<string, number>> {
    if (digests.length === 0) return new Map();
    const rows = await this.db.selectFrom('blobs').select(['digest', 'size']).where('digest', 'in', [...new Set(digests)]).execute();
    return new Map(rows.map((r) => [r.digest, Number(r.size)]));
  }

  /** Manifests other than `self` (in any repository) that name `blob`, by repository name; at most `limit`. */
  async holders(blob: Digest, self: { repositoryId: RepoId; digest: Digest }, limit: number): Promise<Holder[]> {
    const rows = await this.db
      .selectFrom('manifest_refs as r')
      .innerJoin('repositories as p', 'p.id', 'r.repository_id')
      .select((eb) => [
        'p.name',
        'r.manifest_digest',
        eb
          .selectFrom('tags as t')
          .select((x) => x.fn.min('t.name').as('tag'))
          .whereRef('t.repository_id', '=', 'r.repository_id')
          .whereRef('t.digest', '=', 'r.manifest_digest')
          .as('tag'),
      ])
      .where('r.ref_digest', '=', blob)
      .where('r.kind', '=', 'blob')
      .where((eb) => eb.or([eb('r.repository_id', '<>', self.repositoryId), eb('r.manifest_digest', '<>', self.digest)]))
      .orderBy('p.name')
      .orderBy('r.manifest_digest')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ repository: r.name, digest: r.manifest_digest as Digest, tag: (r.tag as string | null) ?? null }));
  }

  /** Tags of one manifest. */
  async tagsOf(repositoryId: RepoId, digest: Digest): Promise<string[]> {
    const rows = await this.db.selectFrom('tags').select('name').where('repository_id', '=', repositoryId).where('digest', '=', digest).orderBy('name').execute();
    return rows.map((r) => r.name);
  }

  /** Every tag move in a repository, newest first, before the move `before` (an id). */
  async history(repositoryId: RepoId, limit: number, before?: number): Promise<HistoryRow[]> {
    let q = this.db
      .selectFrom('tag_history')
      .select(['id', 'tag', 'old_digest', 'new_digest', 'at', 'actor'])
      .where('repository_id', '=', repositoryId)
      .orderBy('id', 'desc')
      .limit(limit);
    if (before !== undefined) q = q.where('id', '<', before);
    const rows = await q.execute();
    return rows.map((r) => ({ id: Number(r.id), tag: r.tag, from: r.old_digest as Digest | null, to: r.new_digest as Digest | null, at: Number(r.at), actor: r.actor }));
  }

  /** How many signatures the signature extension holds for each of some manifests. */
  async signatureCounts(repositoryId: RepoId, digests: string[]): Promise<Map<string, number>> {
    if (digests.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('signatures')
      .select((eb) => ['manifest_digest', eb.fn.countAll<number>().as('n')])
      .where('repository_id', '=', repositoryId)
      .where('manifest_digest', 'in', digests)
      .groupBy('manifest_digest')
      .execute();
    return new Map(rows.map((r) => [r.manifest_digest, Number(r.n)]));
  }

  /** Referrers (manifests with a subject) of each of some manifests, by artifact type. */
  async referrerTypes(repositoryId: RepoId, digests: string[]): Promise<Map<string, (string | null)[]>> {
    const out = new Map<string, (string | null)[]>();
    if (digests.length === 0) return out;
    const rows = await this.db
      .selectFrom('manifests')
      .select(['subject', 'artifact_type'])
      .where('repository_id', '=', repositoryId)
      .where('subject', 'in', digests)
      .execute();
    for (const r of rows) out.set(r.subject!, [...(out.get(r.subject!) ?? []), r.artifact_type]);
    return out;
  }
}

/** A LIKE pattern for names containing `text`, with LIKE's own characters escaped. */
function likeContaining(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function sortKey(sort: Exclude<RepositorySort, 'name' | 'stored' | 'unique'>) {
  switch (sort) {
    case 'pushed':
      return sql`(SELECT MAX(m.pushed_at) FROM manifests m WHERE m.repository_id = r.id)`;
    case 'pulled':
      return sql`(SELECT COALESCE(MAX(m.pulled_at), 0) FROM manifests m WHERE m.repository_id = r.id)`;
    case 'tags':
      return sql`(SELECT COUNT(*) FROM tags t WHERE t.repository_id = r.id)`;
    case 'size':
      return sql`((SELECT COALESCE(SUM(m.size), 0) FROM manifests m WHERE m.repository_id = r.id)
        + (SELECT COALESCE(SUM(b.size), 0) FROM manifest_refs f JOIN blobs b ON b.digest = f.ref_digest WHERE f.repository_id = r.id AND f.kind = 'blob'))`;
  }
}
