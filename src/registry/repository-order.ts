import { BrowseQueries, type RepositoryOrder } from '../meta/browse-queries.js';
import type { RegistryContext } from './context.js';

export interface RepositoryWindowInput extends RepositoryOrder {
  /** Also count every repository matching the search (for callers who may see them all). */
  count: boolean;
}

export interface RepositoryWindow {
  names: string[];
  total?: number;
}

/**
 * A window of repository names in the order asked for, before anyone's
 * access is applied (the caller filters it). Ordering by size aggregates
 * over the whole index: it runs in a worker thread.
 */
export async function repositoryWindow(ctx: RegistryContext, input: RepositoryWindowInput): Promise<RepositoryWindow> {
  const q = new BrowseQueries(ctx.meta.db);
  const names = await q.repositoryNames(input);
  return input.count ? { names, total: await q.countRepositories(input.search) } : { names };
}
