import type { Digest } from '../oci/digest.js';
import { RegistryError } from '../oci/errors.js';
import type { RepoName } from '../oci/name.js';
import { tagHistory } from '../meta/history-queries.js';
import type { RegistryContext } from './context.js';

export interface TagHistory {
  repository: string;
  tag: string;
  /** Where the tag points now; null once deleted. */
  current: Digest | null;
  immutable: boolean;
  moves: { from: Digest | null; to: Digest | null; at: string; actor: string | null }[];
}

/** A tag is a movable name; this is the record of where it pointed, when, and who moved it. */
export async function historyOf(ctx: RegistryContext, repo: RepoName, tag: string): Promise<TagHistory> {
  const repoId = await ctx.requireRepo(repo);
  const moves = await tagHistory(ctx.meta.db, repoId, tag, ctx.limits.maxListEntries);
  if (moves.length === 0) throw new RegistryError('MANIFEST_UNKNOWN', `tag "${tag}" has never existed in repository "${repo}"`, { detail: { tag } });
  return {
    repository: repo,
    tag,
    current: (await ctx.meta.resolveTag(repoId, tag)) ?? null,
    immutable: ctx.policy.isImmutable(repo, tag),
    moves: moves.map((m) => ({ ...m, at: new Date(m.at).toISOString() })),
  };
}
