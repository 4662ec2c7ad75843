import { parseDigest } from '../../oci/digest.js';
import { RegistryError } from '../../oci/errors.js';
import { isRepoName, type RepoName } from '../../oci/name.js';
import type { PullThroughCache } from '../../proxy/cache.js';
import type { CachedRepo } from '../../proxy/routing.js';
import { LOOP_STATUS } from '../../proxy/upstream-errors.js';
import { parseManifestRef } from '../../registry/manifests.js';
import type { RegistryContext } from '../../registry/context.js';
import type { Origin } from '../../registry/events.js';
import { originOf } from '../origin.js';
import type { Authorizer, Identity } from '../access.js';
import { header, query, sendBody, type Reply, type Req } from '../http.js';
import { blobHeaders, getBlob } from './blobs.js';
import { acceptList, sendManifest } from './manifests.js';
import type { Route } from './match.js';

/**
 * How a `/v2/` request reaches the pull-through cache, in the three forms
 * clients send:
 * - a path prefix, `/v2/docker.io/library/alpine/...` (podman's mirrors,
 *   and any client that cannot be configured);
 * - containerd's mirrors, `/v2/library/alpine/...?ns=docker.io`;
 * - Docker's `registry-mirrors`, `/v2/library/alpine/...` with nothing to say
 *   which registry is meant: the `proxy.mirror` upstream, unless a local
 *   repository has that name. Blobs follow only once the manifest made the
 *   cached repository (docker always asks for the manifest first), so a push
 *   to a new local repository never sends its blob checks upstream.
 * Undefined means an ordinary local repository.
 */
export async function cachedRepoOf(cache: PullThroughCache, route: Route & { name: string }, method: string, req: Req): Promise<CachedRepo | undefined> {
  const ns = query(req, 'ns');
  if (ns !== undefined) {
    const cached = cache.names.byNamespace(ns, route.name);
    if (cached || !isRepoName(route.name)) return cached;
    throw new RegistryError('NAME_UNKNOWN', `this registry caches no upstream for ns=${ns.slice(0, 100)} (proxy.upstreams)`);
  }
  const prefixed = cache.names.byPrefix(route.name);
  if (prefixed || (method !== 'GET' && method !== 'HEAD') || !isRepoName(route.name)) return prefixed;
  const mirrored = cache.names.byMirror(route.name);
  if (!mirrored || (await cache.isLocal(route.name))) return undefined;
  if (route.kind === 'blob' && !(await cache.isLocal(mirrored.repo))) return undefined;
  return mirrored;
}

/** A request that came back to the registry that sent it upstream (whichever of its processes or replicas it reaches): answered at once, so the loop ends here. */
export function refuseLoop(cache: PullThroughCache, req: Req): void {
  if (!cache.cameBack(header(req, 'via'))) return;
  throw new RegistryError('UNAVAILABLE', 'this request was sent by this registry to one of its upstreams and came back: an upstream url in proxy.upstreams leads to this registry', {
    status: LOOP_STATUS,
  });
}

export function refusePush(cached: CachedRepo): RegistryError {
  return new RegistryError(
    'DENIED',
    `"${cached.repo}" is in ${cached.upstream.namespace}/, a pull-through cache of ${cached.upstream.who}: push to the upstream itself, or to a repository outside ${cached.upstream.namespace}/`,
    { detail: { repository: cached.repo, upstream: cached.upstream.namespace } },
  );
}

export interface ProxiedCall {
  cache: PullThroughCache;
  ctx: RegistryContext;
  auth: Authorizer;
  who: Identity;
  req: Req;
  reply: Reply;
  cached: CachedRepo;
  ref: string;
}

export async function proxiedManifest(c: ProxiedCall): Promise<Reply> {
  const head = c.req.method === 'HEAD';
  const m = await c.cache.manifest(c.cached, parseManifestRef(c.ref, false), { accept: acceptList(header(c.req, 'accept')), head, via: header(c.req, 'via'), origin: pullOrigin(c) });
  // RFC 7234's 110: the answer was not confirmed by the origin. Quotes would end the header's text early.
  if (m.stale) c.reply.header('Warning', `110 berth "Response is stale: ${m.stale.replace(/["\\\r\n]/g, "'").slice(0, 400)}"`);
  return sendManifest(c.reply, m.served, head);
}

export async function proxiedBlob(c: ProxiedCall): Promise<Reply> {
  const digest = parseDigest(c.ref);
  const head = c.req.method === 'HEAD';
  const blob = await c.cache.blob(c.cached, digest, {
    head,
    ranged: header(c.req, 'range') !== undefined,
    canRead: (repo: RepoName) => c.auth.allows(c.who, repo, 'pull'),
    via: header(c.req, 'via'),
  });
  if (blob === 'stored') return getBlob(c.ctx, c.req, c.reply, c.cached.repo, c.ref, pullOrigin(c));
  c.reply.code(200).headers(blobHeaders(digest)).header('Content-Length', String(blob.size));
  return head || !blob.body ? c.reply.send() : sendBody(c.reply, blob.body);
}

/** Who pulled, for pull events (when anything listens for them), as for any repository. */
const pullOrigin = (c: ProxiedCall): Origin | undefined => (c.ctx.events.pullsWanted ? originOf(c.req, c.who) : undefined);
