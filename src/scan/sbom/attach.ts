import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Descriptor } from '../../oci/descriptor.js';
import type { Digest } from '../../oci/digest.js';
import { MediaType } from '../../oci/mediatypes.js';
import type { Reference } from '../../oci/reference.js';
import type { RegistryClient } from '../../client/registry.js';

const sha256 = (b: Buffer): Digest => `sha256:${createHash('sha256').update(b).digest('hex')}` as Digest;
const EMPTY = Buffer.from('{}');

/**
 * Pushes `doc` as an OCI 1.1 referrer of `subject` (an artifact manifest
 * with the empty config and the document as its one layer), the shape
 * `oras attach` pushes, so the SBOM travels with the image and the referrers
 * API lists it under `artifactType`. Returns the referrer's digest.
 */
export async function attachDocument(client: RegistryClient, ref: Reference, subject: Descriptor, doc: Buffer, artifactType: string): Promise<Digest> {
  const config: Descriptor = { mediaType: MediaType.ociEmpty, digest: sha256(EMPTY), size: EMPTY.length };
  const layer: Descriptor = { mediaType: artifactType, digest: sha256(doc), size: doc.length };
  for (const [desc, bytes] of [[config, EMPTY], [layer, doc]] as const) {
    if (!(await client.hasBlob(ref.repository, desc.digest))) await client.pushBlob(ref.repository, desc, async () => Readable.from([bytes]));
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      artifactType,
      config,
      layers: [layer],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations: { 'org.opencontainers.image.created': new Date().toISOString() },
    }),
  );
  const digest = sha256(manifest);
  await client.putManifest(ref.repository, digest, { bytes: manifest, mediaType: MediaType.ociManifest, digest });
  return digest;
}
