import { Readable } from 'node:stream';
import type { Digest } from '../../oci/digest.js';
import type { RepoName } from '../../oci/name.js';
import type { RegistryContext } from '../../registry/context.js';
import { scanReport } from '../../registry/scan-report.js';
import type { Authorizer } from '../access.js';
import type { Reply, Req } from '../http.js';

/**
 * `GET /berth/v1/repositories/NAME/manifests/DIGEST/scan`: the image's last
 * scan (SBOM, vulnerabilities, secrets redacted, the database's times), or
 * an index's children and their summaries. Pull on NAME is asked before
 * anything is looked up: a caller without it learns nothing, not even
 * whether the repository or the digest exists.
 */
export async function scanOf(ctx: RegistryContext, auth: Authorizer, req: Req, reply: Reply, repo: RepoName, digest: Digest): Promise<Reply> {
  await auth.authorize(req, { type: 'repository', name: repo, actions: ['pull'] });
  const report = await scanReport(ctx, repo, digest);
  reply.code(200).type('application/json');
  return report instanceof Readable ? reply.send(report) : reply.send(JSON.stringify(report));
}
