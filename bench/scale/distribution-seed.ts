import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { seedPlan, type SeedContent, type SeedShape } from '../../src/meta/seed.js';

const WRITERS = 16;

/**
 * Lays out the registry `seedPlan(shape)` describes (the images Berth's seed
 * indexes) in CNCF Distribution 2.8's filesystem storage under `root` (its
 * `rootdirectory`), as its pushes would have left it (registry/storage/paths.go):
 *
 * - `docker/registry/v2/blobs/sha256/<first two hex>/<hex>/data`: the bytes;
 * - `docker/registry/v2/repositories/<name>/_layers/sha256/<hex>/link`: a blob
 *   linked into the repository (configs and layers, and the garbage's stale links);
 * - `.../_manifests/revisions/sha256/<hex>/link`: a manifest of the repository;
 * - `.../_manifests/tags/<tag>/current/link` and `.../tags/<tag>/index/sha256/<hex>/link`.
 *
 * A link file holds the digest (`sha256:<hex>`), nothing else. Resolves to the files written.
 */
export async function seedDistribution(root: string, shape: SeedShape): Promise<{ files: number; seconds: number }> {
  const t0 = performance.now();
  const v2 = join(root, 'docker/registry/v2');
  const limit = pLimit(WRITERS);
  const written = new Set<string>();
  let files = 0;
  const put = (path: string, bytes: Buffer | string) =>
    limit(async () => {
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, bytes);
      files++;
    });
  const blob = (c: SeedContent) => {
    // A base layer is shared by a hundred repositories, the tags' config by every tag: their bytes are written once.
    if (written.has(c.digest)) return undefined;
    written.add(c.digest);
    const hex = c.digest.slice('sha256:'.length);
    return put(join(v2, 'blobs/sha256', hex.slice(0, 2), hex, 'data'), c.bytes);
  };
  const link = (dir: string, c: SeedContent) => put(join(dir, 'sha256', c.digest.slice('sha256:'.length), 'link'), c.digest);
  for (const batch of seedPlan(shape)) {
    const writes: (Promise<void> | undefined)[] = [];
    for (const { repository, tags, stale } of batch) {
      const repo = join(v2, 'repositories', repository);
      for (const { tag, image } of tags) {
        for (const c of [image.config, ...image.layers]) writes.push(blob(c), link(join(repo, '_layers'), c));
        writes.push(blob(image.manifest), link(join(repo, '_manifests/revisions'), image.manifest));
        writes.push(put(join(repo, '_manifests/tags', tag, 'current/link'), image.manifest.digest), link(join(repo, '_manifests/tags', tag, 'index'), image.manifest));
      }
      for (const g of stale) writes.push(blob(g), link(join(repo, '_layers'), g));
    }
    await Promise.all(writes);
  }
  return { files, seconds: Math.round((performance.now() - t0) / 100) / 10 };
}
