import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Descriptor } from '../oci/descriptor.js';
import { algorithmOf, type Digest } from '../oci/digest.js';
import { parseManifest } from '../oci/manifest.js';
import { DigestMismatchError } from '../client/errors.js';
import { classicSignatures, mergeSignatures, validDescriptor } from '../sign/cosign-classic.js';
import { COSIGN_TAG_SUFFIXES, MAX_PAYLOAD_BYTES, MAX_SIGNATURES_EXAMINED, SignatureMediaType } from '../sign/media-types.js';
import { digestTag } from '../sign/tags.js';
import type { FoundSignature } from '../sign/verify.js';
import type { AttachmentStore } from './attachments.js';
import type { Manifest } from './image.js';

/** Referrers of referrers are followed this deep (a signature of an SBOM of an image is depth 2). */
const MAX_DEPTH = 3;
/** Per subject, at most this many referrers are followed. */
const MAX_REFERRERS = 1000;

/** Everything attached to one subject, and (for each referrer) what is attached to it. */
export interface AttachedTree {
  subject: Descriptor;
  /** cosign's `sha256-<hex>.sig`, `.att`, `.sbom` manifests. */
  tags: { tag: string; manifest: Manifest }[];
  referrers: AttachedTree[];
  /** containers/image simple signatures (signature extension, or Berth's artifacts in a layout). */
  simpleSignatures: Buffer[];
}

export async function findAttached(store: AttachmentStore, subject: Descriptor, depth = 0): Promise<AttachedTree> {
  const tags: AttachedTree['tags'] = [];
  for (const suffix of COSIGN_TAG_SUFFIXES) {
    const tag = `${digestTag(subject.digest)}${suffix}`;
    const manifest = await store.manifestByTag(tag);
    if (manifest) tags.push({ tag, manifest });
  }
  const referrers: AttachedTree[] = [];
  if (depth < MAX_DEPTH) {
    // Simple-signing artifacts are Berth's stand-in for the extension: they travel as simple signatures.
    const listed = (await store.referrers(subject.digest)).filter((d) => d.artifactType !== SignatureMediaType.simpleSigning).slice(0, MAX_REFERRERS);
    for (const d of listed) referrers.push(await findAttached(store, d, depth + 1));
  }
  return { subject, tags, referrers, simpleSignatures: await store.simpleSignatures(subject) };
}

/**
 * Every signature of `subject` in `store`, in the three places they live,
 * unverified: at most MAX_SIGNATURES_EXAMINED of each kind, payloads and
 * bundles read only up to MAX_PAYLOAD_BYTES and checked against their digest.
 */
export async function findSignatures(store: AttachmentStore, subject: Descriptor): Promise<FoundSignature[]> {
  const found: FoundSignature[] = [];
  const sig = await store.manifestByTag(`${digestTag(subject.digest)}.sig`);
  if (sig) {
    const where = `${store.description}:${digestTag(subject.digest)}.sig`;
    for (const s of classicSignatures(sig.bytes).signatures) {
      const payload = await readSmall(store, s.payload);
      if (payload) found.push({ kind: 'cosign', where, payload, signature: s.signature });
    }
  }
  const bundles = (await store.referrers(subject.digest)).filter((d) => d.artifactType === SignatureMediaType.bundleV03).slice(0, MAX_SIGNATURES_EXAMINED);
  for (const d of bundles) {
    const layer = (JSON.parse((await store.manifest(d)).bytes.toString('utf8')) as { layers?: unknown[] }).layers?.map(validDescriptor).find((l) => l?.mediaType === SignatureMediaType.bundleV03);
    const bundle = layer && (await readSmall(store, layer));
    if (bundle) found.push({ kind: 'bundle', where: `${store.description}@${d.digest}`, bundle });
  }
  for (const signature of (await store.simpleSignatures(subject)).slice(0, MAX_SIGNATURES_EXAMINED)) {
    found.push({ kind: 'gpg', where: `${store.description} simple signature`, signature });
  }
  return found;
}

/** A small blob's bytes, verified against its digest; undefined when it is larger than a payload may be. */
async function readSmall(store: AttachmentStore, desc: Descriptor): Promise<Buffer | undefined> {
  if (desc.size > MAX_PAYLOAD_BYTES) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of await store.blob(desc)) {
    size += (c as Buffer).length;
    if (size > MAX_PAYLOAD_BYTES) return undefined;
    chunks.push(c as Buffer);
  }
  const bytes = Buffer.concat(chunks);
  const actual = `${algorithmOf(desc.digest)}:${createHash(algorithmOf(desc.digest)).update(bytes).digest('hex')}`;
  if (actual !== desc.digest) throw new DigestMismatchError(`${store.description}: blob ${desc.digest} hashes to ${actual}`);
  return bytes;
}

export interface AttachmentCopy {
  tags: number;
  referrers: number;
  simpleSignatures: number;
  /** What the destination could not take, said in words. */
  skipped: string[];
}

/** Copies what is attached to each of `subjects` from `src` to `dst` (cosign tags merged into what is there, never replacing it). */
export async function copyAttachments(src: AttachmentStore, dst: AttachmentStore, subjects: Descriptor[]): Promise<AttachmentCopy> {
  const report: AttachmentCopy = { tags: 0, referrers: 0, simpleSignatures: 0, skipped: [] };
  for (const s of subjects) await copyTree(src, dst, await findAttached(src, s), report);
  return report;
}

async function copyTree(src: AttachmentStore, dst: AttachmentStore, tree: AttachedTree, report: AttachmentCopy): Promise<void> {
  for (const { tag, manifest } of tree.tags) {
    await copyBlobs(src, dst, manifest);
    const existing = await dst.manifestByTag(tag);
    if (existing?.digest === manifest.digest) continue;
    const merged = existing ? mergeSignatures(existing.bytes, manifest.bytes) : undefined;
    if (existing && !merged) continue;
    if (merged) for (const b of merged.blobs) if (!(await dst.hasBlob(b.desc))) await dst.putBlob(b.desc, async () => Readable.from([b.bytes]));
    await dst.putManifest(merged?.manifest ?? manifest, tag);
    report.tags++;
  }
  for (const child of tree.referrers) {
    const m = await src.manifest(child.subject);
    await copyBlobs(src, dst, m);
    await dst.putReferrer(m, tree.subject.digest);
    report.referrers++;
    await copyTree(src, dst, child, report);
  }
  if (tree.simpleSignatures.length === 0) return;
  const why = await dst.simpleSignaturesUnsupported();
  if (why) {
    report.skipped.push(`${tree.simpleSignatures.length} simple signature(s) of ${tree.subject.digest}: ${why}`);
    return;
  }
  for (const sig of tree.simpleSignatures) if (await dst.addSimpleSignature(tree.subject, sig)) report.simpleSignatures++;
}

async function copyBlobs(src: AttachmentStore, dst: AttachmentStore, m: Manifest): Promise<void> {
  for (const b of parseManifest(m.bytes, m.mediaType).blobs) {
    if (!(await dst.hasBlob(b))) await dst.putBlob(b, () => src.blob(b));
  }
}

/** The digests an image copy brought over: the root and, for an index, its children. */
export function copiedSubjects(root: Manifest): Descriptor[] {
  const own: Descriptor = { mediaType: root.mediaType, digest: root.digest as Digest, size: root.bytes.length };
  return [own, ...parseManifest(root.bytes, root.mediaType).manifests];
}
