import { z } from 'zod';
import type { StoragePolicySettings } from '../registry/policy.js';
import { duration, size } from './units.js';

const glob = z.string().min(1);

/** `gc:` how often `berth serve` collects garbage, and what it may collect. */
export const GcConfigSchema = z
  .object({
    /** Scheduled GC inside `berth serve`; 0 turns it off (run `berth gc` from cron instead). */
    interval: duration.default(3600_000),
    /** Content written or accessed within this long is never collected. */
    grace: duration.default(3600_000),
    /** Remove manifests no tag or index names (referrers stay while their subject does). */
    deleteUntagged: z.boolean().default(false),
  })
  .strict()
  .default({ interval: 3600_000, grace: 3600_000, deleteUntagged: false });

/** `immutableTags:`, `retention:` and `quotas:`, top-level keys of the config. */
export const StorageRulesSchema = {
  immutableTags: z
    .array(z.object({ repositories: glob.default('**'), tags: z.array(glob).min(1) }).strict())
    .default([]),
  retention: z
    .array(
      z
        .object({
          repositories: glob,
          keepLast: z.number().int().nonnegative().optional(),
          olderThan: duration.optional(),
          keepTags: z.array(glob).default([]),
        })
        .strict()
        .refine((r) => r.keepLast !== undefined || r.olderThan !== undefined, 'a retention rule needs keepLast, olderThan, or both'),
    )
    .default([]),
  /** Namespace (first path component of a repository name) to a size, e.g. `team: 10GiB`. */
  quotas: z.record(z.string().regex(/^[a-z0-9]+([._-][a-z0-9]+)*$/, 'a namespace: the first component of a repository name'), size).default({}),
};

export function policySettings(c: {
  gc: z.output<typeof GcConfigSchema>;
  immutableTags: z.output<typeof StorageRulesSchema.immutableTags>;
  retention: z.output<typeof StorageRulesSchema.retention>;
  quotas: z.output<typeof StorageRulesSchema.quotas>;
}): StoragePolicySettings {
  return {
    immutable: c.immutableTags,
    retention: c.retention.map((r) => ({
      repositories: r.repositories,
      keepTags: r.keepTags,
      ...(r.keepLast !== undefined ? { keepLast: r.keepLast } : {}),
      ...(r.olderThan !== undefined ? { olderThanMs: r.olderThan } : {}),
    })),
    quotas: c.quotas,
    gc: { graceMs: c.gc.grace, deleteUntagged: c.gc.deleteUntagged },
  };
}
