import type { RepoName } from '../../oci/name.js';
import type { RegistryContext } from '../../registry/context.js';
import type { Origin } from '../../registry/events.js';
import { deleteManifest, getManifest, parseManifestRef, putManifest, readManifestBody } from '../../registry/manifests.js';
import { body, contentLength, header, queryAll, sendBody, type Reply, type Req } from '../http.js';

export async function fetchManifest(ctx: RegistryContext, req: Req, reply: Reply, repo: RepoName, ref: string, origin: Origin | undefined): Promise<Reply> {
  const head = req.method === 'HEAD';
  const m = await getManifest(ctx, repo, parseManifestRef(ref, false), acceptList(header(req, 'accept')), head, origin);
  reply.code(200).headers({
    'Content-Type': m.row.mediaType,
    'Content-Length': String(m.row.size),
    'Docker-Content-Digest': m.row.digest,
    ETag: `"${m.row.digest}"`,
  });
  if (head) return reply.send();
  const body = await m.body();
  return Buffer.isBuffer(body) ? reply.send(body) : sendBody(reply, body);
}

export async function storeManifest(ctx: RegistryContext, req: Req, reply: Reply, repo: RepoName, ref: string, origin: Origin): Promise<Reply> {
  const parsed = parseManifestRef(ref, true);
  const declared = contentLength(req);
  const result = await ctx.manifestMemory.use(Math.min(declared ?? Infinity, ctx.limits.maxManifestBytes), async () => {
    const bytes = await readManifestBody(ctx, body(req), declared);
    return putManifest(ctx, repo, parsed, bytes, header(req, 'content-type'), queryAll(req, 'tag'), origin);
  });
  reply.code(201).headers({
    Location: `/v2/${repo}/manifests/${result.digest}`,
    'Docker-Content-Digest': result.digest,
    'Content-Length': '0',
  });
  if (result.subject) reply.header('OCI-Subject', result.subject);
  if ('digest' in parsed && result.tags.length) reply.header('OCI-Tag', result.tags);
  return reply.send();
}

export async function removeManifest(ctx: RegistryContext, reply: Reply, repo: RepoName, ref: string, origin: Origin): Promise<Reply> {
  await deleteManifest(ctx, repo, parseManifestRef(ref, false), origin);
  return reply.code(202).header('Content-Length', '0').send();
}

/** The media types of an `Accept` header (possibly repeated, comma-separated), without parameters. */
function acceptList(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((s) => s.split(';', 1)[0]!.trim().toLowerCase())
    .filter((s) => s.length > 0);
}
