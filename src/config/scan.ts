import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { JobQueue } from '../jobs/queue.js';
import type { RegistryContext } from '../registry/context.js';
import { scanOnPush } from '../registry/scan-on-push.js';
import { ScanPolicy } from '../registry/scan-policy.js';
import { DEFAULT_LIMITS } from '../scan/limits.js';
import { SEVERITIES } from '../scan/severity.js';
import { DEFAULT_ECOSYSTEMS } from '../scan/vulndb/sources.js';
import { duration, size } from './units.js';

const globs = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((v) => (typeof v === 'string' ? [v] : v));
const DAY = 86_400_000;

/**
 * `scan:` scan on push, with the registry's own vulnerability database and
 * pull policies per repository glob. Absent: nothing is scanned.
 */
export const ScanConfigSchema = z
  .object({
    /** Scans at once in this process, each in a worker thread of its own. */
    concurrency: z.number().int().positive().default(1),
    /** Heap of a scan thread: a scan that needs more fails alone (and is retried, then given up), never the server. */
    memory: size.default(1 << 30),
    /** Look for secrets in every layer and in the config too. */
    secrets: z.boolean().default(true),
    /** Tar entries, and uncompressed bytes, a scan reads at most; past them it stops and its result says so. */
    maxFiles: z.number().int().positive().default(DEFAULT_LIMITS.maxEntries),
    maxBytes: size.default(DEFAULT_LIMITS.maxBytes),
    /** A scan whose server died is taken over by another (or by the same after a restart) this long after. */
    lease: duration.default(60_000),
    db: z
      .object({
        /** The vulnerability database (its own SQLite file); default `<data>/osv.db`. */
        path: z.string().min(1).optional(),
        /** Where the scheduled `db update` reads: OSV's export or a mirror (`https://…`), or a directory of zips. Absent: the database is left to `berth db update`. */
        updateUrl: z.string().min(1).optional(),
        /** How often the database is updated (and results made with an older one rescanned). */
        updateInterval: duration.refine((ms) => ms >= 1000, 'at least 1s').default(DAY),
        ecosystems: z.array(z.string().min(1)).min(1).default(DEFAULT_ECOSYSTEMS),
      })
      .strict()
      .default({ updateInterval: DAY, ecosystems: DEFAULT_ECOSYSTEMS }),
    policy: z
      .array(
        z
          .object({
            repos: globs,
            /** Refuse images with a vulnerability at or above this severity. */
            severity: z.enum(SEVERITIES).optional(),
            /** Refuse images with secrets in any layer (deleted ones too) or in the config. */
            secrets: z.boolean().default(false),
            /** Images not scanned yet: `deny` refuses them until their scan is done. */
            unscanned: z.enum(['allow', 'deny']).default('deny'),
          })
          .strict()
          .refine((r) => r.severity !== undefined || r.secrets, 'a scan rule needs severity, secrets: true, or both'),
      )
      .default([]),
  })
  .strict();

export type ScanConfig = z.output<typeof ScanConfigSchema>;

export const vulnDbPath = (scan: ScanConfig, data: string): string => resolve(scan.db.path ?? join(data, 'osv.db'));

/** Scan on push (a job per pushed image, in the push's transaction) and the pull policy's gate. */
export function installScanning(ctx: RegistryContext, scan: ScanConfig, jobs: JobQueue): void {
  scanOnPush(ctx, jobs);
  new ScanPolicy(ctx, scan.policy.map((r) => ({ repos: r.repos, secrets: r.secrets, unscanned: r.unscanned, ...(r.severity ? { severity: r.severity } : {}) })), jobs).install();
}
