import { algorithmOf, hexOf, isDigest, type Digest } from '../oci/digest.js';
import { isObject, type Descriptor } from '../oci/descriptor.js';
import { MediaType } from '../oci/mediatypes.js';
import type { RepoName } from '../oci/name.js';
import type { RegistryContext } from './context.js';
import { loadManifest } from './manifests.js';

export interface ReferrersIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: Partial<Descriptor>[];
}

/**
 * The referrers of `subject`: manifests pushed with that `subject`, plus
 * those older clients listed in the referrers tag (`<alg>-<hex>`) index.
 */
export async function listReferrers(
  ctx: RegistryContext,
  repo: RepoName,
  subject: Digest,
  artifactType: string | undefined,
): Promise<{ index: ReferrersIndex; filtered: boolean }> {
  const repoId = await ctx.repoId(repo);
  const found = new Map<string, Partial<Descriptor>>();
  if (repoId !== undefined) {
    for (const r of await ctx.meta.referrers(repoId, subject)) {
      const d: Partial<Descriptor> = { mediaType: r.mediaType, digest: r.digest, size: r.size };
      if (r.artifactType) d.artifactType = r.artifactType;
      if (r.annotations) d.annotations = r.annotations;
      found.set(r.digest, d);
    }
    for (const d of await fallbackTagEntries(ctx, repoId, subject)) if (!found.has(d.digest as string)) found.set(d.digest as string, d);
  }
  let manifests = [...found.values()];
  if (artifactType !== undefined) manifests = manifests.filter((d) => d.artifactType === artifactType);
  return { index: { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }, filtered: artifactType !== undefined };
}

async function fallbackTagEntries(ctx: RegistryContext, repoId: Parameters<typeof loadManifest>[1], subject: Digest): Promise<Partial<Descriptor>[]> {
  const tag = `${algorithmOf(subject)}-${hexOf(subject)}`.slice(0, 128);
  const digest = await ctx.meta.resolveTag(repoId, tag);
  if (!digest) return [];
  const m = await loadManifest(ctx, repoId, digest);
  if (!m) return [];
  const json: unknown = JSON.parse(m.bytes.toString('utf8'));
  if (!isObject(json) || !Array.isArray(json.manifests)) return [];
  return json.manifests.filter((d): d is Partial<Descriptor> => isObject(d) && typeof d.digest === 'string' && isDigest(d.digest));
}
