import { Readable } from 'node:stream';
import { parseDigest } from '../../oci/digest.js';
import { RegistryError } from '../../oci/errors.js';
import { parseRepoName } from '../../oci/name.js';
import type { RegistryContext } from '../../registry/context.js';
import { scanReport } from '../../registry/scan-report.js';
import type { Authorizer } from '../access.js';
import type { Reply, Req } from '../http.js';

const SCAN = /^\/berth\/v1\/repositories\/(.+)\/manifests\/([^/]+)\/scan$/;

export const isScanPath = (req: Req): boolean => SCAN.test(req.url.split('?', 1)[0]!);

/**
 * `GET /berth/v1/repositories/NAME/manifests/DIGEST/scan`: the image's last
 * scan (SBOM, vulnerabilities, secrets redacted, the database's times), or
 * an index's children and their summaries. Needs pull on NAME, asked before
 * anything is looked up, so a caller without it learns nothing, not even
 * whether the repository or the digest exists.
 */
export async function scanOf(ctx: RegistryContext, auth: Authorizer, req: Req, reply: Reply): Promise<Reply> {
  const m = SCAN.exec(req.url.split('?', 1)[0]!);
  if (!m) throw new RegistryError('UNSUPPORTED', 'expected /berth/v1/repositories/NAME/manifests/DIGEST/scan', { status: 404 });
  const repo = parseRepoName(decodeURIComponent(m[1]!));
  const digest = parseDigest(decodeURIComponent(m[2]!));
  await auth.authorize(req, { type: 'repository', name: repo, actions: ['pull'] });
  const report = await scanReport(ctx, repo, digest);
  reply.code(200).type('application/json');
  return report instanceof Readable ? reply.send(report) : reply.send(JSON.stringify(report));
}
