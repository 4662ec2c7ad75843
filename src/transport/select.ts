import type { Descriptor } from '../oci/descriptor.js';
import { parseManifest } from '../oci/manifest.js';
import { isIndexType } from '../oci/mediatypes.js';
import type { ImageSource, Manifest } from './image.js';
import { checkPlatform, choosePlatform, hostPlatform, type PlatformSpec } from './platform.js';

/** An image config is small; a larger "config" is not one whose platform can be read. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/**
 * The image a command works on: an index's child for `want` (this machine
 * when not given), or the manifest itself, which must then be of `want`
 * when one was asked for (as docker refuses a single-platform image of another platform).
 */
export async function imageFor(src: ImageSource, root: Manifest, want: PlatformSpec | undefined): Promise<Manifest> {
  if (isIndexType(root.mediaType)) return src.manifest(choosePlatform(parseManifest(root.bytes, root.mediaType).manifests, want ?? hostPlatform()));
  if (want) await requirePlatform(src, root, want);
  return root;
}

async function requirePlatform(src: ImageSource, m: Manifest, want: PlatformSpec): Promise<void> {
  const config = parseManifest(m.bytes, m.mediaType).config;
  if (!config || config.size > MAX_CONFIG_BYTES) return;
  checkPlatform(JSON.parse((await readBlob(src, m, config)).toString('utf8')) as Record<string, string>, want, src.description);
}

/** A small blob (a config) whole; `m` is the manifest naming it, for the error message. */
export async function readBlob(src: ImageSource, m: Manifest, desc: Descriptor): Promise<Buffer> {
  if (desc.size > MAX_CONFIG_BYTES) throw new Error(`${desc.digest} in ${src.description} (${m.digest}) is ${desc.size} bytes, more than a config may be`);
  const parts: Buffer[] = [];
  for await (const c of await src.blob(desc)) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
