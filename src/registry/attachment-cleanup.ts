import type { Digest } from '../oci/digest.js';
import type { RepoId } from '../meta/metadata.js';
import { COSIGN_TAG_SUFFIXES } from '../sign/media-types.js';
import { digestTag } from '../sign/tags.js';
import type { RegistryContext } from './context.js';

/** Referrers of referrers are removed this deep; deeper ones wait for the untagged GC. */
const MAX_DEPTH = 3;
const MAX_REFERRERS = 1000;

/**
 * Deletes what was attached to a manifest that is gone: its referrers (by
 * `subject`), cosign's `sha256-<hex>.sig/.att/.sbom` tags and the referrers
 * fallback tag, and the manifests those tags named when nothing else tags
 * them; then, in turn, what was attached to those. Extension signatures need
 * nothing here: the database cascades them with their manifest.
 *
 * Only attachments in the subject's own repository go. cosign can keep
 * signatures in another repository (COSIGN_REPOSITORY); those name a digest
 * their repository never had, so nothing here touches them.
 */
export async function deleteAttachmentsOf(ctx: RegistryContext, repoId: RepoId, subject: Digest, actor: string | null, depth = 0): Promise<number> {
  const now = ctx.now();
  const doomed = new Set<Digest>();
  for (const tag of [digestTag(subject), ...COSIGN_TAG_SUFFIXES.map((s) => `${digestTag(subject)}${s}`)]) {
    const removed = await ctx.meta.deleteTag(repoId, tag, now, actor);
    ctx.caches.forgetTag(repoId, tag);
    if (removed) doomed.add(removed);
  }
  for (const r of await ctx.meta.referrers(repoId, subject, { limit: MAX_REFERRERS })) doomed.add(r.digest);
  let count = 0;
  for (const digest of doomed) {
    if (await stillTagged(ctx, repoId, digest)) continue;
    const tags = await ctx.meta.deleteManifest(repoId, digest, now, actor);
    ctx.caches.forgetManifest(repoId, digest);
    if (!tags) continue;
    count++;
    if (depth < MAX_DEPTH) count += await deleteAttachmentsOf(ctx, repoId, digest, actor, depth + 1);
  }
  return count;
}

async function stillTagged(ctx: RegistryContext, repoId: RepoId, digest: Digest): Promise<boolean> {
  const row = await ctx.meta.db.selectFrom('tags').select('name').where('repository_id', '=', repoId).where('digest', '=', digest).limit(1).executeTakeFirst();
  return row !== undefined;
}
