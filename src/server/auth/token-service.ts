import type { FastifyInstance } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { RegistryError } from '../../oci/errors.js';
import { header, query, queryAll, type Reply, type Req } from '../http.js';
import type { Htpasswd } from './htpasswd.js';
import type { TokenIssuer } from './issuer.js';
import { basicCredentials, type Logins } from './login.js';
import type { AccessPolicy } from './policy.js';
import { grantScopes, parseScopes } from './scope.js';

export const TOKEN_PATH = '/auth/token';

/** A token request form is a few short fields; anything bigger is not one. */
const MAX_FORM_BYTES = 16 << 10;

export interface TokenServiceDeps {
  issuer: TokenIssuer;
  policy: AccessPolicy;
  logins: Logins;
  users: Htpasswd | undefined;
}

/**
 * The Docker token service: GET with Basic credentials or anonymously
 * (distribution/docs/spec/auth/token.md) and the OAuth2 POST with
 * `grant_type=password` or `refresh_token` (oauth.md).
 */
export function registerTokenService(app: FastifyInstance, deps: TokenServiceDeps): void {
  app.get(TOKEN_PATH, (req, reply) => getToken(deps, req, reply));
  app.post(TOKEN_PATH, (req, reply) => postToken(deps, req, reply));
}

async function getToken(deps: TokenServiceDeps, req: Req, reply: Reply): Promise<Reply> {
  checkService(deps, query(req, 'service'));
  const scopes = parseScopes(queryAll(req, 'scope'));
  const cred = basicCredentials(header(req, 'authorization'));
  if (cred) await deps.logins.check(cred, req.ip, {});
  const user = cred?.user ?? null;
  const refresh = user !== null && query(req, 'offline_token') === 'true' ? await refreshTokenFor(deps, user) : undefined;
  return answer(reply, deps, user, grantScopes(scopes, user, deps.policy), refresh);
}

async function postToken(deps: TokenServiceDeps, req: Req, reply: Reply): Promise<Reply> {
  const form = await readForm(req);
  checkService(deps, form.get('service') ?? undefined);
  const scopes = parseScopes(form.getAll('scope'));
  const offline = form.get('access_type') === 'offline';
  const grant = form.get('grant_type');
  if (grant === 'password') {
    const user = form.get('username') ?? '';
    await deps.logins.check({ user, password: form.get('password') ?? '' }, req.ip, {});
    return answer(reply, deps, user, grantScopes(scopes, user, deps.policy), offline ? await refreshTokenFor(deps, user) : undefined);
  }
  if (grant === 'refresh_token') {
    const presented = form.get('refresh_token') ?? '';
    const read = await deps.issuer.readRefreshToken(presented);
    const current = read && deps.users?.fingerprint(read.subject);
    if (!read || !current || !sameString(current, read.fingerprint)) {
      throw new RegistryError('UNAUTHORIZED', 'the refresh token is invalid, expired or revoked; log in again');
    }
    return answer(reply, deps, read.subject, grantScopes(scopes, read.subject, deps.policy), offline ? presented : undefined);
  }
  throw new RegistryError('UNSUPPORTED', 'grant_type must be password or refresh_token', { status: 400 });
}

async function answer(reply: Reply, deps: TokenServiceDeps, user: string | null, access: ReturnType<typeof grantScopes>, refreshToken?: string): Promise<Reply> {
  const { token, expiresIn, issuedAt } = await deps.issuer.accessToken(user, access);
  const body: Record<string, unknown> = {
    token,
    access_token: token,
    expires_in: expiresIn,
    issued_at: issuedAt.toISOString(),
    scope: access.map((a) => `${a.type}:${a.name}:${a.actions.join(',')}`).join(' '),
  };
  if (refreshToken) body.refresh_token = refreshToken;
  return reply.code(200).header('Cache-Control', 'no-store').type('application/json').send(JSON.stringify(body));
}

async function refreshTokenFor(deps: TokenServiceDeps, user: string): Promise<string | undefined> {
  const fingerprint = deps.users?.fingerprint(user);
  return fingerprint && deps.issuer.refreshToken(user, fingerprint);
}

function checkService(deps: TokenServiceDeps, service: string | undefined): void {
  if (service !== undefined && service !== deps.issuer.service) {
    throw new RegistryError('UNSUPPORTED', `this token service issues tokens for "${deps.issuer.service}", not "${service.slice(0, 100)}"`, { status: 400 });
  }
}

async function readForm(req: Req): Promise<URLSearchParams> {
  const type = header(req, 'content-type') ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) {
    throw new RegistryError('UNSUPPORTED', 'POST a form (application/x-www-form-urlencoded)', { status: 400 });
  }
  let text = '';
  for await (const chunk of req.raw) {
    text += (chunk as Buffer).toString('utf8');
    if (text.length > MAX_FORM_BYTES) throw new RegistryError('UNSUPPORTED', 'token request form too large', { status: 413 });
  }
  return new URLSearchParams(text);
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
