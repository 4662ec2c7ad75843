import type { FastifyInstance } from 'fastify';
import { parseDigest } from '../../oci/digest.js';
import { RegistryError } from '../../oci/errors.js';
import { parseRepoName } from '../../oci/name.js';
import type { RegistryContext } from '../../registry/context.js';
import { readBounded } from '../../registry/bounded-body.js';
import { addSignature, listSignatures, MAX_SIGNATURE_BODY_BYTES } from '../../registry/signatures.js';
import type { Authorizer } from '../access.js';
import type { Health } from '../health.js';
import { API_VERSION_HEADER, body, contentLength, type Reply, type Req } from '../http.js';
import type { PullThroughCache } from '../../proxy/cache.js';
import { cachedRepoOf, refusePush } from './proxy.js';

const PATH = /^\/extensions\/v2\/(.+)\/signatures\/([^/]+)$/;

/**
 * The registry signature extension containers/image uses (skopeo, podman,
 * buildah): `GET` lists a manifest's simple signatures, `PUT` adds one.
 * Authorised exactly like the manifest it belongs to: pull to read, push to add.
 */
export interface ExtensionDeps {
  ctx: RegistryContext;
  auth: Authorizer;
  health: Health;
  proxy?: PullThroughCache;
}

export function registerSignatureExtension(app: FastifyInstance, deps: ExtensionDeps): void {
  app.route({ method: ['GET', 'PUT'], url: '/extensions/v2/*', handler: (req, reply) => handle(deps, req, reply) });
}

async function handle({ ctx, auth, health, proxy }: ExtensionDeps, req: Req, reply: Reply): Promise<Reply> {
  reply.headers(API_VERSION_HEADER);
  const m = PATH.exec(req.url.split('?', 1)[0]!);
  if (!m) throw new RegistryError('UNSUPPORTED', 'expected /extensions/v2/NAME/signatures/DIGEST', { status: 404 });
  const digest = parseDigest(decodeURIComponent(m[2]!));
  // The signatures of a cached image are those stored here (the cache does not fetch an upstream's).
  const cached = proxy && (await cachedRepoOf(proxy, { kind: 'manifest', name: m[1]!, ref: digest }, req.method, req));
  const repo = cached?.repo ?? parseRepoName(m[1]!);
  if (req.method === 'GET') {
    await auth.authorize(req, { type: 'repository', name: repo, actions: ['pull'] });
    const signatures = (await listSignatures(ctx, repo, digest)).map((s) => ({ schemaVersion: 2, name: s.name, type: 'atomic', content: s.content.toString('base64') }));
    return reply.code(200).type('application/json').send(JSON.stringify({ signatures }));
  }
  const who = await auth.authorize(req, { type: 'repository', name: repo, actions: ['pull', 'push'] });
  if (cached) throw refusePush(cached);
  health.refuseWrites();
  const bytes = await readBounded(body(req), contentLength(req), MAX_SIGNATURE_BODY_BYTES, 'a signature body');
  await addSignature(ctx, repo, digest, bytes, who.subject);
  return reply.code(201).header('Content-Length', '0').send();
}
