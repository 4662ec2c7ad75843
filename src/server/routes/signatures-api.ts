import type { Digest } from '../../oci/digest.js';
import type { RepoName } from '../../oci/name.js';
import type { RegistryContext } from '../../registry/context.js';
import { signatureReport } from '../../registry/signature-report.js';
import type { Authorizer } from '../access.js';
import type { Reply, Req } from '../http.js';

/** `GET /berth/v1/repositories/NAME/manifests/DIGEST/signatures`: which signatures are valid, by which key, since when. Needs pull on NAME. */
export async function signaturesOf(ctx: RegistryContext, auth: Authorizer, req: Req, reply: Reply, repo: RepoName, digest: Digest): Promise<Reply> {
  await auth.authorize(req, { type: 'repository', name: repo, actions: ['pull'] });
  return reply.code(200).type('application/json').send(JSON.stringify(await signatureReport(ctx, repo, digest)));
}
