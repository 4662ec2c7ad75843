import { z } from 'zod';
import { duration } from './units.js';

/** `ui:` the web UI `berth serve` shows in a browser (docs/UI.md). */
export const UiConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Where the UI is mounted: `/`, or a path such as `/ui/`; the JSON API stays at `/berth/v1/`. */
    prefix: z
      .string()
      .regex(/^\/(?:[a-z0-9][a-z0-9._-]*\/)*$/, 'a path starting and ending with "/" (lowercase letters, digits, ".", "_", "-"), such as /ui/')
      .refine((p) => !/^\/(v2|berth|auth|healthz|readyz)\//.test(p), 'must not be under /v2/, /berth/, /auth/, /healthz or /readyz')
      .default('/'),
    /** A session unused this long ends. */
    sessionIdle: duration.default(30 * 60_000),
    /** A session ends this long after its login, however busy. */
    sessionLifetime: duration.default(12 * 3600_000),
    /** Sessions one user may hold at once; a new login beyond it ends the user's oldest. */
    sessionsPerUser: z.number().int().positive().default(10),
  })
  .strict()
  .default({ enabled: true, prefix: '/', sessionIdle: 30 * 60_000, sessionLifetime: 12 * 3600_000, sessionsPerUser: 10 });

export type UiConfig = z.output<typeof UiConfigSchema>;
