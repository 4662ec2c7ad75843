import { createHash } from 'node:crypto';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { MediaType } from '../oci/mediatypes.js';

/** Bytes with their descriptor: what a signature manifest is made of. */
export interface BlobBytes {
  desc: Descriptor;
  bytes: Buffer;
}

/** A manifest ready to push (its bytes are what gets hashed) and the small blobs it needs. */
export interface BuiltArtifact {
  manifest: { bytes: Buffer; mediaType: string; digest: Digest };
  blobs: BlobBytes[];
}

export const sha256Digest = (b: Buffer): Digest => `sha256:${createHash('sha256').update(b).digest('hex')}` as Digest;

export function blobOf(bytes: Buffer, mediaType: string, annotations?: Record<string, string>): BlobBytes {
  const desc: Descriptor = { mediaType, digest: sha256Digest(bytes), size: bytes.length };
  if (annotations) desc.annotations = annotations;
  return { desc, bytes };
}

/** The OCI empty descriptor's content (`{}`), the config of every artifact. */
export const EMPTY_CONFIG = blobOf(Buffer.from('{}'), MediaType.ociEmpty);

/** An OCI 1.1 artifact manifest attached to `subject` (what `oras attach` and newer cosign push); its config is EMPTY_CONFIG. */
export function artifactManifestOf(artifactType: string, layers: Descriptor[], subject: Descriptor, annotations: Record<string, string>): BuiltArtifact['manifest'] {
  const json = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType,
    config: EMPTY_CONFIG.desc,
    layers,
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations,
  };
  const bytes = Buffer.from(JSON.stringify(json));
  return { bytes, mediaType: MediaType.ociManifest, digest: sha256Digest(bytes) };
}

export function artifactManifest(artifactType: string, layers: BlobBytes[], subject: Descriptor, annotations: Record<string, string>): BuiltArtifact {
  return { manifest: artifactManifestOf(artifactType, layers.map((l) => l.desc), subject, annotations), blobs: [EMPTY_CONFIG, ...layers] };
}
