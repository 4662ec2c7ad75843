import { RegistryError } from '../../oci/errors.js';
import { parseRepoName, type RepoName } from '../../oci/name.js';
import type { RegistryContext } from '../../registry/context.js';
import type { Action, Authorizer, Identity } from '../access.js';
import { API_VERSION_HEADER, type Reply, type Req } from '../http.js';
import type { Health } from '../health.js';
import { SIGNATURE_EXTENSION_HEADER } from '../../client/signature-extension.js';
import { getBlob, removeBlob } from './blobs.js';
import { catalog, referrers, tagsList } from './lists.js';
import { fetchManifest, removeManifest, storeManifest } from './manifests.js';
import { matchRoute, type Route } from './match.js';
import { cancelUpload, getUpload, patchUpload, postUpload, putUpload } from './uploads.js';
import { originOf } from '../origin.js';
import { noteRequest } from '../request-notes.js';

type Handler = (c: { ctx: RegistryContext; req: Req; reply: Reply; repo: RepoName; route: Route; who: Identity; auth: Authorizer }) => Promise<Reply>;

interface Endpoint {
  action: Action;
  handle: Handler;
}

const read = (handle: Handler): Endpoint => ({ action: 'pull', handle });
const write = (handle: Handler): Endpoint => ({ action: 'push', handle });
const remove = (handle: Handler): Endpoint => ({ action: 'delete', handle });

const ref = (r: Route): string => (r as { ref: string }).ref;
const id = (r: Route): string => (r as { id: string }).id;

/** Per resource and method: the action it needs and the handler. Anything missing is 405. */
const ENDPOINTS: Record<Exclude<Route['kind'], 'base' | 'catalog'>, Partial<Record<string, Endpoint>>> = {
  tags: { GET: read((c) => tagsList(c.ctx, c.req, c.reply, c.repo)) },
  manifest: {
    GET: read((c) => fetchManifest(c.ctx, c.req, c.reply, c.repo, ref(c.route), pullOrigin(c))),
    HEAD: read((c) => fetchManifest(c.ctx, c.req, c.reply, c.repo, ref(c.route), pullOrigin(c))),
    PUT: write((c) => storeManifest(c.ctx, c.req, c.reply, c.repo, ref(c.route), originOf(c.req, c.who))),
    DELETE: remove((c) => removeManifest(c.ctx, c.reply, c.repo, ref(c.route), originOf(c.req, c.who))),
  },
  blob: {
    GET: read((c) => getBlob(c.ctx, c.req, c.reply, c.repo, ref(c.route), pullOrigin(c))),
    HEAD: read((c) => getBlob(c.ctx, c.req, c.reply, c.repo, ref(c.route), pullOrigin(c))),
    DELETE: remove((c) => removeBlob(c.ctx, c.reply, c.repo, ref(c.route), originOf(c.req, c.who))),
  },
  uploads: {
    POST: write((c) => postUpload(c.ctx, c.req, c.reply, c.repo, (from) => c.auth.allows(c.who, from, 'pull'), c.who, originOf(c.req, c.who))),
  },
  upload: {
    GET: write((c) => getUpload(c.ctx, c.reply, c.repo, id(c.route))),
    PATCH: write((c) => patchUpload(c.ctx, c.req, c.reply, c.repo, id(c.route))),
    PUT: write((c) => putUpload(c.ctx, c.req, c.reply, c.repo, id(c.route), originOf(c.req, c.who))),
    DELETE: write((c) => cancelUpload(c.ctx, c.reply, c.repo, id(c.route))),
  },
  referrers: { GET: read((c) => referrers(c.ctx, c.req, c.reply, c.repo, ref(c.route))) },
};

/** Pulls build an origin only when someone listens to them: they are the hot path. */
const pullOrigin = (c: { ctx: RegistryContext; req: Req; who: Identity }) => (c.ctx.events.pullsWanted ? originOf(c.req, c.who) : undefined);

export interface V2Deps {
  ctx: RegistryContext;
  auth: Authorizer;
  health: Health;
}

/** Entry point for every `/v2/` request: route, validate the name, authorise, then handle. */
export async function handleV2({ ctx, auth, health }: V2Deps, req: Req, reply: Reply): Promise<Reply> {
  reply.headers(API_VERSION_HEADER);
  const path = req.url.split('?', 1)[0]!;
  const route = matchRoute(path);
  if (!route) throw new RegistryError('NAME_UNKNOWN', `no such endpoint: ${path.slice(0, 200)}`, { status: 404 });
  const notes = noteRequest(req, route);
  const method = req.method;

  if (route.kind === 'base') {
    if (method !== 'GET' && method !== 'HEAD') throw notAllowed(method);
    // Before authorising: containers/image reads it from the 401 too.
    reply.header(SIGNATURE_EXTENSION_HEADER, '1');
    notes.who = await auth.authorize(req, { type: 'base' });
    return reply.code(200).type('application/json').send('{}');
  }
  if (route.kind === 'catalog') {
    if (method !== 'GET') throw notAllowed(method);
    const who = (notes.who = await auth.authorize(req, { type: 'catalog' }));
    return catalog(ctx, req, reply, (name) => auth.allows(who, name, 'pull'));
  }
  const endpoint = ENDPOINTS[route.kind][method];
  if (!endpoint) throw notAllowed(method);
  const repo = parseRepoName(route.name);
  const actions: Action[] = endpoint.action === 'push' ? ['pull', 'push'] : [endpoint.action];
  const who = (notes.who = await auth.authorize(req, { type: 'repository', name: repo, actions }));
  if (endpoint.action !== 'pull') health.refuseWrites(endpoint.action === 'delete' ? 'delete' : 'write');
  return endpoint.handle({ ctx, req, reply, repo, route, who, auth });
}

const notAllowed = (method: string) =>
  new RegistryError('UNSUPPORTED', `method ${method} is not allowed on this endpoint`, { status: 405 });
