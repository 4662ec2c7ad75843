import type { Digest } from '../oci/digest.js';
import { RegistryError } from '../oci/errors.js';
import type { RepoName } from '../oci/name.js';
import type { RepoId } from '../meta/metadata.js';
import { UsageQueries } from '../meta/usage-queries.js';
import { RegistryCaches } from './caches.js';
import type { RegistryContext } from './context.js';

/** A pull is recorded at most this often per manifest and process: "last pulled" is for humans, not audits. */
const PULL_RECORD_INTERVAL_MS = 60_000;

export function refuseImmutable(repo: RepoName, tag: string, current: Digest): RegistryError {
  return new RegistryError(
    'DENIED',
    `tag "${tag}" in "${repo}" is immutable (it points at ${current} and may not be moved or deleted); push under a new tag`,
    { status: 403, detail: { repository: repo, tag, digest: current } },
  );
}

/** Refuses deleting an immutable tag, or a manifest that an immutable tag points at. */
export async function refuseImmutableDelete(ctx: RegistryContext, repo: RepoName, repoId: RepoId, ref: { tag: string } | { digest: Digest }): Promise<void> {
  if ('tag' in ref) {
    if (!ctx.policy.isImmutable(repo, ref.tag)) return;
    const current = await ctx.meta.resolveTag(repoId, ref.tag);
    if (current) throw refuseImmutable(repo, ref.tag, current);
    return;
  }
  const tags = await ctx.meta.db
    .selectFrom('tags')
    .select('name')
    .where('repository_id', '=', repoId)
    .where('digest', '=', ref.digest)
    .execute();
  const held = tags.find((t) => ctx.policy.isImmutable(repo, t.name));
  if (held) throw refuseImmutable(repo, held.name, ref.digest);
}

export async function recordPull(ctx: RegistryContext, repoId: RepoId, digest: Digest): Promise<void> {
  const key = RegistryCaches.key(repoId, digest);
  const now = ctx.now();
  const last = ctx.caches.pulls.get(key);
  if (last !== undefined && now - last < PULL_RECORD_INTERVAL_MS) return;
  ctx.caches.pulls.set(key, now);
  await new UsageQueries(ctx.meta.db).recordPull(repoId, digest, now);
}
