import type { FastifyInstance } from 'fastify';
import { RegistryError } from '../../oci/errors.js';
import { parseRepoName, parseTag } from '../../oci/name.js';
import type { RegistryContext } from '../../registry/context.js';
import { historyOf } from '../../registry/history.js';
import { listRepositories } from '../../registry/listing.js';
import type { WorkerPool } from '../../workers/pool.js';
import type { PullThroughCache } from '../../proxy/cache.js';
import type { Authorizer } from '../access.js';
import { query, type Reply, type Req } from '../http.js';
import { pageParams, sendPage } from './paging.js';
import { isSignaturesPath, signaturesOf } from './signatures-api.js';

/** Repositories per usage page unless `n` says otherwise: each costs a few aggregate queries. */
const USAGE_PAGE = 100;
const HISTORY = /^\/berth\/v1\/repositories\/(.+)\/tags\/([^/]+)\/history$/;

export interface BerthApiDeps {
  ctx: RegistryContext;
  auth: Authorizer;
  workers: WorkerPool;
  proxy?: PullThroughCache;
}

/**
 * Berth's own JSON API beside `/v2/`: storage accounting and tag history.
 * Authorised like the Distribution API, and never more revealing: a
 * repository needs pull; its shared and unique bytes need `usage` (they tell
 * whether other repositories hold the same content); the registry-wide list
 * shows only repositories the caller may pull, and the registry's totals only
 * to callers with `usage` everywhere. Accounting runs in worker threads.
 */
export function registerBerthApi(app: FastifyInstance, deps: BerthApiDeps): void {
  app.get('/berth/v1/usage', (req, reply) => usage(deps, req, reply));
  app.get('/berth/v1/repositories/*', (req, reply) => (isSignaturesPath(req) ? signaturesOf(deps.ctx, deps.auth, req, reply) : history(deps, req, reply)));
}

async function usage({ ctx, auth, workers, proxy }: BerthApiDeps, req: Req, reply: Reply): Promise<Reply> {
  const repoParam = query(req, 'repo');
  const whatIf = query(req, 'whatIfDelete');
  if (repoParam === undefined) {
    if (whatIf !== undefined) throw new RegistryError('UNSUPPORTED', 'whatIfDelete needs repo=NAME as well', { status: 400 });
    const who = await auth.authorize(req, { type: 'catalog' });
    const { n = USAGE_PAGE, last } = pageParams(req);
    const page = await listRepositories(ctx, n, last, (name) => auth.allows(who, name, 'pull'));
    const repos = await Promise.all(page.items.map(async (name) => ({ name, figures: await auth.allows(who, name, 'usage') })));
    const totals = last === undefined && (await auth.audits(who));
    const report = await workers.run('usagePage', { repos, totals });
    return sendPage(reply, '/berth/v1/usage', n, page, totals && proxy ? { ...report, cache: await cacheReport(proxy, workers) } : report);
  }
  const repo = parseRepoName(repoParam);
  if (whatIf !== undefined) {
    await auth.authorize(req, { type: 'repository', name: repo, actions: ['pull', 'usage'] });
    return json(reply, await workers.run('whatIfDelete', { repo, reference: whatIf }));
  }
  const who = await auth.authorize(req, { type: 'repository', name: repo, actions: ['pull'] });
  return json(reply, await workers.run('repositoryUsage', { repo, figures: await auth.allows(who, repo, 'usage') }));
}

/** Per upstream: what the cache holds and the requests it answered without asking upstream (this replica's latest counts included). */
async function cacheReport(proxy: PullThroughCache, workers: WorkerPool) {
  await proxy.flushCounts();
  return workers.run('cacheUsage', { namespaces: proxy.upstreams.map((u) => u.namespace) });
}

async function history({ ctx, auth }: BerthApiDeps, req: Req, reply: Reply): Promise<Reply> {
  const m = HISTORY.exec(req.url.split('?', 1)[0]!);
  if (!m) throw new RegistryError('UNSUPPORTED', 'expected /berth/v1/repositories/NAME/tags/TAG/history', { status: 404 });
  const repo = parseRepoName(decodeURIComponent(m[1]!));
  const tag = parseTag(decodeURIComponent(m[2]!));
  await auth.authorize(req, { type: 'repository', name: repo, actions: ['pull'] });
  return json(reply, await historyOf(ctx, repo, tag));
}

const json = (reply: Reply, body: unknown): Reply => reply.code(200).type('application/json').send(JSON.stringify(body));
