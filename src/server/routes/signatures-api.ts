import { parseDigest } from '../../oci/digest.js';
import { RegistryError } from '../../oci/errors.js';
import { parseRepoName } from '../../oci/name.js';
import type { RegistryContext } from '../../registry/context.js';
import { signatureReport } from '../../registry/signature-report.js';
import type { Authorizer } from '../access.js';
import type { Reply, Req } from '../http.js';

const SIGNATURES = /^\/berth\/v1\/repositories\/(.+)\/manifests\/([^/]+)\/signatures$/;

export const isSignaturesPath = (req: Req): boolean => SIGNATURES.test(req.url.split('?', 1)[0]!);

/** `GET /berth/v1/repositories/NAME/manifests/DIGEST/signatures`: which signatures are valid, by which key, since when. Needs pull on NAME. */
export async function signaturesOf(ctx: RegistryContext, auth: Authorizer, req: Req, reply: Reply): Promise<Reply> {
  const m = SIGNATURES.exec(req.url.split('?', 1)[0]!);
  if (!m) throw new RegistryError('UNSUPPORTED', 'expected /berth/v1/repositories/NAME/manifests/DIGEST/signatures', { status: 404 });
  const repo = parseRepoName(decodeURIComponent(m[1]!));
  const digest = parseDigest(decodeURIComponent(m[2]!));
  await auth.authorize(req, { type: 'repository', name: repo, actions: ['pull'] });
  return reply.code(200).type('application/json').send(JSON.stringify(await signatureReport(ctx, repo, digest)));
}
