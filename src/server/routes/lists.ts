import { parseDigest } from '../../oci/digest.js';
import type { RepoName } from '../../oci/name.js';
import type { RegistryContext } from '../../registry/context.js';
import { listRepositories, listTags } from '../../registry/listing.js';
import { listReferrers } from '../../registry/referrers.js';
import { query, type Reply, type Req } from '../http.js';
import { pageParams, sendPage } from './paging.js';

export async function tagsList(ctx: RegistryContext, req: Req, reply: Reply, repo: RepoName): Promise<Reply> {
  const { n, last } = pageParams(req);
  const page = await listTags(ctx, repo, n, last);
  return sendPage(reply, `/v2/${repo}/tags/list`, n, page, { name: repo, tags: page.items });
}

/** The catalog, showing only repositories the caller may pull. */
export async function catalog(ctx: RegistryContext, req: Req, reply: Reply, visible: (repo: string) => Promise<boolean>): Promise<Reply> {
  const { n, last } = pageParams(req);
  const page = await listRepositories(ctx, n, last, visible);
  return sendPage(reply, '/v2/_catalog', n, page, { repositories: page.items });
}

export async function referrers(ctx: RegistryContext, req: Req, reply: Reply, repo: RepoName, ref: string): Promise<Reply> {
  const artifactType = query(req, 'artifactType');
  const subject = parseDigest(ref);
  const { index, filtered, next } = await listReferrers(ctx, repo, subject, artifactType, query(req, 'last'));
  if (filtered) reply.header('OCI-Filters-Applied', 'artifactType');
  if (next !== undefined) {
    const params = new URLSearchParams(artifactType !== undefined ? { artifactType, last: next } : { last: next });
    reply.header('Link', `</v2/${repo}/referrers/${subject}?${params.toString()}>; rel="next"`);
  }
  // A Buffer, not a string: Fastify would append a charset to the OCI media type.
  return reply.code(200).header('Content-Type', index.mediaType).send(Buffer.from(JSON.stringify(index)));
}
