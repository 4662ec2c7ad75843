import { parseDigest } from '../../oci/digest.js';
import { RegistryError } from '../../oci/errors.js';
import type { RepoName } from '../../oci/name.js';
import { blobPulled, deleteBlob, readBlob, statBlob } from '../../registry/blobs.js';
import type { RegistryContext } from '../../registry/context.js';
import type { Origin } from '../../registry/events.js';
import { byteRange, sendBody, type Reply, type Req } from '../http.js';

export async function getBlob(ctx: RegistryContext, req: Req, reply: Reply, repo: RepoName, ref: string, origin: Origin | undefined): Promise<Reply> {
  const digest = parseDigest(ref);
  const blob = await statBlob(ctx, repo, digest);
  if (origin) blobPulled(ctx, repo, blob, origin);
  const { size } = blob;
  reply.headers({
    'Docker-Content-Digest': digest,
    ETag: `"${digest}"`,
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'max-age=31536000, immutable',
    'Content-Type': 'application/octet-stream',
  });
  const range = byteRange(req, size);
  if (range.kind === 'unsatisfiable') {
    throw new RegistryError('SIZE_INVALID', `range not satisfiable for a blob of ${size} bytes`, {
      status: 416,
      headers: { 'Content-Range': `bytes */${size}` },
    });
  }
  const head = req.method === 'HEAD';
  if (!head && range.kind === 'full') {
    const redirect = await ctx.store.redirectUrl(digest);
    if (redirect) return reply.code(307).header('Location', redirect).send();
  }
  if (range.kind === 'partial') {
    const { start, end } = range.range;
    reply.code(206).header('Content-Range', `bytes ${start}-${end}/${size}`).header('Content-Length', String(end - start + 1));
    return head ? reply.send() : sendBody(reply, await readBlob(ctx, blob, range.range));
  }
  reply.code(200).header('Content-Length', String(size));
  return head ? reply.send() : sendBody(reply, await readBlob(ctx, blob));
}

export async function removeBlob(ctx: RegistryContext, reply: Reply, repo: RepoName, ref: string, origin: Origin): Promise<Reply> {
  await deleteBlob(ctx, repo, parseDigest(ref), origin);
  return reply.code(202).header('Content-Length', '0').send();
}
