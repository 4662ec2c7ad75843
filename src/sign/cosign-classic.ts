import type { Descriptor } from '../oci/descriptor.js';
import { isObject, parseDescriptor } from '../oci/descriptor.js';
import { parseManifest } from '../oci/manifest.js';
import { MediaType } from '../oci/mediatypes.js';
import { blobOf, sha256Digest, type BlobBytes, type BuiltArtifact } from './artifact.js';
import { COSIGN_SIGNATURE_ANNOTATION, MAX_SIGNATURES_EXAMINED, SignatureMediaType } from './media-types.js';

/**
 * cosign's classic signature storage (SIGNATURE_SPEC, "OCI Image Manifest
 * V1"): one image manifest per signed digest, under the tag
 * `sha256-<hex>.sig`, each layer a simple-signing payload whose descriptor
 * carries the base64 signature in `dev.cosignproject.cosign/signature`. A
 * new signature is appended as a layer; existing ones are never replaced.
 */

export interface ClassicSignature {
  /** The payload blob, to fetch and check against its digest. */
  payload: Descriptor;
  /** Base64 as stored; decoding and checking it is verification's job. */
  signature: string;
}

export function signatureLayer(payload: Buffer, signature: Buffer): BlobBytes {
  return blobOf(payload, SignatureMediaType.cosignPayload, { [COSIGN_SIGNATURE_ANNOTATION]: signature.toString('base64') });
}

/**
 * The `.sig` manifest with `layer` added after what `existing` (the manifest
 * now under the tag, if any) holds; undefined when that exact signature is
 * already there. The config is an image config whose rootfs lists the layers,
 * as go-containerregistry (and so cosign) writes it.
 */
export function appendSignature(existing: Buffer | undefined, layer: BlobBytes): BuiltArtifact | undefined {
  const layers = existing ? parseManifest(existing, MediaType.ociManifest).layers : [];
  const sig = layer.desc.annotations?.[COSIGN_SIGNATURE_ANNOTATION];
  if (layers.some((l) => l.digest === layer.desc.digest && l.annotations?.[COSIGN_SIGNATURE_ANNOTATION] === sig)) return undefined;
  return signatureManifest([...layers, layer.desc], [layer]);
}

/** Merges the signatures of two `.sig` manifests (a copy onto a destination that has its own); undefined when nothing is new. */
export function mergeSignatures(existing: Buffer, incoming: Buffer): BuiltArtifact | undefined {
  const have = parseManifest(existing, MediaType.ociManifest).layers;
  const key = (l: Descriptor) => `${l.digest}\u0000${l.annotations?.[COSIGN_SIGNATURE_ANNOTATION] ?? ''}`;
  const seen = new Set(have.map(key));
  const added = parseManifest(incoming, MediaType.ociManifest).layers.filter((l) => !seen.has(key(l)));
  return added.length === 0 ? undefined : signatureManifest([...have, ...added], []);
}

function signatureManifest(layers: Descriptor[], newBlobs: BlobBytes[]): BuiltArtifact {
  const epoch = '0001-01-01T00:00:00Z';
  const config = blobOf(
    Buffer.from(
      JSON.stringify({
        architecture: '',
        created: epoch,
        history: layers.map(() => ({ created: epoch })),
        os: '',
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
        config: {},
      }),
    ),
    MediaType.ociConfig,
  );
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: config.desc, layers }));
  return { manifest: { bytes, mediaType: MediaType.ociManifest, digest: sha256Digest(bytes) }, blobs: [config, ...newBlobs] };
}

/**
 * The signatures a `.sig` manifest holds: layers with cosign's payload media
 * type and a signature annotation, the first MAX_SIGNATURES_EXAMINED of them.
 * `total` says how many layers there were, so a caller can report the rest.
 */
export function classicSignatures(manifest: Buffer): { signatures: ClassicSignature[]; total: number } {
  const json: unknown = JSON.parse(manifest.toString('utf8'));
  const raw = isObject(json) && Array.isArray(json.layers) ? json.layers : [];
  const signatures: ClassicSignature[] = [];
  for (const l of raw.slice(0, MAX_SIGNATURES_EXAMINED)) {
    if (!isObject(l) || l.mediaType !== SignatureMediaType.cosignPayload || !isObject(l.annotations)) continue;
    const signature = l.annotations[COSIGN_SIGNATURE_ANNOTATION];
    const payload = validDescriptor(l);
    if (typeof signature === 'string' && payload) signatures.push({ payload, signature });
  }
  return { signatures, total: raw.length };
}

/** A descriptor fit to fetch by (its digest becomes a URL or a path), else undefined. */
export function validDescriptor(v: unknown): Descriptor | undefined {
  try {
    return parseDescriptor(v, 'layer');
  } catch {
    return undefined;
  }
}
