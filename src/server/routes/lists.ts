import { parseDigest } from '../../oci/digest.js';
import { RegistryError } from '../../oci/errors.js';
import type { RepoName } from '../../oci/name.js';
import type { RegistryContext } from '../../registry/context.js';
import { listRepositories, listTags, type Page } from '../../registry/listing.js';
import { listReferrers } from '../../registry/referrers.js';
import { query, type Reply, type Req } from '../http.js';

function pageParams(req: Req): { n: number | undefined; last: string | undefined } {
  const raw = query(req, 'n');
  let n: number | undefined;
  if (raw !== undefined && raw !== '') {
    if (!/^\d+$/.test(raw)) throw new RegistryError('UNSUPPORTED', `invalid n "${raw.slice(0, 50)}": expected a non-negative integer`, { status: 400 });
    n = Number(raw);
  }
  return { n, last: query(req, 'last') };
}

/** RFC 5988 `Link` to the next page, as Docker's and Distribution's clients follow it. */
function sendPage(reply: Reply, path: string, n: number | undefined, page: Page, body: object): Reply {
  if (page.next !== undefined) {
    const params = new URLSearchParams();
    if (n !== undefined) params.set('n', String(n));
    params.set('last', page.next);
    reply.header('Link', `<${path}?${params.toString()}>; rel="next"`);
  }
  return reply.code(200).type('application/json').send(JSON.stringify(body));
}

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
  const { index, filtered } = await listReferrers(ctx, repo, parseDigest(ref), artifactType);
  if (filtered) reply.header('OCI-Filters-Applied', 'artifactType');
  // A Buffer, not a string: Fastify would append a charset to the OCI media type.
  return reply.code(200).header('Content-Type', index.mediaType).send(Buffer.from(JSON.stringify(index)));
}
