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

/** Repositories one page may look at, visible or not, before it answers (with a Link to go on). */
const SCAN_PAGES = 10;

/**
 * Lists repositories, skipping those `visible` rejects. It keeps reading so a
 * page is full, but reads at most SCAN_PAGES pages' worth of names: a caller
 * who may see little of a huge registry gets a short page and a `Link` to
 * where the scan stopped, never one request that walks everything.
 */
export async function listRepositories(
  ctx: RegistryContext,
  n: number | undefined,
  last: string | undefined,
  visible: (repo: string) => Promise<boolean>,
): Promise<Page> {
  const limit = pageSize(ctx, n);
  if (limit === 0) return { items: [] };
  const items: string[] = [];
  let cursor = last;
  for (let scanned = 0; scanned < limit * SCAN_PAGES; ) {
    const batch = await ctx.meta.repositories(limit, cursor);
    for (const name of batch) {
      scanned++;
      cursor = name;
      if (await visible(name)) items.push(name);
      if (items.length === limit) return { items, ...((await ctx.meta.repositories(1, name)).length ? { next: name } : {}) };
    }
    if (batch.length < limit) return { items };
  }
  return { items, ...(cursor !== undefined ? { next: cursor } : {}) };
}
