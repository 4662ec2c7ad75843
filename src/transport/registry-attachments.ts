import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { fetchReferrers, pushManifestWithSubject } from '../client/referrers.js';
import type { RegistryClient } from '../client/registry.js';
import { fetchExtensionSignatures, putExtensionSignature, supportsSignatureExtension } from '../client/signature-extension.js';
import { absentOn404, addToFallbackTag, fallbackReferrers, type AttachmentStore } from './attachments.js';
import type { Manifest } from './image.js';

/** A repository of a registry: tags, the referrers API when it has one, the signature extension when it has that. */
export class RegistryAttachments implements AttachmentStore {
  readonly description: string;
  private referrersApi?: boolean;

  constructor(
    readonly client: RegistryClient,
    readonly repository: string,
  ) {
    this.description = `${client.registry}/${repository}`;
  }

  manifestByTag(tag: string): Promise<Manifest | undefined> {
    return absentOn404(this.client.getManifest(this.repository, tag));
  }

  manifest(desc: Descriptor): Promise<Manifest> {
    return this.client.getManifest(this.repository, desc.digest);
  }

  async blob(desc: Descriptor): Promise<Readable> {
    return this.client.openBlob(this.repository, desc);
  }

  hasBlob(desc: Descriptor): Promise<boolean> {
    return this.client.hasBlob(this.repository, desc.digest);
  }

  async putBlob(desc: Descriptor, open: () => Promise<Readable>): Promise<void> {
    await this.client.pushBlob(this.repository, desc, open);
  }

  async putManifest(m: Manifest, tag?: string): Promise<void> {
    await this.client.putManifest(this.repository, tag ?? m.digest, m);
  }

  async takesBundles(): Promise<boolean> {
    // Asked with a digest nothing refers to: a registry with the API answers an empty index.
    this.referrersApi ??= (await fetchReferrers(this.client, this.repository, `sha256:${'0'.repeat(64)}` as Digest)) !== undefined;
    return this.referrersApi;
  }

  async referrers(subject: Digest): Promise<Descriptor[]> {
    const listed = await fetchReferrers(this.client, this.repository, subject);
    this.referrersApi = listed !== undefined;
    return listed ?? fallbackReferrers(this, subject);
  }

  async putReferrer(m: Manifest, subject: Digest): Promise<'api' | 'tag'> {
    const { subjectIndexed } = await pushManifestWithSubject(this.client, this.repository, m.digest, m);
    if (subjectIndexed) return 'api';
    await addToFallbackTag(this, m, subject);
    return 'tag';
  }

  async simpleSignaturesUnsupported(): Promise<string | undefined> {
    if (await supportsSignatureExtension(this.client)) return undefined;
    return `${this.client.registry} cannot store simple (GPG) signatures: it does not implement the registry signature extension (no X-Registry-Supports-Signatures: 1); sign with a cosign key (--key) instead, or use a registry that has it (berth serve)`;
  }

  async simpleSignatures(subject: Descriptor): Promise<Buffer[]> {
    if (!(await supportsSignatureExtension(this.client))) return [];
    return fetchExtensionSignatures(this.client, this.repository, subject.digest);
  }

  async addSimpleSignature(subject: Descriptor, signature: Buffer): Promise<boolean> {
    const why = await this.simpleSignaturesUnsupported();
    if (why) throw new Error(why);
    if ((await this.simpleSignatures(subject)).some((s) => s.equals(signature))) return false;
    await putExtensionSignature(this.client, this.repository, subject.digest, signature);
    return true;
  }
}
