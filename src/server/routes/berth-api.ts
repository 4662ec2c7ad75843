import type { FastifyInstance } from 'fastify';
import { RegistryError } from '../../oci/errors.js';
import { parseRepoName, parseTag } from '../../oci/name.js';
import type { RegistryContext } from '../../registry/context.js';
import { historyOf } from '../../registry/history.js';
import { parseManifestRef } from '../../registry/manifests.js';
import { usageReport, whatIfDelete } from '../../registry/usage.js';
import type { Authorizer } from '../access.js';
import { query, type Reply, type Req } from '../http.js';
import { isSignaturesPath, signaturesOf } from './signatures-api.js';

const HISTORY = /^\/berth\/v1\/repositories\/(.+)\/tags\/([^/]+)\/history$/;

/**
 * Berth's own JSON API beside `/v2/`: storage accounting and tag history.
 * Authorised like the Distribution API: a repository needs pull, the
 * registry-wide view needs the catalog.
 */
export function registerBerthApi(app: FastifyInstance, ctx: RegistryContext, auth: Authorizer): void {
  app.get('/berth/v1/usage', (req, reply) => usage(ctx, auth, req, reply));
  app.get('/berth/v1/repositories/*', (req, reply) => (isSignaturesPath(req) ? signaturesOf(ctx, auth, req, reply) : history(ctx, auth, req, reply)));
}

async function usage(ctx: RegistryContext, auth: Authorizer, req: Req, reply: Reply): Promise<Reply> {
  const repoParam = query(req, 'repo');
  const whatIf = query(req, 'whatIfDelete');
  if (repoParam === undefined) {
    if (whatIf !== undefined) throw new RegistryError('UNSUPPORTED', 'whatIfDelete needs repo=NAME as well', { status: 400 });
    await auth.authorize(req, { type: 'catalog' });
    return json(reply, await usageReport(ctx));
  }
  const repo = parseRepoName(repoParam);
  await auth.authorize(req, { type: 'repository', name: repo, actions: ['pull'] });
  if (whatIf !== undefined) return json(reply, await whatIfDelete(ctx, repo, parseManifestRef(whatIf, false)));
  return json(reply, await usageReport(ctx, repo));
}

async function history(ctx: RegistryContext, auth: Authorizer, req: Req, reply: Reply): Promise<Reply> {
  const m = HISTORY.exec(req.url.split('?', 1)[0]!);
  if (!m) throw new RegistryError('UNSUPPORTED', 'expected /berth/v1/repositories/NAME/tags/TAG/history', { status: 404 });
  const repo = parseRepoName(decodeURIComponent(m[1]!));
  const tag = parseTag(decodeURIComponent(m[2]!));
  await auth.authorize(req, { type: 'repository', name: repo, actions: ['pull'] });
  return json(reply, await historyOf(ctx, repo, tag));
}

const json = (reply: Reply, body: unknown): Reply => reply.code(200).type('application/json').send(JSON.stringify(body));
