import type { Kysely } from 'kysely';
import type { Digest } from '../oci/digest.js';
import type { RepoId } from './metadata.js';
import type { Database } from './schema.js';

export interface TagMove {
  from: Digest | null;
  to: Digest | null;
  at: number;
  actor: string | null;
}

/** Every recorded move of one tag, oldest first (written by every tag set and delete, in the same transaction). */
export async function tagHistory(db: Kysely<Database>, repositoryId: RepoId, tag: string, limit: number): Promise<TagMove[]> {
  const rows = await db
    .selectFrom('tag_history')
    .select(['old_digest', 'new_digest', 'at', 'actor'])
    .where('repository_id', '=', repositoryId)
    .where('tag', '=', tag)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ from: r.old_digest as Digest | null, to: r.new_digest as Digest | null, at: Number(r.at), actor: r.actor }));
}
