import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { RegistryError } from '../oci/errors.js';
import { ScanQueries } from '../meta/scan-queries.js';
import { ScanInputError } from '../scan/image-input.js';
import type { ImageSource, Manifest } from '../transport/image.js';
import { readBlob } from './blobs.js';
import type { RegistryContext } from './context.js';

/**
 * A manifest and its blobs read straight from the registry's own store by
 * digest: no HTTP, no repository (the store keeps one copy of each blob
 * whoever linked it). A blob whose descriptor claims another size than the
 * one indexed is refused before a byte is read: a config said to be small
 * is never read at gigabytes, and a sound blob is never marked as damaged.
 */
export function storedImage(ctx: RegistryContext, root: { digest: Digest; mediaType: string; size: number }): ImageSource {
  const q = new ScanQueries(ctx.meta.db);
  const read = async (desc: Pick<Descriptor, 'digest' | 'size'>): Promise<Readable> => {
    const size = await q.blobSize(desc.digest);
    if (size === undefined) throw new RegistryError('BLOB_UNKNOWN', `blob ${desc.digest} is not in the registry`, { detail: { digest: desc.digest } });
    if (size !== desc.size) throw new ScanInputError(`blob ${desc.digest}: the manifest says ${desc.size} bytes, the registry holds ${size}`);
    return readBlob(ctx, { digest: desc.digest, size });
  };
  const manifest = async (desc: Pick<Descriptor, 'digest' | 'size' | 'mediaType'>): Promise<Manifest> => {
    const parts: Buffer[] = [];
    for await (const chunk of await read(desc)) parts.push(chunk as Buffer);
    return { digest: desc.digest, mediaType: desc.mediaType, bytes: Buffer.concat(parts) };
  };
  return {
    description: root.digest,
    root: () => manifest(root),
    manifest,
    blob: read,
    close: async () => {},
  };
}
