import type { FastifyInstance } from 'fastify';
import { parseDigest } from '../../oci/digest.js';
import { RegistryError } from '../../oci/errors.js';
import { parseRepoName, parseTag, type RepoName } from '../../oci/name.js';
import type { RegistryContext } from '../../registry/context.js';
import { historyOf } from '../../registry/history.js';
import { listRepositories } from '../../registry/listing.js';
import type { WorkerPool } from '../../workers/pool.js';
import type { PullThroughCache } from '../../proxy/cache.js';
import type { Authorizer } from '../access.js';
import type { AuditLog } from '../auth/audit.js';
import type { Health } from '../health.js';
import { query, type Reply, type Req } from '../http.js';
import { changesState, refuseCrossOrigin } from '../same-origin.js';
import { imagePage, json, manifestContent, repositoryHistory, repositoryList, sharing, tagPage } from './browse-api.js';
import { remove } from './delete-api.js';
import { gcDryRun, operations } from './operator-api.js';
import { pageParams, sendPage } from './paging.js';
import { scanOf } from './scan-api.js';
import { signaturesOf } from './signatures-api.js';

/** Repositories per usage page unless `n` says otherwise: each costs a few aggregate queries. */
const USAGE_PAGE = 100;

export interface BerthApiDeps {
  ctx: RegistryContext;
  auth: Authorizer;
  workers: WorkerPool;
  health: Health;
  /** Deletes are audited like those through `/v2/` (absent without `auth:`). */
  audit?: AuditLog;
  proxy?: PullThroughCache;
}

type RepositoryHandler = (deps: BerthApiDeps, req: Req, reply: Reply, repo: RepoName, m: RegExpExecArray) => Promise<Reply>;

const digestOf = (m: RegExpExecArray) => parseDigest(decodeURIComponent(m[2]!));
const tagOf = (m: RegExpExecArray) => parseTag(decodeURIComponent(m[2]!));

/**
 * Resources under `/berth/v1/repositories/NAME/`, matched from the end as
 * `/v2/` paths are (names contain slashes); the first match wins.
 */
const REPOSITORY_ROUTES: [method: string, path: RegExp, handle: RepositoryHandler][] = [
  ['GET', /^(.+)\/tags\/([^/]+)\/history$/, (d, req, reply, repo, m) => tagHistory(d, req, reply, repo, tagOf(m))],
  ['GET', /^(.+)\/tags$/, (d, req, reply, repo) => tagPage(d, req, reply, repo)],
  ['GET', /^(.+)\/tag-history$/, (d, req, reply, repo) => repositoryHistory(d, req, reply, repo)],
  ['GET', /^(.+)\/manifests\/([^/]+)\/signatures$/, (d, req, reply, repo, m) => signaturesOf(d.ctx, d.auth, req, reply, repo, digestOf(m))],
  ['GET', /^(.+)\/manifests\/([^/]+)\/scan$/, (d, req, reply, repo, m) => scanOf(d.ctx, d.auth, req, reply, repo, digestOf(m))],
  ['GET', /^(.+)\/manifests\/([^/]+)\/content$/, (d, req, reply, repo, m) => manifestContent(d, req, reply, repo, digestOf(m))],
  ['GET', /^(.+)\/manifests\/([^/]+)$/, (d, req, reply, repo, m) => imagePage(d, req, reply, repo, digestOf(m))],
  ['DELETE', /^(.+)\/tags\/([^/]+)$/, (d, req, reply, repo, m) => remove(d, req, reply, repo, { tag: tagOf(m) })],
  ['DELETE', /^(.+)\/manifests\/([^/]+)$/, (d, req, reply, repo, m) => remove(d, req, reply, repo, { digest: digestOf(m) })],
];

/**
 * Berth's own JSON API beside `/v2/` (docs/UI.md lists it): storage
 * accounting, tag history, what the web UI shows, and its few actions.
 * Authorised like the Distribution API, and never more revealing: a
 * repository needs pull; its shared and unique bytes need `usage` (they tell
 * whether other repositories hold the same content); listings show only
 * repositories the caller may pull, and registry-wide figures and operations
 * only to callers with `usage` everywhere. A state-changing request from a
 * browser must come from the registry's own pages. Work that grows with the
 * registry runs in worker threads.
 */
export function registerBerthApi(app: FastifyInstance, deps: BerthApiDeps): void {
  // A callback hook: it runs for every request, /v2/ ones included.
  app.addHook('onRequest', (req, _reply, done) => {
    if (!req.url.startsWith('/berth/v1/') || !changesState(req)) return done();
    try {
      refuseCrossOrigin(req);
      done();
    } catch (err) {
      done(err as Error);
    }
  });
  app.get('/berth/v1/usage', (req, reply) => usage(deps, req, reply));
  app.get('/berth/v1/repositories', (req, reply) => repositoryList(deps, req, reply));
  app.get('/berth/v1/sharing', (req, reply) => sharing(deps, req, reply));
  app.get('/berth/v1/operations', (req, reply) => operations(deps, req, reply));
  app.post('/berth/v1/gc/dry-run', (req, reply) => gcDryRun(deps, req, reply));
  app.route({ method: ['GET', 'DELETE'], url: '/berth/v1/repositories/*', handler: (req, reply) => repositoryResource(deps, req, reply) });
}

async function repositoryResource(deps: BerthApiDeps, req: Req, reply: Reply): Promise<Reply> {
  const path = req.url.split('?', 1)[0]!.slice('/berth/v1/repositories/'.length);
  for (const [method, re, handle] of REPOSITORY_ROUTES) {
    const m = method === req.method ? re.exec(path) : null;
    if (m) return handle(deps, req, reply, parseRepoName(m[1]!), m);
  }
  throw new RegistryError('UNSUPPORTED', `no such endpoint: ${req.method} /berth/v1/repositories/${path.slice(0, 200)}`, { status: 404 });
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

async function tagHistory({ ctx, auth }: BerthApiDeps, req: Req, reply: Reply, repo: RepoName, tag: string): Promise<Reply> {
  await auth.authorize(req, { type: 'repository', name: repo, actions: ['pull'] });
  return json(reply, await historyOf(ctx, repo, tag));
}
