import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { isRegistryError } from '../oci/errors.js';
import type { RepoName } from '../oci/name.js';
import { SignatureQueries } from '../meta/signature-queries.js';
import { MAX_SIGNATURES_PER_MANIFEST, addSignature } from '../registry/signatures.js';
import { listReferrers } from '../registry/referrers.js';
import type { AttachmentStore } from '../transport/attachments.js';
import type { Manifest } from '../transport/image.js';
import { RepositoryImages } from './repository-images.js';

/** Referrers of one subject read at most this many pages deep (each holds up to limits.maxListEntries). */
const MAX_REFERRER_PAGES = 10;

/**
 * What is attached to images in one repository of this registry, read and
 * written through the registry's own functions (never HTTP to itself):
 * cosign tags, referrers (always indexed here), and simple signatures
 * (the signature extension's table).
 */
export class RepositoryAttachments implements AttachmentStore {
  readonly description: string;

  constructor(private readonly images: RepositoryImages) {
    this.description = images.repo;
  }

  manifestByTag(tag: string): Promise<Manifest | undefined> {
    return this.images.byTag(tag);
  }

  manifest(desc: Descriptor): Promise<Manifest> {
    return this.images.byDigest(desc.digest);
  }

  blob(desc: Descriptor): Promise<Readable> {
    return this.images.blob(desc);
  }

  hasBlob(desc: Descriptor): Promise<boolean> {
    return this.images.hasBlob(desc);
  }

  async putBlob(desc: Descriptor, open: () => Promise<Readable>): Promise<void> {
    await this.images.putBlob(desc, open);
  }

  async putManifest(m: Manifest, tag?: string): Promise<void> {
    await this.images.putManifest(m, tag);
  }

  async takesBundles(): Promise<boolean> {
    return true;
  }

  async referrers(subject: Digest): Promise<Descriptor[]> {
    const out: Descriptor[] = [];
    let last: string | undefined;
    for (let page = 0; page < MAX_REFERRER_PAGES; page++) {
      const p = await listReferrers(this.images.ctx, this.images.repo, subject, undefined, last);
      out.push(...(p.index.manifests as Descriptor[]));
      if (!p.next) break;
      last = p.next;
    }
    return out;
  }

  /** A manifest pushed with a `subject` is indexed as its referrer by the push itself. */
  async putReferrer(m: Manifest): Promise<'api'> {
    await this.images.putManifest(m);
    return 'api';
  }

  async simpleSignaturesUnsupported(): Promise<undefined> {
    return undefined;
  }

  async simpleSignatures(subject: Descriptor): Promise<Buffer[]> {
    const repoId = await this.images.ctx.repoId(this.images.repo);
    if (repoId === undefined) return [];
    return (await new SignatureQueries(this.images.ctx.meta.db).list(repoId, subject.digest, MAX_SIGNATURES_PER_MANIFEST)).map((s) => s.content);
  }

  async addSimpleSignature(subject: Descriptor, signature: Buffer): Promise<boolean> {
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, type: 'atomic', name: `${subject.digest}@${signatureId(signature)}`, content: signature.toString('base64') }));
    try {
      return (await addSignature(this.images.ctx, this.images.repo as RepoName, subject.digest, body, this.images.actor)) === 'added';
    } catch (e) {
      if (isRegistryError(e) && e.code === 'MANIFEST_UNKNOWN') return false;
      throw e;
    }
  }
}

/** containers/image names a signature `<digest>@<32 hex>`; any stable id of the content serves. */
const signatureId = (signature: Buffer): string => createHash('sha256').update(signature).digest('hex').slice(0, 32);
