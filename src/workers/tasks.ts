import type { ErrorCode } from '../oci/errors.js';
import type { RegistryContext } from '../registry/context.js';

/**
 * The work that runs in worker threads, by name. Each task gets the
 * worker's own RegistryContext and a structured-cloneable input, and returns
 * a structured-cloneable value. Modules load on first use, so a thread pays
 * only for the tasks it runs.
 */
export const TASKS = {
  usagePage: async (ctx: RegistryContext, input: import('../registry/usage.js').UsagePageInput) =>
    (await import('../registry/usage.js')).usagePage(ctx, input),
  repositoryUsage: async (ctx: RegistryContext, input: { repo: string; figures: boolean }) =>
    (await import('../registry/usage.js')).repositoryReport(ctx, input.repo, input.figures),
  whatIfDelete: async (ctx: RegistryContext, input: { repo: string; reference: string }) =>
    (await import('../registry/usage.js')).whatIfDeleteRef(ctx, input.repo, input.reference),
  /** The figures /metrics shows that cost what the registry holds: storage totals, open uploads, job queues. */
  registryFigures: async (ctx: RegistryContext, input: { storage: boolean }) => {
    const { UsageQueries } = await import('../meta/usage-queries.js');
    const { queueStatus } = await import('../jobs/queue.js');
    const q = new UsageQueries(ctx.meta.db);
    return { storage: input.storage ? { ...(await q.totals()), ...(await q.inventory()) } : undefined, queues: await queueStatus(ctx.meta.db) };
  },
  collectGarbage: async (ctx: RegistryContext, input: { dryRun: boolean }) => (await import('../registry/gc.js')).collectGarbage(ctx, input),
  scanImage: async (ctx: RegistryContext, input: import('../registry/image-scan.js').ImageScanInput) => (await import('../registry/image-scan.js')).scanStoredImage(ctx, input),
  refreshVulnDb: async (_ctx: RegistryContext, input: import('../scan/vulndb/refresh.js').RefreshInput) => (await import('../scan/vulndb/refresh.js')).refreshVulnDb(input),
  repositoryWindow: async (ctx: RegistryContext, input: import('../registry/repository-order.js').RepositoryWindowInput) =>
    (await import('../registry/repository-order.js')).repositoryWindow(ctx, input),
  tagDetails: async (ctx: RegistryContext, input: import('../registry/tag-details.js').TagDetailsInput) => (await import('../registry/tag-details.js')).tagDetails(ctx, input),
  imageDetails: async (ctx: RegistryContext, input: import('../registry/image-details.js').ImageDetailsInput) =>
    (await import('../registry/image-details.js')).imageDetails(ctx, input),
  layerSets: async (ctx: RegistryContext, input: { images: { repo: string; digest: import('../oci/digest.js').Digest }[] }) =>
    (await import('../registry/layer-sets.js')).layerSets(ctx, input.images),
  operationsReport: async (ctx: RegistryContext, _input: Record<string, never>) => (await import('../registry/operations.js')).operationsReport(ctx),
  gcDryRun: async (ctx: RegistryContext, _input: Record<string, never>) => (await import('../registry/operations.js')).gcDryRun(ctx),
  cacheUsage: async (ctx: RegistryContext, input: { namespaces: string[] }) => (await import('../proxy/usage.js')).cacheUsage(ctx, input.namespaces),
  evictCache: async (ctx: RegistryContext, input: import('../proxy/eviction.js').EvictionInput) => (await import('../proxy/eviction.js')).evictCache(ctx, input),
} satisfies Record<string, (ctx: RegistryContext, input: never) => Promise<unknown>>;

export type TaskName = keyof typeof TASKS;
export type TaskInput<N extends TaskName> = Parameters<(typeof TASKS)[N]>[1];
export type TaskOutput<N extends TaskName> = Awaited<ReturnType<(typeof TASKS)[N]>>;

/** Errors do not cross threads with their fields; a RegistryError travels as data and is rebuilt. */
export type TaskOutcome<T> =
  | { ok: true; value: T }
  | { ok: false; error: { code: ErrorCode; message: string; status: number; detail: unknown; headers: Record<string, string> } };
