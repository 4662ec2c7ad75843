import { randomUUID, type Hash } from 'node:crypto';
import { finished, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { algorithmOf, hexOf, type Algorithm, type Digest } from '../oci/digest.js';
import { RegistryError } from '../oci/errors.js';
import type { RepoName } from '../oci/name.js';
import { ClaimLost, type UploadOrigin, type UploadRow } from '../meta/metadata.js';
import type { UploadId } from '../store/blob-store.js';
import type { RegistryContext } from './context.js';
import { HashStates } from './hash-states.js';
import { checkQuota } from './quota.js';
import { removeUploadLeftovers } from './leftovers.js';
import { blobEvent } from './blobs.js';
import type { Origin } from './events.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Uploads are hashed with sha256 while they stream; a sha512 close rebuilds from the stored bytes. */
const STREAMING_ALGORITHM: Algorithm = 'sha256';
/**
 * How long a chunk write's claim on its session lasts unless renewed (it is,
 * every third of this, while the chunk streams). A replica killed mid-chunk
 * blocks that one session for at most this long; the client gets 416 meanwhile.
 */
const WRITE_CLAIM_MS = 10_000;

export interface UploadStatus {
  id: UploadId;
  size: number;
}

/** A chunk's declared position, from `Content-Range: start-end` (inclusive). */
export interface ChunkRange {
  start: number;
  end: number;
}

export function parseUploadId(value: string): UploadId {
  if (!UUID_RE.test(value)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', 'upload session not found');
  return value as UploadId;
}

/**
 * Opens a session, refusing (429) one more than `maxUploadSessions` per user,
 * or per address for anonymous clients: every open session holds storage
 * until it completes or expires. Concurrent requests may overshoot the cap by
 * as many as arrive at once.
 */
export async function startUpload(ctx: RegistryContext, repo: RepoName, origin: UploadOrigin): Promise<UploadStatus> {
  const open = await ctx.meta.openUploads(origin);
  if (open >= ctx.limits.maxUploadSessions) {
    const who = origin.owner ?? `address ${origin.client}`;
    throw new RegistryError('TOOMANYREQUESTS', `${who} has ${open} upload sessions open (the limit is ${ctx.limits.maxUploadSessions}); finish or cancel (DELETE) some, or wait for them to expire`, {
      headers: { 'Retry-After': '60' },
    });
  }
  const id = randomUUID() as UploadId;
  await ctx.store.startUpload(id);
  await ctx.withRepo(repo, (repoId) => ctx.meta.createUpload(id, repoId, ctx.now(), origin));
  return { id, size: 0 };
}

/** Looks up an upload, refusing one that belongs to another repository than the one named. */
export async function uploadStatus(ctx: RegistryContext, repo: RepoName, id: UploadId): Promise<UploadRow> {
  const repoId = await ctx.repoId(repo);
  const row = await ctx.meta.upload(id);
  if (!row || row.repositoryId !== repoId) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', 'upload session not found', { detail: { uuid: id } });
  return row;
}

/**
 * Appends a chunk at the current end of the upload. A chunk that does not
 * start there gets 416 with the current range, so the client can resume.
 */
export async function appendChunk(
  ctx: RegistryContext,
  repo: RepoName,
  id: UploadId,
  body: Readable,
  range: ChunkRange | undefined,
  declaredLength: number | undefined,
): Promise<UploadStatus> {
  return ctx.uploadLocks.run(id, async () => {
    const row = await uploadStatus(ctx, repo, id);
    return { id, size: await writeAt(ctx, row, body, range, declaredLength) };
  });
}

/** Finishes an upload (optionally with a last chunk), verifies the digest and makes the blob visible. */
export async function completeUpload(
  ctx: RegistryContext,
  repo: RepoName,
  id: UploadId,
  digest: Digest,
  body: Readable | undefined,
  range: ChunkRange | undefined,
  declaredLength: number | undefined,
  origin: Origin,
  /** Called once the bytes proved their digest, before they are made durable (a pull-through cache lets its client finish then). */
  verified?: () => void,
): Promise<{ digest: Digest; size: number }> {
  return ctx.uploadLocks.run(id, async () => {
    const row = await uploadStatus(ctx, repo, id);
    if (body && row.size === 0) {
      // The whole blob in the closing PUT (docker, containerd): it goes to a file of its own, so the session
      // is never claimed or advanced; the commit ends it.
      const length = expectedLength(row.size, range, declaredLength);
      ctx.hashStates.drop(id);
      return commitWhole(ctx, repo, digest, hashedAs(body, digest), length, origin, verified, id).catch(async (e: unknown) => {
        await cancelUpload(ctx, id);
        throw e;
      });
    }
    const size = body ? await writeAt(ctx, row, body, range, declaredLength) : row.size;
    const actual = await finalDigest(ctx, id, algorithmOf(digest), size);
    if (actual !== hexOf(digest)) {
      await cancelUpload(ctx, id);
      throw digestMismatch(digest, actual);
    }
    await checkQuota(ctx, repo, digest, size).catch(async (e: unknown) => {
      await cancelUpload(ctx, id);
      throw e;
    });
    verified?.();
    await ctx.store.sealUpload(id, size);
    // The bytes move into place after the blob's row is claimed: see commitBlob and src/meta/gc-queries.ts.
    const hook = ctx.events.hook('blob', () => [blobEvent('push', repo, { digest, size }, origin, ctx.now())]);
    await ctx.meta.commitBlob(row.repositoryId, digest, size, ctx.now(), id, () => ctx.store.commitUpload(id, size, digest), hook).catch(async (e: unknown) => {
      // The session's bytes may have moved under the digest already: it cannot be completed twice.
      await cancelUpload(ctx, id);
      throw claimLost(e, digest);
    });
    return { digest, size };
  });
}

/**
 * A monolithic upload: `POST ?digest=` with the whole blob as the body. It
 * lives for one request, so it has no session row: its bytes are a file no
 * row names until the commit links the blob, and what a crash leaves is
 * removed as a leftover (src/registry/leftovers.ts).
 */
export async function uploadWhole(
  ctx: RegistryContext,
  repo: RepoName,
  digest: Digest,
  body: Readable | HashedBody,
  declaredLength: number | undefined,
  origin: Origin,
  verified?: () => void,
): Promise<{ digest: Digest; size: number }> {
  const hashed = body instanceof Readable ? hashedAs(body, digest) : body;
  if (declaredLength !== undefined) {
    // Refused before a byte is stored; the check before the commit still covers bodies of unknown length.
    await checkQuota(ctx, repo, digest, declaredLength).catch((e: unknown) => {
      hashed.bytes.resume();
      throw e;
    });
  }
  return commitWhole(ctx, repo, digest, hashed, declaredLength, origin, verified);
}

/**
 * Streams a whole blob into a staged upload of its own, hashed with the
 * digest's algorithm, vets it before the fsync, and commits it; `session`,
 * if any, is ended by the same transaction that links the blob.
 */
async function commitWhole(
  ctx: RegistryContext,
  repo: RepoName,
  digest: Digest,
  { bytes, hash }: HashedBody,
  declaredLength: number | undefined,
  origin: Origin,
  verified: (() => void) | undefined,
  session?: UploadId,
): Promise<{ digest: Digest; size: number }> {
  const staged = randomUUID() as UploadId;
  const size = await ctx.store.stageUpload(staged, bytes, async (written) => {
    if (declaredLength !== undefined && written !== declaredLength) throw shortBody(written, declaredLength);
    const actual = hash.digest('hex');
    if (actual !== hexOf(digest)) throw digestMismatch(digest, actual);
    await checkQuota(ctx, repo, digest, written);
    verified?.();
  });
  const hook = ctx.events.hook('blob', () => [blobEvent('push', repo, { digest, size }, origin, ctx.now())]);
  let moved = false;
  const move = async () => {
    // A retry after a lost repository row (withRepo) finds the bytes in place already.
    if (moved) return;
    await ctx.store.commitUpload(staged, size, digest);
    moved = true;
  };
  try {
    await ctx.withRepo(repo, (repoId) => ctx.meta.commitBlob(repoId, digest, size, ctx.now(), session, move, hook));
  } catch (e) {
    if (!moved) await ctx.store.abortUpload(staged).catch(() => {});
    throw claimLost(e, digest);
  }
  // A session's own file exists only if a chunk (an empty one) was written to it.
  if (session) await ctx.store.abortUpload(session);
  return { digest, size };
}

export async function deleteUpload(ctx: RegistryContext, repo: RepoName, id: UploadId): Promise<void> {
  await uploadStatus(ctx, repo, id);
  await cancelUpload(ctx, id);
}

/**
 * Removes uploads idle for longer than the expiry, and what crashes left in
 * the uploads area; safe to run on any replica at any time.
 */
export async function purgeStaleUploads(ctx: RegistryContext): Promise<number> {
  const ids = await ctx.meta.staleUploads(ctx.now() - ctx.limits.uploadExpiryMs, 1000);
  for (const id of ids) {
    await ctx.uploadLocks.run(id, async () => {
      ctx.hashStates.drop(id);
      if (await ctx.meta.deleteUpload(id)) await ctx.store.abortUpload(id);
    });
  }
  return ids.length + (await removeUploadLeftovers(ctx));
}

async function cancelUpload(ctx: RegistryContext, id: UploadId): Promise<void> {
  ctx.hashStates.drop(id);
  await ctx.meta.deleteUpload(id);
  await ctx.store.abortUpload(id);
}

async function writeAt(
  ctx: RegistryContext,
  row: UploadRow,
  body: Readable,
  range: ChunkRange | undefined,
  declaredLength: number | undefined,
): Promise<number> {
  declaredLength = expectedLength(row.size, range, declaredLength);
  // Claim the session before touching its bytes: a second writer on another
  // replica must not overwrite what the first one is writing (and hashing).
  const writer = randomUUID();
  if (!(await ctx.meta.claimUpload(row.id, row.size, writer, ctx.now(), ctx.now() + WRITE_CLAIM_MS))) {
    throw outOfOrder(row.size, 'another request is writing to this upload');
  }
  const renew = setInterval(() => {
    ctx.meta.renewUploadClaim(row.id, writer, ctx.now() + WRITE_CLAIM_MS).catch(() => {});
  }, WRITE_CLAIM_MS / 3);
  renew.unref();
  let advanced = false;
  try {
    const hash = ctx.hashStates.take(row.id, STREAMING_ALGORITHM, row.size) ?? (await rebuildHash(ctx, row.id, STREAMING_ALGORITHM, row.size));
    const written = await ctx.store.writeUpload(row.id, row.size, hashing(body, hash).bytes);
    if (declaredLength !== undefined && written !== declaredLength) throw shortBody(written, declaredLength);
    const size = row.size + written;
    advanced = await ctx.meta.advanceUpload(row.id, row.size, size, ctx.now(), writer);
    if (!advanced) throw outOfOrder(row.size, 'another request advanced this upload first');
    ctx.hashStates.put(row.id, STREAMING_ALGORITHM, size, hash);
    return size;
  } finally {
    clearInterval(renew);
    if (!advanced) await ctx.meta.releaseUploadClaim(row.id, writer).catch(() => {});
  }
}

async function finalDigest(ctx: RegistryContext, id: UploadId, algorithm: Algorithm, size: number): Promise<string> {
  const hash = ctx.hashStates.take(id, algorithm, size) ?? (await rebuildHash(ctx, id, algorithm, size));
  return hash.digest('hex');
}

/** Rehashes what the store holds: the path for a replica or restart that never saw the earlier chunks. */
async function rebuildHash(ctx: RegistryContext, id: UploadId, algorithm: Algorithm, size: number): Promise<Hash> {
  const hash = HashStates.fresh(algorithm);
  if (size > 0) {
    await pipeline(await ctx.store.readUpload(id, size), async function (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) hash.update(chunk);
    });
  }
  return hash;
}

/** Buffered as deep as a store's write buffer: a shallower stage pauses the socket after every chunk it reads. */
const HASHING_BUFFER = 1 << 20;

/**
 * A blob's bytes on their way to the store and the hash they were fed to on
 * the way: whoever hands them over has hashed each chunk before it comes out
 * of `bytes` (a pull-through cache hashes in the loop that also feeds its
 * client), so the hash is complete when the store has read to the end.
 */
export interface HashedBody {
  bytes: Readable;
  hash: Hash;
}

/** The body hashed on its way with a fresh hash of the digest's algorithm. */
function hashedAs(body: Readable, digest: Digest): HashedBody {
  return hashing(body, HashStates.fresh(algorithmOf(digest)));
}

function hashing(body: Readable, hash: Hash): HashedBody {
  const t = new Transform({
    highWaterMark: HASHING_BUFFER,
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  // A body that breaks off destroys `t`, so a truncated request rejects the
  // store's write instead of looking complete.
  finished(body, (err) => {
    if (err) t.destroy(err);
  });
  // A store that fails (a full disk) must not take the connection down with
  // it: the rest of the body is read and dropped, so the client gets the
  // error response instead of a reset.
  t.on('error', () => {
    body.unpipe(t);
    body.resume();
  });
  body.pipe(t);
  return { bytes: t, hash };
}

/** The length a chunk must have: its Content-Range's, which must start where the upload ends and agree with Content-Length. */
function expectedLength(size: number, range: ChunkRange | undefined, declaredLength: number | undefined): number | undefined {
  if (!range) return declaredLength;
  if (range.start !== size) throw outOfOrder(size, `chunk starts at ${range.start}, expected ${size}`);
  const rangeLength = range.end - range.start + 1;
  if (declaredLength !== undefined && declaredLength !== rangeLength) {
    throw outOfOrder(size, `Content-Range covers ${rangeLength} bytes but Content-Length is ${declaredLength}`);
  }
  return rangeLength;
}

function shortBody(written: number, declaredLength: number): RegistryError {
  return new RegistryError('BLOB_UPLOAD_INVALID', `chunk ended after ${written} of ${declaredLength} bytes`, {
    detail: { received: written, expected: declaredLength },
  });
}

function digestMismatch(digest: Digest, actual: string): RegistryError {
  return new RegistryError('DIGEST_INVALID', `uploaded content does not match digest ${digest}`, {
    detail: { expected: digest, actual: `${algorithmOf(digest)}:${actual}` },
  });
}

/** A commit that lost its claim to GC is the client's to retry; anything else is passed on. */
function claimLost(e: unknown, digest: Digest): unknown {
  return e instanceof ClaimLost ? new RegistryError('BLOB_UPLOAD_INVALID', `${e.message}; push it again`, { detail: { digest } }) : e;
}

function outOfOrder(size: number, message: string): RegistryError {
  return new RegistryError('BLOB_UPLOAD_INVALID', message, {
    status: 416,
    headers: { Range: `0-${Math.max(size - 1, 0)}` },
  });
}
