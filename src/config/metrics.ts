import { z } from 'zod';
import { duration } from './units.js';

/** `metrics:` the Prometheus endpoint. */
export const MetricsConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    /**
     * Serve /metrics on this address of its own, without authentication (for
     * a scraper on a private network); unset: on the main listener, for
     * callers the access rules give `metrics` on every repository.
     */
    addr: z
      .string()
      .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]*):\d{1,5}$/, 'host:port')
      .optional(),
    /** Storage totals cost what the registry holds: computed in a worker at most this often. */
    storageInterval: duration.default(60_000),
    /**
     * `nodejs_gc_duration_seconds`: off by default, because Node reports every
     * collection to JavaScript and that cost 7 % of manifest GET throughput
     * (docs/BENCHMARKS.md). Heap sizes and event-loop delay are always shown.
     */
    gcDurations: z.boolean().default(false),
  })
  .strict()
  .default({ enabled: true, storageInterval: 60_000, gcDurations: false });

export type MetricsConfig = z.output<typeof MetricsConfigSchema>;
