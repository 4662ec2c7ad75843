import { RegistryError } from '../../oci/errors.js';
import type { RepoName } from '../../oci/name.js';
import { deleteManifest, type ManifestRef } from '../../registry/manifests.js';
import type { Reply, Req } from '../http.js';
import { originOf } from '../origin.js';
import type { BerthApiDeps } from './berth-api.js';
import { json } from './browse-api.js';

/**
 * `DELETE /berth/v1/repositories/NAME/tags/TAG` and `.../manifests/DIGEST`:
 * what `DELETE /v2/NAME/manifests/REF` does (a digest takes every tag on it
 * along; tag history records who), needing `delete` as there. Audited like it.
 */
export async function remove(deps: BerthApiDeps, req: Req, reply: Reply, repo: RepoName, ref: ManifestRef): Promise<Reply> {
  const who = await deps.auth.authorize(req, { type: 'repository', name: repo, actions: ['delete'] });
  deps.health.refuseWrites('delete');
  const reference = 'tag' in ref ? ref.tag : ref.digest;
  const audit = (result: 'ok' | 'failed', status: number) =>
    deps.audit?.record({ event: 'delete', who: who.subject, client: req.ip, repository: repo, reference, ...('digest' in ref ? { digest: ref.digest } : {}), result, status });
  try {
    await deleteManifest(deps.ctx, repo, ref, originOf(req, who));
  } catch (e) {
    audit('failed', e instanceof RegistryError ? e.status : 500);
    throw e;
  }
  audit('ok', 200);
  return json(reply, { repository: repo, deleted: reference });
}
