import type { RepoName } from '../oci/name.js';
import type { RegistryContext } from './context.js';

export interface Page {
  items: string[];
  /** Set when more entries follow: the `last` to ask for next. */
  next?: string;
}

/** Normalises `n`: absent means the cap, anything larger is capped, so no request allocates more than the cap. */
function pageSize(ctx: RegistryContext, n: number | undefined): number {
  const cap = ctx.limits.maxListEntries;
  return n === undefined ? cap : Math.min(n, cap);
}

async function page(limit: number, fetch: (limit: number) => Promise<string[]>): Promise<Page> {
  if (limit === 0) return { items: [] };
  const rows = await fetch(limit + 1);
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, next: items[items.length - 1]! };
}

export async function listTags(ctx: RegistryContext, repo: RepoName, n: number | undefined, last: string | undefined): Promise<Page> {
  const repoId = await ctx.requireRepo(repo);
  return page(pageSize(ctx, n), async (limit) => {
    ctx.caches.revalidate();
    const cached = ctx.caches.tagPage(repoId, limit, last);
    if (cached) return cached;
    const epoch = ctx.caches.epoch();
    const names = await ctx.meta.tags(repoId, limit, last);
    ctx.caches.fillTagPage(repoId, limit, last, names, epoch);
    return names;
  });
}

/** Lists repositories, skipping those `visible` rejects (it keeps paging so a page is still full). */
export async function listRepositories(
  ctx: RegistryContext,
  n: number | undefined,
  last: string | undefined,
  visible: (repo: string) => Promise<boolean>,
): Promise<Page> {
  return page(pageSize(ctx, n), async (limit) => {
    const out: string[] = [];
    let cursor = last;
    while (out.length < limit) {
      const batch = await ctx.meta.repositories(limit, cursor);
      for (const name of batch) if (out.length < limit && (await visible(name))) out.push(name);
      if (batch.length < limit) break;
      cursor = batch[batch.length - 1];
    }
    return out;
  });
}
