import type { RegistryContext } from '../../registry/context.js';
import { signatureReport } from '../../registry/signature-report.js';
import type { Authorizer } from '../access.js';
import type { Reply, Req } from '../http.js';
import { manifestReportPath } from './manifest-report.js';

const SIGNATURES = manifestReportPath('signatures');

export const isSignaturesPath = (req: Req): boolean => SIGNATURES.matches(req);

/** `GET /berth/v1/repositories/NAME/manifests/DIGEST/signatures`: which signatures are valid, by which key, since when. Needs pull on NAME. */
export async function signaturesOf(ctx: RegistryContext, auth: Authorizer, req: Req, reply: Reply): Promise<Reply> {
  const { repo, digest } = await SIGNATURES.authorise(auth, req);
  return reply.code(200).type('application/json').send(JSON.stringify(await signatureReport(ctx, repo, digest)));
}
