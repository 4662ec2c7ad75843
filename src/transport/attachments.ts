import { Readable } from 'node:stream';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { parseManifest } from '../oci/manifest.js';
import { MediaType } from '../oci/mediatypes.js';
import { indexEntries } from '../client/referrers.js';
import { digestOf } from '../client/registry.js';
import type { BuiltArtifact } from '../sign/artifact.js';
import { digestTag } from '../sign/tags.js';
import type { Manifest } from './image.js';

/**
 * Where what is attached to an image lives, next to the image itself: cosign's
 * `sha256-<hex>.sig` manifests, OCI 1.1 referrers (with the `sha256-<hex>`
 * fallback tag for stores without the referrers API), and containers/image
 * simple signatures. A registry repository and an OCI layout (the local store
 * is one) each implement it; signing, verifying and copying only see this.
 */
export interface AttachmentStore {
  readonly description: string;
  manifestByTag(tag: string): Promise<Manifest | undefined>;
  manifest(desc: Descriptor): Promise<Manifest>;
  blob(desc: Descriptor): Promise<Readable>;
  hasBlob(desc: Descriptor): Promise<boolean>;
  putBlob(desc: Descriptor, open: () => Promise<Readable>): Promise<void>;
  /** By digest, and under `tag` when given. */
  putManifest(m: Manifest, tag?: string): Promise<void>;
  /**
   * Whether newer cosign's bundle referrer belongs here: on a registry only
   * with the referrers API (as cosign pushes it), in a layout always.
   */
  takesBundles(): Promise<boolean>;
  referrers(subject: Digest): Promise<Descriptor[]>;
  /** Pushes a manifest whose `subject` is `subject`, recording it in the fallback tag when the store does not index it. */
  putReferrer(m: Manifest, subject: Digest): Promise<'api' | 'tag'>;
  /** Why simple signatures cannot be kept here, or undefined when they can. */
  simpleSignaturesUnsupported(): Promise<string | undefined>;
  simpleSignatures(subject: Descriptor): Promise<Buffer[]>;
  /** Resolves to false when the same signature is already there. */
  addSimpleSignature(subject: Descriptor, signature: Buffer): Promise<boolean>;
}

/** The descriptor a referrers list gives for `m`: its artifact type (or config type) and annotations. */
export function referrerDescriptor(m: Manifest): Descriptor {
  const facts = parseManifest(m.bytes, m.mediaType);
  const desc: Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
  if (facts.artifactType) desc.artifactType = facts.artifactType;
  if (facts.annotations) desc.annotations = facts.annotations;
  return desc;
}

/** The referrers recorded in the fallback tag of `subject`. */
export async function fallbackReferrers(store: AttachmentStore, subject: Digest): Promise<Descriptor[]> {
  const index = await store.manifestByTag(digestTag(subject));
  return index ? indexEntries(index.bytes.toString('utf8')) : [];
}

/**
 * Adds `m` to the fallback tag's index (distribution-spec "referrers tag
 * schema"), replacing an entry of the same digest. Read-modify-write: two
 * clients adding at once on a registry may lose one entry, as the spec warns.
 */
export async function addToFallbackTag(store: AttachmentStore, m: Manifest, subject: Digest): Promise<void> {
  const tag = digestTag(subject);
  const existing = await store.manifestByTag(tag);
  const entries = existing ? indexEntries(existing.bytes.toString('utf8')).filter((d) => d.digest !== m.digest) : [];
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [...entries, referrerDescriptor(m)] }));
  await store.putManifest({ bytes, mediaType: MediaType.ociIndex, digest: digestOf(bytes) }, tag);
}

/** A tag store's `manifestByTag` for a miss: undefined, not an error. */
export const absentOn404 = async <T>(work: Promise<T>): Promise<T | undefined> =>
  work.catch((e: unknown) => {
    if ((e as { status?: number }).status === 404) return undefined;
    throw e;
  });

/** Pushes a built signature artifact: its blobs (those missing), then the manifest under `tag` or as a referrer of `subject`. */
export async function pushArtifact(store: AttachmentStore, built: BuiltArtifact, to: { tag: string } | { subject: Digest }): Promise<'api' | 'tag'> {
  for (const b of built.blobs) if (!(await store.hasBlob(b.desc))) await store.putBlob(b.desc, async () => Readable.from([b.bytes]));
  if ('tag' in to) {
    await store.putManifest(built.manifest, to.tag);
    return 'tag';
  }
  return store.putReferrer(built.manifest, to.subject);
}
