import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { isRegistryError, RegistryError } from '../oci/errors.js';
import type { RepoName } from '../oci/name.js';
import type { RepoId } from '../meta/metadata.js';
import { SignatureQueries } from '../meta/signature-queries.js';
import type { SignatureSource } from '../sign/gather.js';
import { MAX_SIGNATURES_EXAMINED } from '../sign/media-types.js';
import { readBlob } from './blobs.js';
import type { RegistryContext } from './context.js';
import { loadManifest, resolveTag } from './manifests.js';
import { listReferrers } from './referrers.js';

/** A repository of this registry as the signature finder sees it: tags, referrers and extension signatures from store and metadata. */
export class RegistrySignatureSource implements SignatureSource {
  readonly description: string;

  constructor(
    private readonly ctx: RegistryContext,
    private readonly repo: RepoName,
    private readonly repoId: RepoId,
  ) {
    this.description = repo;
  }

  /** Where a tag points, through the registry's tag cache. */
  async tagDigest(tag: string): Promise<Digest | undefined> {
    try {
      return await resolveTag(this.ctx, this.repoId, tag);
    } catch (e) {
      if (isRegistryError(e) && e.code === 'MANIFEST_UNKNOWN') return undefined;
      throw e;
    }
  }

  async manifestByTag(tag: string): Promise<{ bytes: Buffer } | undefined> {
    const digest = await this.tagDigest(tag);
    return digest && loadManifest(this.ctx, this.repoId, digest);
  }

  async manifest(desc: Descriptor): Promise<{ bytes: Buffer }> {
    const m = await loadManifest(this.ctx, this.repoId, desc.digest);
    if (!m) throw new RegistryError('MANIFEST_UNKNOWN', `referrer ${desc.digest} is listed but not in ${this.repo}`);
    return m;
  }

  blob(desc: Descriptor): Promise<Readable> {
    return readBlob(this.ctx, { digest: desc.digest, size: desc.size });
  }

  async referrers(subject: Digest): Promise<Descriptor[]> {
    // The first page: a policy check examines a bounded number of signatures anyway.
    return (await listReferrers(this.ctx, this.repo, subject, undefined, undefined)).index.manifests as Descriptor[];
  }

  async simpleSignatures(subject: Descriptor): Promise<Buffer[]> {
    return (await new SignatureQueries(this.ctx.meta.db).list(this.repoId, subject.digest, MAX_SIGNATURES_EXAMINED)).map((s) => s.content);
  }
}
