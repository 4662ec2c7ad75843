import type { Challenge } from './challenge.js';
import type { Credential } from './credentials.js';
import type { Http } from './http.js';

export interface Token {
  token: string;
  /** Present when the service hands out a refresh token (offline_token / oauth2). */
  refreshToken?: string;
  expiresAt: number;
}

export class AuthError extends Error {
  override readonly name = 'AuthError';
}

const CLIENT_ID = 'berth';
// Per the token spec a token without expires_in lives 60 s; renew a little early.
const DEFAULT_TTL_S = 60;
const EARLY_S = 5;

/**
 * The Docker token flow (distribution/docs/spec/auth/token.md and oauth.md):
 * an identity token is exchanged by POST grant_type=refresh_token; otherwise a
 * GET with Basic credentials, or anonymously.
 */
export async function fetchToken(
  http: Http,
  challenge: Challenge,
  scopes: string[],
  cred: Credential | undefined,
  opts: { offline?: boolean; retry?: boolean } = {},
): Promise<Token> {
  const realm = challenge.params.realm;
  if (!realm) throw new AuthError('the registry asked for a Bearer token but named no realm');
  const service = challenge.params.service;
  const res = cred?.identityToken
    ? await http.send(realm, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: form({ grant_type: 'refresh_token', refresh_token: cred.identityToken, service, client_id: CLIENT_ID, access_type: 'offline', scope: scopes.join(' ') }),
        retry: opts.retry ?? true,
      })
    : await http.send(tokenUrl(realm, service, scopes, opts.offline), {
        headers: cred?.password !== undefined ? { Authorization: basicAuth(cred.username, cred.password) } : {},
        retry: opts.retry ?? true,
      });
  if (res.status === 429) {
    await res.body?.cancel();
    throw loginsRefused(new URL(realm).host, res.headers.get('retry-after'));
  }
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    throw new AuthError(`the token service at ${new URL(realm).host} refused the credentials (HTTP ${res.status})`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new AuthError(`the token service at ${new URL(realm).host} answered HTTP ${res.status}`);
  }
  const body = (await res.json()) as { token?: string; access_token?: string; expires_in?: number; refresh_token?: string };
  const token = body.access_token ?? body.token;
  if (!token) throw new AuthError(`the token service at ${new URL(realm).host} returned no token`);
  const ttl = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TTL_S;
  const out: Token = { token, expiresAt: Date.now() + Math.max(1, ttl - EARLY_S) * 1000 };
  if (body.refresh_token) out.refreshToken = body.refresh_token;
  return out;
}

/** A login lockout (429): retrying would only extend it, so say for how long instead. */
export function loginsRefused(host: string, retryAfter: string | null): AuthError {
  const seconds = Number(retryAfter);
  const wait = Number.isFinite(seconds) && seconds > 0 ? `try again in ${seconds >= 120 ? `${Math.ceil(seconds / 60)} minutes` : `${seconds} seconds`}` : 'try again later';
  return new AuthError(`${host} refuses further logins for now (HTTP 429: too many failed attempts); ${wait}`);
}

function tokenUrl(realm: string, service: string | undefined, scopes: string[], offline?: boolean): string {
  const url = new URL(realm);
  if (service) url.searchParams.set('service', service);
  for (const s of scopes) url.searchParams.append('scope', s);
  if (offline) {
    url.searchParams.set('offline_token', 'true');
    url.searchParams.set('client_id', CLIENT_ID);
  }
  return url.toString();
}

function form(fields: Record<string, string | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v) p.set(k, v);
  return p.toString();
}

export const basicAuth = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Tokens per scope set: a push to b must not reuse a pull-only token for a. */
export class TokenCache {
  private readonly tokens = new Map<string, Token>();

  get(scopes: string[]): Token | undefined {
    const t = this.tokens.get(key(scopes));
    return t && t.expiresAt > Date.now() ? t : undefined;
  }

  set(scopes: string[], token: Token): void {
    this.tokens.set(key(scopes), token);
  }
}

const key = (scopes: string[]): string => [...scopes].sort().join(' ');
