import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { REF_NAME, type OciLayout } from '../local/layout.js';
import { artifactManifest, blobOf } from '../sign/artifact.js';
import { validDescriptor } from '../sign/cosign-classic.js';
import { MAX_SIMPLE_SIGNATURE_BYTES } from '../sign/gpg.js';
import { CREATED_ANNOTATION, SignatureMediaType } from '../sign/media-types.js';
import { addToFallbackTag, fallbackReferrers, type AttachmentStore } from './attachments.js';
import type { Manifest } from './image.js';

/**
 * An OCI layout as an attachment store. A layout has no referrers API, so
 * referrers live in the fallback tag (as regclient keeps them); tags are
 * index entries named by `name(tag)` (the tag itself in `oci:DIR`, the full
 * reference in the local store). Simple signatures, which a layout has no
 * place for, are kept as Berth simple-signing artifacts attached by subject.
 */
export class LayoutAttachments implements AttachmentStore {
  constructor(
    readonly layout: OciLayout,
    private readonly name: (tag: string) => string,
    readonly description: string,
  ) {}

  async manifestByTag(tag: string): Promise<Manifest | undefined> {
    const wanted = this.name(tag);
    const entry = (await this.layout.readIndex()).manifests.find((m) => m.annotations?.[REF_NAME] === wanted);
    return entry && this.manifest(entry);
  }

  async manifest(desc: Descriptor): Promise<Manifest> {
    return { bytes: await this.layout.readSmallBlob(desc.digest), mediaType: desc.mediaType, digest: desc.digest };
  }

  async blob(desc: Descriptor): Promise<Readable> {
    return this.layout.readBlob(desc.digest);
  }

  hasBlob(desc: Descriptor): Promise<boolean> {
    return this.layout.hasBlob(desc);
  }

  async putBlob(desc: Descriptor, open: () => Promise<Readable>): Promise<void> {
    await this.layout.init();
    await this.layout.writeBlob(desc, await open());
  }

  async putManifest(m: Manifest, tag?: string): Promise<void> {
    await this.layout.init();
    if (!(await this.layout.hasBlob({ digest: m.digest, size: m.bytes.length }))) await this.layout.writeSmallBlob(m.bytes, m.digest);
    if (tag === undefined) return;
    const name = this.name(tag);
    await this.layout.updateIndex((index) => {
      index.manifests = index.manifests.filter((e) => e.annotations?.[REF_NAME] !== name);
      index.manifests.push({ mediaType: m.mediaType, digest: m.digest, size: m.bytes.length, annotations: { [REF_NAME]: name } });
    });
  }

  async takesBundles(): Promise<boolean> {
    return true;
  }

  referrers(subject: Digest): Promise<Descriptor[]> {
    return fallbackReferrers(this, subject);
  }

  async putReferrer(m: Manifest, subject: Digest): Promise<'tag'> {
    await this.putManifest(m);
    await addToFallbackTag(this, m, subject);
    return 'tag';
  }

  async simpleSignaturesUnsupported(): Promise<undefined> {
    return undefined;
  }

  async simpleSignatures(subject: Descriptor): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for (const d of await this.referrers(subject.digest)) {
      if (d.artifactType !== SignatureMediaType.simpleSigning) continue;
      const layer = validDescriptor((JSON.parse((await this.manifest(d)).bytes.toString('utf8')) as { layers?: unknown[] }).layers?.[0]);
      if (layer && layer.size <= MAX_SIMPLE_SIGNATURE_BYTES && (await this.layout.hasBlob(layer))) out.push(await this.layout.readSmallBlob(layer.digest));
    }
    return out;
  }

  async addSimpleSignature(subject: Descriptor, signature: Buffer): Promise<boolean> {
    if ((await this.simpleSignatures(subject)).some((s) => s.equals(signature))) return false;
    const built = artifactManifest(SignatureMediaType.simpleSigning, [blobOf(signature, SignatureMediaType.simpleSigningLayer)], subject, {
      [CREATED_ANNOTATION]: new Date().toISOString(),
    });
    for (const b of built.blobs) if (!(await this.hasBlob(b.desc))) await this.layout.writeSmallBlob(b.bytes, b.desc.digest);
    await this.putReferrer(built.manifest, subject.digest);
    return true;
  }
}
