import type { Digest } from '../oci/digest.js';
import { RegistryError } from '../oci/errors.js';
import { parseManifest } from '../oci/manifest.js';
import type { RepoName } from '../oci/name.js';
import { BrowseQueries } from '../meta/browse-queries.js';
import type { RegistryContext } from './context.js';
import { loadManifest } from './manifests.js';

/** Layers per image in a comparison: a chart of more says nothing more. */
const MAX_LAYERS = 200;

export interface LayerSet {
  repository: string;
  digest: Digest;
  tags: string[];
  /** The image's layers in order (for an index: none, pick one of its platforms). */
  layers: { digest: Digest; size: number }[];
  layersTotal: number;
  index: boolean;
}

/** The layers of some images, for the chart of what they share. Reads each manifest: it runs in a worker thread. */
export async function layerSets(ctx: RegistryContext, images: { repo: string; digest: Digest }[]): Promise<LayerSet[]> {
  const q = new BrowseQueries(ctx.meta.db);
  const out: LayerSet[] = [];
  for (const { repo, digest } of images) {
    const repoId = await ctx.requireRepo(repo as RepoName);
    const m = await loadManifest(ctx, repoId, digest);
    if (!m) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${digest} is not in repository "${repo}"`, { detail: { digest } });
    const facts = parseManifest(m.bytes, m.row.mediaType);
    const layers = facts.layers.slice(0, MAX_LAYERS);
    const sizes = await q.blobSizes(layers.map((l) => l.digest));
    out.push({
      repository: repo,
      digest,
      tags: await q.tagsOf(repoId, digest),
      layers: layers.map((l) => ({ digest: l.digest, size: sizes.get(l.digest) ?? l.size })),
      layersTotal: facts.layers.length,
      index: facts.manifests.length > 0,
    });
  }
  return out;
}
