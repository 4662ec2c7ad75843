import { z } from 'zod';
import { duration } from './units.js';

/**
 * `usage`: a repository's shared and unique bytes (they reveal what other
 * repositories hold); `metrics` on `**`: /metrics and the notification
 * status. Both for operators.
 */
export const ACTIONS = ['pull', 'push', 'delete', 'usage', 'metrics'] as const;

/** The built-in Docker token service (`/auth/token`). */
const TokenConfigSchema = z
  .object({
    issuer: z.string().min(1).default('berth'),
    /** The `service` clients name and the `aud` of every token; defaults to the issuer. */
    service: z.string().min(1).optional(),
    expiry: duration.default(5 * 60_000),
    /** Lifetime of refresh (identity) tokens handed out for `offline_token=true`. */
    refreshExpiry: duration.default(30 * 86_400_000),
    /** Absolute token endpoint URL for the challenge; by default derived from the request's Host. */
    realm: z.string().url().optional(),
    /** PEM private key (EC P-256 or RSA); generated under the data directory on first start when absent. */
    key: z.string().optional(),
    algorithm: z.enum(['ES256', 'RS256']).default('ES256'),
  })
  .strict();

/** Tokens from an existing auth server, as Distribution's `auth.token` accepts them. */
const ExternalConfigSchema = z
  .object({
    realm: z.string().url(),
    service: z.string().min(1),
    issuer: z.string().min(1),
    /** A JWKS file, or an https URL serving one (plain http only on loopback: keys must not be open to a man in the middle). */
    jwks: z
      .string()
      .refine((v) => !/^http:\/\//i.test(v) || isLoopbackUrl(v), 'jwks: fetch keys over https (plain http is allowed only from a loopback address)')
      .optional(),
    /** PEM certificates: their keys verify tokens by `kid`, and `x5c` chains must end at one of them. */
    certs: z.string().optional(),
    algorithms: z.array(z.enum(['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA'])).default(['RS256', 'ES256']),
  })
  .strict()
  .refine((e) => e.jwks || e.certs, 'external needs jwks or certs to verify tokens with');

export const AuthConfigSchema = z
  .object({
    htpasswd: z.string().optional(),
    /** The realm of the Basic challenge (Basic mode). */
    realm: z.string().regex(/^[^"\\]*$/, 'no quotes or backslashes').default('berth'),
    token: TokenConfigSchema.optional(),
    external: ExternalConfigSchema.optional(),
    groups: z.record(z.string(), z.array(z.string())).default({}),
    /** Failed logins before 429, and how many password checks run or wait at once (docs/SECURITY.md, "Failed logins"). */
    loginLimit: z
      .object({
        perUserAddress: z.number().int().positive().default(5),
        perAddress: z.number().int().positive().default(20),
        perUser: z.number().int().positive().default(20),
        window: duration.default(5 * 60_000),
        concurrent: z.number().int().positive().default(2),
        queue: z.number().int().nonnegative().default(64),
      })
      .strict()
      .default({ perUserAddress: 5, perAddress: 20, perUser: 20, window: 5 * 60_000, concurrent: 2, queue: 64 }),
    /** Also append the audit lines to this file (they always go to the server log). */
    auditLog: z.string().optional(),
  })
  .strict()
  .refine((a) => a.htpasswd || a.token || a.external, 'auth needs htpasswd, token or external')
  // The issuer picks the keys a token is checked with, so two trusts must not share one.
  .refine((a) => !a.token || !a.external || a.token.issuer !== a.external.issuer, 'auth.token.issuer and auth.external.issuer must differ');

const AccessRuleSchema = z
  .object({
    repos: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    users: z.array(z.string()).default([]),
    groups: z.array(z.string()).default([]),
    /** Everyone, logged in or not. */
    anonymous: z.boolean().default(false),
    actions: z.array(z.enum([...ACTIONS, '*'])),
  })
  .strict();

export const AccessConfigSchema = z.array(AccessRuleSchema).default([]);

export type AuthConfig = z.output<typeof AuthConfigSchema>;
export type AccessRule = z.output<typeof AccessRuleSchema>;
export type ExternalConfig = z.output<typeof ExternalConfigSchema>;

/** Cross-checks between `auth` and `access`, for the top-level schema's superRefine. */
export function checkAccess(auth: AuthConfig | undefined, access: AccessRule[], ctx: z.RefinementCtx): void {
  if (!auth && access.length > 0) ctx.addIssue({ code: 'custom', path: ['access'], message: 'access rules need an auth section (htpasswd, token or external)' });
  access.forEach((rule, i) => {
    for (const g of rule.groups) {
      if (!auth?.groups[g]) ctx.addIssue({ code: 'custom', path: ['access', i, 'groups'], message: `group "${g}" is not defined under auth.groups` });
    }
    if (!rule.anonymous && rule.users.length === 0 && rule.groups.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['access', i], message: 'a rule needs users, groups or anonymous: true' });
    }
  });
}

function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}
