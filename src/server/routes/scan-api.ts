import { Readable } from 'node:stream';
import type { RegistryContext } from '../../registry/context.js';
import { scanReport } from '../../registry/scan-report.js';
import type { Authorizer } from '../access.js';
import type { Reply, Req } from '../http.js';
import { manifestReportPath } from './manifest-report.js';

const SCAN = manifestReportPath('scan');

export const isScanPath = (req: Req): boolean => SCAN.matches(req);

/**
 * `GET /berth/v1/repositories/NAME/manifests/DIGEST/scan`: the image's last
 * scan (SBOM, vulnerabilities, secrets redacted, the database's times), or
 * an index's children and their summaries. Needs pull on NAME.
 */
export async function scanOf(ctx: RegistryContext, auth: Authorizer, req: Req, reply: Reply): Promise<Reply> {
  const { repo, digest } = await SCAN.authorise(auth, req);
  const report = await scanReport(ctx, repo, digest);
  reply.code(200).type('application/json');
  return report instanceof Readable ? reply.send(report) : reply.send(JSON.stringify(report));
}
