import { z } from 'zod';
import { duration } from './units.js';

const ACTIONS = ['push', 'pull', 'delete', 'mount'] as const;

/**
 * One webhook receiver, in the shape of Distribution's
 * `notifications.endpoints` (the same keys, the same lower case), plus
 * Berth's `format` and `secret`.
 */
const EndpointSchema = z
  .object({
    /** Names the endpoint in status pages, metrics and logs (and its queue). */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, dot, dash or underscore, at most 64'),
    disabled: z.boolean().default(false),
    url: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//i.test(u), 'an http or https URL'),
    /** Sent with every delivery; a value may be a list, as in Distribution (`Authorization: [Bearer ...]`). */
    headers: z
      .record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'a header name'), z.union([z.string(), z.array(z.string())]))
      .transform((h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, typeof v === 'string' ? [v] : v])))
      .default({}),
    /** How long one delivery may take, answer included. */
    timeout: duration.default(1000),
    /** Failed deliveries in a row before pausing for `backoff`. */
    threshold: z.number().int().positive().default(10),
    backoff: duration.default(1000),
    ignoredmediatypes: z.array(z.string()).default([]),
    ignore: z
      .object({ mediatypes: z.array(z.string()).default([]), actions: z.array(z.enum(ACTIONS)).default([]) })
      .strict()
      .default({ mediatypes: [], actions: [] }),
    /** `distribution`: Distribution's envelope; `cloudevents`: one CloudEvents 1.0 JSON event per request. */
    format: z.enum(['distribution', 'cloudevents']).default('distribution'),
    /** Signs every body: `X-Berth-Signature-256: sha256=<HMAC-SHA256 of the body, hex>`. */
    secret: z.string().min(16, 'at least 16 characters').optional(),
  })
  .strict();

export const NotificationsConfigSchema = z
  .object({
    endpoints: z
      .array(EndpointSchema)
      .default([])
      .refine((es) => new Set(es.map((e) => e.name)).size === es.length, 'endpoint names must differ'),
    /** The share of pulls told (1: every one, as Distribution; 0: none): pulls are most of a registry's traffic. */
    pulls: z.number().min(0).max(1).default(1),
    /** Events waiting per endpoint at most; beyond it new events for that endpoint are dropped (counted and logged). */
    maxPending: z.number().int().positive().default(10_000),
  })
  .strict()
  .default({ endpoints: [], pulls: 1, maxPending: 10_000 });

export type NotificationsConfig = z.output<typeof NotificationsConfigSchema>;
export type EndpointConfig = NotificationsConfig['endpoints'][number];
export type EventAction = (typeof ACTIONS)[number];
