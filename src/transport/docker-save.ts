import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Digest } from '../oci/digest.js';
import { parseManifest } from '../oci/manifest.js';
import { isIndexType } from '../oci/mediatypes.js';
import { familiarReference } from '../oci/reference.js';
import type { OciLayout } from '../local/layout.js';
import type { StoredImage } from '../local/store.js';
import { choosePlatform, hostPlatform } from './platform.js';
import { decompressTo, type SaveEntry } from './docker-archive.js';
import { checkWritable, packTar } from './tar.js';

/**
 * `docker save IMAGE... -o FILE`: one archive, one manifest.json entry per
 * image (all its names in RepoTags), each config and each layer stored once
 * however many of the images share it. Layers are written uncompressed under
 * their diff id, as docker does, so `docker load` and skopeo's
 * `docker-archive:` read it; an index contributes this machine's platform.
 */
export async function saveImages(layout: OciLayout, images: StoredImage[][], file: string): Promise<{ images: number; layers: number }> {
  await checkWritable(file);
  const dir = await mkdtemp(join(tmpdir(), 'berth-save-'));
  try {
    const files = new Map<string, string>();
    const diffIds = new Map<Digest, string>();
    const entries: SaveEntry[] = [];
    for (const names of images) {
      const facts = await imageManifest(layout, names[0]!);
      const config = facts.config!;
      const configName = `${config.digest.slice(7)}.json`;
      files.set(configName, layout.blobPath(config.digest));
      const layers: string[] = [];
      for (const l of facts.layers) {
        let name = diffIds.get(l.digest);
        if (!name) {
          const plain = join(dir, `layer-${diffIds.size}.tar`);
          name = `${(await decompressTo(layout.blobPath(l.digest), plain)).slice(7)}.tar`;
          diffIds.set(l.digest, name);
          files.set(name, plain);
        }
        layers.push(name);
      }
      entries.push({ Config: configName, RepoTags: names.filter((n) => !n.untagged && n.ref.tag).map((n) => familiarReference(n.ref)), Layers: layers });
    }
    const manifestJson = join(dir, 'manifest.json');
    await writeFile(manifestJson, JSON.stringify(entries));
    await packTar(file, [...[...files].map(([name, path]) => ({ name, path })), { name: 'manifest.json', path: manifestJson }]);
    return { images: entries.length, layers: diffIds.size };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function imageManifest(layout: OciLayout, image: StoredImage) {
  let desc = image.descriptor;
  let facts = parseManifest(await layout.readSmallBlob(desc.digest), desc.mediaType);
  if (isIndexType(desc.mediaType)) {
    desc = choosePlatform(facts.manifests, hostPlatform());
    facts = parseManifest(await layout.readSmallBlob(desc.digest), desc.mediaType);
  }
  if (!facts.config) throw new Error(`${image.name} is not an image (no config); docker's format cannot hold it`);
  return facts;
}
