import type { Digest } from '../oci/digest.js';
import { RegistryError } from '../oci/errors.js';
import type { RepoName } from '../oci/name.js';
import { UsageQueries } from '../meta/usage-queries.js';
import { binarySize } from '../util/size.js';
import type { RegistryContext } from './context.js';

/**
 * Refuses a write that would take the repository's namespace over its quota.
 * Usage is the distinct bytes the namespace's repositories hold, so content
 * already held there (a re-push, a shared layer) costs nothing. Checked
 * before a blob becomes visible and again at manifest PUT; two concurrent
 * pushes may each pass and overshoot by at most one blob or manifest.
 */
export async function checkQuota(ctx: RegistryContext, repo: RepoName, digest: Digest, size: number): Promise<void> {
  const quota = ctx.policy.quotaFor(repo);
  if (!quota) return;
  const usage = new UsageQueries(ctx.meta.db);
  if (await usage.namespaceHolds(quota.namespace, digest)) return;
  const used = await usage.namespaceBytes(quota.namespace);
  if (used + size <= quota.limit) return;
  throw new RegistryError(
    'DENIED',
    `quota exceeded: namespace "${quota.namespace}" may store ${binarySize(quota.limit)}, holds ${binarySize(used)}, and this ${binarySize(size)} write would make ${binarySize(used + size)}; delete images from it (and run berth gc) or raise quotas.${quota.namespace}`,
    { status: 403, detail: { namespace: quota.namespace, limit: quota.limit, used, requested: size } },
  );
}
