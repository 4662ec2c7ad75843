import type { Descriptor } from '../oci/descriptor.js';
import { COSIGN_TAG_SUFFIXES, SignatureMediaType } from '../sign/media-types.js';
import { digestTag } from '../sign/tags.js';
import type { AttachmentStore } from '../transport/attachments.js';

/**
 * Whether `src` has something attached to `subject` that `dst` lacks: a
 * cosign tag at another digest, a referrer, a simple signature. A sync round
 * asks this of every tag that did not move, so a signature added upstream to
 * an unchanged image is still mirrored; one level deep (what is attached to
 * a referrer comes with it once the referrer is copied).
 */
export async function attachmentsBehind(src: AttachmentStore, dst: AttachmentStore, subject: Descriptor): Promise<boolean> {
  for (const suffix of COSIGN_TAG_SUFFIXES) {
    const tag = `${digestTag(subject.digest)}${suffix}`;
    const there = (await src.manifestByTag(tag))?.digest;
    if (there !== undefined && there !== (await dst.manifestByTag(tag))?.digest) return true;
  }
  // Simple-signing artifacts travel as simple signatures (see findAttached).
  const referrers = (await src.referrers(subject.digest)).filter((d) => d.artifactType !== SignatureMediaType.simpleSigning);
  if (referrers.length > 0) {
    const held = new Set((await dst.referrers(subject.digest)).map((d) => d.digest));
    if (referrers.some((d) => !held.has(d.digest))) return true;
  }
  const signatures = await src.simpleSignatures(subject);
  if (signatures.length === 0) return false;
  const kept = new Set((await dst.simpleSignatures(subject)).map((s) => s.toString('base64')));
  return signatures.some((s) => !kept.has(s.toString('base64')));
}
