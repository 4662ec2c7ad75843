import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.js';
import { RegistryError } from '../oci/errors.js';
import type { RepoName } from '../oci/name.js';
import { BlobNotFoundError, BlobSizeMismatchError, type ByteRange } from '../store/blob-store.js';
import type { RegistryContext } from './context.js';
import { checkQuota } from './quota.js';
import { BLOB_MEDIA_TYPE, originOf, type Origin, type RegistryEvent } from './events.js';

export interface BlobHead {
  digest: Digest;
  size: number;
}

/** A blob is visible in a repository only if linked there (pushed, mounted, or a manifest of it). */
export async function statBlob(ctx: RegistryContext, repo: RepoName, digest: Digest): Promise<BlobHead> {
  const repoId = await ctx.repoId(repo);
  if (repoId !== undefined) {
    const link = await ctx.meta.blobLink(repoId, digest);
    // Refreshing the access time is what protects this blob from GC until the manifest naming it arrives.
    // A link older than the touch interval may be swept between our read and our touch: then the touch
    // updates nothing and the blob is reported missing, never "200" for a link that is already gone.
    const now = ctx.now();
    if (link && (now - link.lastAccessAt <= ctx.policy.blobTouchIntervalMs || (await ctx.meta.touchBlobLink(repoId, digest, now)))) {
      return { digest, size: link.size };
    }
    const manifest = await ctx.meta.manifest(repoId, digest);
    if (manifest) return { digest, size: manifest.size };
  }
  throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is not in repository "${repo}"`, { detail: { digest } });
}

/**
 * Exactly the indexed bytes of a blob (invariant 1). Bytes missing or of
 * another length in the store are refused before anything is sent, and the
 * blob is noted for `berth fsck`.
 */
export async function readBlob(ctx: RegistryContext, blob: BlobHead, range?: ByteRange): Promise<Readable> {
  try {
    return await ctx.store.read(blob.digest, range, blob.size);
  } catch (e) {
    if (e instanceof BlobNotFoundError) {
      await ctx.meta.noteSuspect(blob.digest, 'missing from storage', ctx.now());
      throw new RegistryError('BLOB_UNKNOWN', `blob ${blob.digest} is indexed but missing from storage; the operator should run berth fsck`, { detail: { digest: blob.digest } });
    }
    if (e instanceof BlobSizeMismatchError) {
      await ctx.meta.noteSuspect(blob.digest, e.message, ctx.now());
      throw new RegistryError('UNKNOWN', `blob ${blob.digest} is damaged in storage and was not served; the operator should run berth fsck`, { detail: { digest: blob.digest } });
    }
    throw e;
  }
}

/** A blob event: Distribution's shape (no media type of its own, the blob's size). */
export function blobEvent(action: RegistryEvent['action'], repo: RepoName, blob: BlobHead, origin: Origin, at: number): RegistryEvent {
  return { action, target: 'blob', repository: repo, digest: blob.digest, mediaType: BLOB_MEDIA_TYPE, size: blob.size, artifactType: null, subject: null, ...originOf(origin), at };
}

/** Tells pull listeners a blob was served (GET or HEAD, as Distribution counts them). */
export function blobPulled(ctx: RegistryContext, repo: RepoName, blob: BlobHead, origin: Origin): void {
  if (ctx.events.pullsWanted) ctx.events.pulled(blobEvent('pull', repo, blob, origin, ctx.now()));
}

/** Unlinks a blob from one repository; bytes are reclaimed by GC once nothing links them. */
export async function deleteBlob(ctx: RegistryContext, repo: RepoName, digest: Digest, origin: Origin): Promise<void> {
  const repoId = await ctx.repoId(repo);
  const hook = ctx.events.hook('blob', (size: number) => [blobEvent('delete', repo, { digest, size }, origin, ctx.now())]);
  if (repoId === undefined || !(await ctx.meta.unlinkBlob(repoId, digest, hook))) {
    throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is not in repository "${repo}"`, { detail: { digest } });
  }
}

/**
 * A mount without `from` (OCI 1.1): mounts from the first repository holding
 * the blob that the caller may read, so knowing a digest never grants access.
 */
export async function mountFromAnywhere(
  ctx: RegistryContext,
  repo: RepoName,
  digest: Digest,
  canRead: (repo: RepoName) => Promise<boolean>,
  origin: Origin,
): Promise<BlobHead | undefined> {
  for (const source of await ctx.meta.repositoriesLinking(digest, 50)) {
    if (await canRead(source)) return mountBlob(ctx, repo, digest, source, origin);
  }
  return undefined;
}

/**
 * Cross-repository mount. Resolves to the blob when `from` holds it; to
 * undefined when it cannot be mounted, so the caller opens a normal upload.
 * A mount that would take the namespace over its quota is refused (DENIED),
 * as an upload of the same blob would be.
 */
export async function mountBlob(ctx: RegistryContext, repo: RepoName, digest: Digest, from: RepoName, origin: Origin): Promise<BlobHead | undefined> {
  const fromId = await ctx.repoId(from);
  const source = fromId === undefined ? undefined : await ctx.meta.blobLink(fromId, digest);
  if (!source) return undefined;
  // A mount stores nothing new, but it makes the namespace hold the blob: it counts like an upload.
  await checkQuota(ctx, repo, digest, source.size);
  const hook = ctx.events.hook('blob', (size: number) => [{ ...blobEvent('mount', repo, { digest, size }, origin, ctx.now()), fromRepository: from }]);
  const size = await ctx.withRepo(repo, (repoId) => ctx.meta.mountBlob(repoId, digest, ctx.now(), hook));
  return size === undefined ? undefined : { digest, size };
}
