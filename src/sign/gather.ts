import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/descriptor.js';
import { algorithmOf } from '../oci/digest.js';
import { classicSignatures, validDescriptor } from './cosign-classic.js';
import { MAX_PAYLOAD_BYTES, MAX_SIGNATURES_EXAMINED, SignatureMediaType } from './media-types.js';
import { signatureTag } from './tags.js';
import type { FoundSignature } from './verify.js';

/** What finding signatures reads: a client's view of a repository or layout, or the registry's own store. */
export interface SignatureSource {
  readonly description: string;
  manifestByTag(tag: string): Promise<{ bytes: Buffer } | undefined>;
  manifest(desc: Descriptor): Promise<{ bytes: Buffer }>;
  blob(desc: Descriptor): Promise<Readable>;
  referrers(subject: Descriptor['digest']): Promise<Descriptor[]>;
  simpleSignatures(subject: Descriptor): Promise<Buffer[]>;
}

export class SignatureIntegrityError extends Error {
  override readonly name = 'SignatureIntegrityError';
}

/**
 * Every signature of `subject` in `store`, in the three places they live,
 * unverified: at most MAX_SIGNATURES_EXAMINED of each kind, payloads and
 * bundles read only up to MAX_PAYLOAD_BYTES and checked against their digest.
 */
export async function findSignatures(store: SignatureSource, subject: Descriptor): Promise<FoundSignature[]> {
  const found: FoundSignature[] = [];
  const sig = await store.manifestByTag(signatureTag(subject.digest));
  if (sig) {
    const where = `${store.description}:${signatureTag(subject.digest)}`;
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
async function readSmall(store: SignatureSource, desc: Descriptor): Promise<Buffer | undefined> {
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
  if (actual !== desc.digest) throw new SignatureIntegrityError(`${store.description}: blob ${desc.digest} hashes to ${actual}`);
  return bytes;
}

