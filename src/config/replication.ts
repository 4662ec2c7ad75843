import { z } from 'zod';
import { duration } from './units.js';

const globs = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((v) => (typeof v === 'string' ? [v] : v));

/**
 * How Berth signs in to another registry. Inline, from a docker config.json
 * (the file `docker login` writes), or from a credential helper
 * (`docker-credential-<helper>`); never logged, never shown by status.
 */
const CredentialsSchema = z.union([
  z.object({ username: z.string().min(1), password: z.string() }).strict(),
  z.object({ dockerConfig: z.string().min(1) }).strict(),
  z.object({ helper: z.string().regex(/^[A-Za-z0-9._-]+$/, 'the name after docker-credential-') }).strict(),
]);

const RemoteSchema = z
  .object({
    /** `https://registry.example.com`, or `http://` for a registry without TLS. */
    url: z.string().regex(/^https?:\/\/[^/\s@]+\/?$/, 'a registry URL such as https://registry.example.com (no path; a login goes under credentials:)'),
    credentials: CredentialsSchema.optional(),
    /** Extra CA certificates (PEM) for the registry's TLS certificate. */
    ca: z.string().min(1).optional(),
  })
  .strict();

/** Repository names are these path components ending in `/` (e.g. `mirror/`), or nothing. */
const prefix = z.string().regex(/^([a-z0-9]+([._-][a-z0-9]+)*\/)*$/, 'path components ending in /').default('');

/** A push rule's target: where images land, under `prefix` (Harbor's destination namespace: `team/app` as `mirror/team/app`). */
const TargetSchema = RemoteSchema.extend({ prefix }).strict();

const RetrySchema = {
  /** Runs after which a failing copy is given up and kept as dead (shown by `berth replication status`). */
  attempts: z.number().int().positive().default(20),
  /** The longest wait between two tries; waits double from 2 s up to this. */
  maxBackoff: duration.default(600_000),
};

const PushRuleSchema = z
  .object({
    /** Names the rule in status and logs (default: `push-<n>`). */
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/).optional(),
    repos: globs,
    /** Tags whose pushes and moves are copied (default: every tag). */
    tags: globs.default(['**']),
    to: TargetSchema,
    /** Tags deleted here, and manifests deleted by digest, are deleted there too. */
    deletes: z.boolean().default(false),
    ...RetrySchema,
  })
  .strict();

const SyncRuleSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/).optional(),
    /** Repository names on the upstream (no globs: registries need not list their catalog). */
    repos: z.array(z.string().min(1)).min(1),
    tags: globs.default(['**']),
    from: RemoteSchema,
    /** Local repositories are the upstream's names under this prefix (e.g. `mirror/`), or the same names. */
    prefix,
    /** How often the upstream's tags are looked at. */
    interval: duration.default(900_000),
    ...RetrySchema,
  })
  .strict();

/** `replication:` rules that push this registry's images to others, and rules that sync others' into this one. */
export const ReplicationConfigSchema = z
  .array(z.union([PushRuleSchema, SyncRuleSchema]))
  .default([])
  .superRefine((rules, ctx) => {
    const seen = new Set<string>();
    rules.forEach((r, i) => {
      const name = ruleName(r, i);
      if (seen.has(name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `two rules are named ${name}` });
      seen.add(name);
    });
  });

export type PushRuleConfig = z.output<typeof PushRuleSchema>;
export type SyncRuleConfig = z.output<typeof SyncRuleSchema>;
export type RemoteConfig = z.output<typeof RemoteSchema>;
export type ReplicationConfig = z.output<typeof ReplicationConfigSchema>;

export const isPushRule = (r: PushRuleConfig | SyncRuleConfig): r is PushRuleConfig => 'to' in r;

export const ruleName = (r: PushRuleConfig | SyncRuleConfig, index: number): string => r.name ?? `${isPushRule(r) ? 'push' : 'sync'}-${index + 1}`;
