import { parseDigest } from '../../oci/digest.js';
import { parseRepoName, type RepoName } from '../../oci/name.js';
import { mountBlob, mountFromAnywhere } from '../../registry/blobs.js';
import type { RegistryContext } from '../../registry/context.js';
import type { Origin } from '../../registry/events.js';
import {
  appendChunk,
  completeUpload,
  deleteUpload,
  parseUploadId,
  startUpload,
  uploadStatus,
  uploadWhole,
} from '../../registry/uploads.js';
import { RegistryError } from '../../oci/errors.js';
import type { Identity } from '../access.js';
import { notesOf } from '../request-notes.js';
import { body, chunkRange, contentLength, hasBody, query, uploadHeaders, type Reply, type Req } from '../http.js';

/** Decides whether the caller may read the mount source; the auth layer supplies it. */
export type CanRead = (repo: RepoName) => Promise<boolean>;

function created(reply: Reply, repo: RepoName, digest: string): Reply {
  return reply
    .code(201)
    .headers({ Location: `/v2/${repo}/blobs/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': '0' })
    .send();
}

/** `POST /v2/<name>/blobs/uploads/`: mount, monolithic upload, or a new session. */
export async function postUpload(ctx: RegistryContext, req: Req, reply: Reply, repo: RepoName, canRead: CanRead, who: Identity, origin: Origin): Promise<Reply> {
  const owner = { owner: who.subject, client: req.ip };
  const mount = query(req, 'mount');
  const from = query(req, 'from');
  if (mount !== undefined) {
    const digest = parseDigest(mount);
    // A source the caller may not read is treated like a missing blob: fall back to an upload.
    const mounted =
      from === undefined
        ? await mountFromAnywhere(ctx, repo, digest, canRead, origin)
        : (await canRead(parseRepoName(from)))
          ? await mountBlob(ctx, repo, digest, parseRepoName(from), origin)
          : undefined;
    if (mounted) {
      const notes = notesOf(req);
      if (notes) notes.mounted = true;
      return created(reply, repo, digest);
    }
  }
  const digestParam = query(req, 'digest');
  if (digestParam !== undefined) {
    const digest = parseDigest(digestParam);
    await uploadWhole(ctx, repo, digest, body(req), contentLength(req), origin);
    return created(reply, repo, digest);
  }
  drain(req);
  const { id, size } = await startUpload(ctx, repo, owner);
  return reply.code(202).headers(uploadHeaders(repo, id, size)).send();
}

export async function patchUpload(ctx: RegistryContext, req: Req, reply: Reply, repo: RepoName, rawId: string): Promise<Reply> {
  const id = parseUploadId(rawId);
  const { size } = await appendChunk(ctx, repo, id, body(req), chunkRange(req), contentLength(req));
  return reply.code(202).headers(uploadHeaders(repo, id, size)).send();
}

export async function putUpload(ctx: RegistryContext, req: Req, reply: Reply, repo: RepoName, rawId: string, origin: Origin): Promise<Reply> {
  const id = parseUploadId(rawId);
  const digestParam = query(req, 'digest');
  if (digestParam === undefined) {
    await uploadStatus(ctx, repo, id);
    throw new RegistryError('DIGEST_INVALID', 'closing an upload needs ?digest=<algorithm:hex>');
  }
  const digest = parseDigest(digestParam);
  const chunk = hasBody(req) ? body(req) : undefined;
  if (!chunk) drain(req);
  await completeUpload(ctx, repo, id, digest, chunk, chunk ? chunkRange(req, true) : undefined, chunk ? contentLength(req) : undefined, origin);
  return created(reply, repo, digest);
}

export async function getUpload(ctx: RegistryContext, reply: Reply, repo: RepoName, rawId: string): Promise<Reply> {
  const id = parseUploadId(rawId);
  const row = await uploadStatus(ctx, repo, id);
  return reply.code(204).headers(uploadHeaders(repo, id, row.size)).send();
}

export async function cancelUpload(ctx: RegistryContext, reply: Reply, repo: RepoName, rawId: string): Promise<Reply> {
  await deleteUpload(ctx, repo, parseUploadId(rawId));
  return reply.code(204).send();
}

/** Consumes a body the route does not use, so the connection stays usable. */
function drain(req: Req): void {
  req.raw.resume();
}
