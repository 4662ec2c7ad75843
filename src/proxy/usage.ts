import { ProxyQueries, type ProxyCounts } from '../meta/proxy-queries.js';
import { UsageQueries } from '../meta/usage-queries.js';
import type { RegistryContext } from '../registry/context.js';

/** What the cache holds for one upstream and what it saved, for `berth usage`. */
export interface CacheUsage extends ProxyCounts {
  namespace: string;
  /** Distinct bytes the namespace's repositories hold. */
  storedBytes: number;
  repositories: number;
}

/** Per cached namespace: bytes held, repositories, and the counters every replica added to. Its cost grows with the cache: a worker task. */
export async function cacheUsage(ctx: RegistryContext, namespaces: string[]): Promise<CacheUsage[]> {
  const usage = new UsageQueries(ctx.meta.db);
  const counts = await new ProxyQueries(ctx.meta.db).counts();
  const out: CacheUsage[] = [];
  for (const namespace of namespaces) {
    const repos = await ctx.meta.db
      .selectFrom('repositories')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('name', '>', `${namespace}/`)
      .where('name', '<', `${namespace}0`)
      .where((eb) => eb.exists(eb.selectFrom('manifests').select('digest').whereRef('manifests.repository_id', '=', 'repositories.id')))
      .executeTakeFirstOrThrow();
    const c = counts.get(namespace) ?? { hits: 0, upstreamRequests: 0, upstreamBytes: 0 };
    out.push({ namespace, storedBytes: await usage.namespaceBytes(namespace), repositories: Number(repos.n), ...c });
  }
  return out;
}
