import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { isRegistryError, RegistryError } from '../oci/errors.js';
import { parseTag, type RepoName } from '../oci/name.js';
import { readBlob, statBlob } from '../registry/blobs.js';
import type { RegistryContext } from '../registry/context.js';
import { loadManifest, putManifest, resolveTag } from '../registry/manifests.js';
import { uploadWhole } from '../registry/uploads.js';
import { counting, type ImageSink, type ImageSource, type Manifest, type PutBlobOptions } from '../transport/image.js';
import { RepositoryAttachments } from './repository-attachments.js';

/**
 * One repository of this registry as replication reads and writes it: the
 * registry's own functions over store and metadata, never HTTP to itself.
 * Reads skip the pull gates (a signature policy guards clients, not copies
 * of what is already here); writes are pushes by `actor` like any other, so
 * quotas, immutable tags and events apply.
 */
export class RepositoryImages {
  constructor(
    readonly ctx: RegistryContext,
    readonly repo: RepoName,
    /** Recorded in tag history for writes, e.g. `sync:mirror`. */
    readonly actor: string,
  ) {}

  /** Where a tag points now; undefined when it is not there. */
  async tagDigest(tag: string): Promise<Digest | undefined> {
    const repoId = await this.ctx.repoId(this.repo);
    if (repoId === undefined) return undefined;
    return resolveTag(this.ctx, repoId, tag).catch((e: unknown) => {
      if (isRegistryError(e) && e.code === 'MANIFEST_UNKNOWN') return undefined;
      throw e;
    });
  }

  async byTag(tag: string): Promise<Manifest | undefined> {
    const digest = await this.tagDigest(tag);
    return digest && this.byDigest(digest);
  }

  async byDigest(digest: Digest): Promise<Manifest> {
    const stored = await loadManifest(this.ctx, await this.ctx.requireRepo(this.repo), digest);
    if (!stored) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${digest} is not in ${this.repo}`, { detail: { digest } });
    return { bytes: stored.bytes, mediaType: stored.row.mediaType, digest };
  }

  async blob(desc: Descriptor, onBytes?: (n: number) => void, offset = 0): Promise<Readable> {
    const head = await statBlob(this.ctx, this.repo, desc.digest);
    const range = offset > 0 ? { start: offset, end: head.size - 1 } : undefined;
    return counting(await readBlob(this.ctx, head, range), onBytes);
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    return statBlob(this.ctx, this.repo, desc.digest).then(
      () => true,
      (e: unknown) => {
        if (isRegistryError(e) && e.code === 'BLOB_UNKNOWN') return false;
        throw e;
      },
    );
  }

  /** Streams the blob into the store, verified against its digest as any upload is. */
  async putBlob(desc: Descriptor, open: (offset?: number) => Promise<Readable>): Promise<void> {
    await uploadWhole(this.ctx, this.repo, desc.digest, await open(), desc.size, { actor: this.actor });
  }

  async putManifest(m: Manifest, tag?: string): Promise<void> {
    await putManifest(this.ctx, this.repo, tag ? { tag: parseTag(tag) } : { digest: m.digest }, m.bytes, m.mediaType, [], { actor: this.actor });
  }
}

/** An image of this registry (by tag or digest) as a copy source. */
export class RepositorySource implements ImageSource {
  readonly description: string;

  constructor(
    private readonly images: RepositoryImages,
    private readonly reference: { tag: string } | { digest: Digest },
    /** Repositories on the destination registry that may already hold a blob. */
    private readonly mounts: (registry: string, desc: Descriptor) => Promise<string[]> = async () => [],
  ) {
    this.description = 'tag' in reference ? `${images.repo}:${reference.tag}` : `${images.repo}@${reference.digest}`;
  }

  async root(): Promise<Manifest> {
    if ('digest' in this.reference) return this.images.byDigest(this.reference.digest);
    const m = await this.images.byTag(this.reference.tag);
    if (!m) throw new RegistryError('MANIFEST_UNKNOWN', `tag ${this.description} is not in this registry`);
    return m;
  }

  manifest(desc: Descriptor): Promise<Manifest> {
    return this.images.byDigest(desc.digest);
  }

  blob(desc: Descriptor, onBytes?: (n: number) => void, offset?: number): Promise<Readable> {
    return this.images.blob(desc, onBytes, offset);
  }

  mountCandidates(registry: string, desc: Descriptor): Promise<string[]> {
    return this.mounts(registry, desc);
  }

  attachments(): RepositoryAttachments {
    return new RepositoryAttachments(this.images);
  }

  async close(): Promise<void> {}
}

/** A repository of this registry as a copy destination; the root goes under `tag`, children by digest. */
export class RepositorySink implements ImageSink {
  readonly description: string;
  readonly acceptsIndex = true;

  constructor(
    private readonly images: RepositoryImages,
    private readonly tag: string,
  ) {
    this.description = `${images.repo}:${tag}`;
  }

  hasBlob(desc: Descriptor): Promise<boolean> {
    return this.images.hasBlob(desc);
  }

  async putBlob(desc: Descriptor, open: (offset?: number) => Promise<Readable>, opts: PutBlobOptions = {}): Promise<'uploaded'> {
    await this.images.putBlob(desc, async (offset) => counting(await open(offset), opts.onBytes));
    return 'uploaded';
  }

  putManifest(m: Manifest, root: boolean): Promise<void> {
    return this.images.putManifest(m, root ? this.tag : undefined);
  }

  async commit(): Promise<void> {}
  async abort(): Promise<void> {}

  attachments(): RepositoryAttachments {
    return new RepositoryAttachments(this.images);
  }
}
