import { Readable } from 'node:stream';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { parseManifest } from '../oci/manifest.js';
import { mergeSignatures } from '../sign/cosign-classic.js';
import { COSIGN_TAG_SUFFIXES, SignatureMediaType } from '../sign/media-types.js';
import { digestTag } from '../sign/tags.js';
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
  // Referrers the destination lists already are not pushed again (a re-run, or two registries replicating to each other).
  const present = tree.referrers.length ? new Set((await dst.referrers(tree.subject.digest)).map((d) => d.digest)) : new Set<Digest>();
  for (const child of tree.referrers) {
    if (!present.has(child.subject.digest)) {
      const m = await src.manifest(child.subject);
      await copyBlobs(src, dst, m);
      await dst.putReferrer(m, tree.subject.digest);
      report.referrers++;
    }
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
