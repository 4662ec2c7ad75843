import type { FastifyInstance } from 'fastify';
import { RegistryError } from '../oci/errors.js';
import type { Logins } from '../server/auth/login.js';
import { contentLength, header, type Reply, type Req } from '../server/http.js';
import { readBounded } from '../registry/bounded-body.js';
import { cookieValue, SESSION_COOKIE, type Session, type Sessions } from './sessions.js';
import type { SessionAuthorizer } from './session-authorizer.js';

/** A login form is two short fields. */
const MAX_LOGIN_BYTES = 16 << 10;
/** The cookie goes only to the JSON API: the UI's own files need no credentials. */
const COOKIE_PATH = '/berth/';

export interface SessionRouteDeps {
  auth: SessionAuthorizer;
  /** Password checks (rate limited, audited); absent when the registry has no htpasswd users to log in with. */
  logins?: Logins;
  sessions?: Sessions;
  /** Mark the cookie Secure: it then travels over TLS only. */
  secure: boolean;
}

/**
 * `GET /berth/v1/session` (who the UI is, its CSRF token, whether it may log
 * in and sees operations), `POST` (log in with a registry user: JSON
 * `{username, password}`), `DELETE` (log out).
 */
export function registerSessionRoutes(app: FastifyInstance, deps: SessionRouteDeps): void {
  app.get('/berth/v1/session', async (req, reply) => describe(deps, reply, await deps.auth.session(req)));
  app.post('/berth/v1/session', (req, reply) => login(deps, req, reply));
  app.delete('/berth/v1/session', (req, reply) => logout(deps, req, reply));
}

async function login(deps: SessionRouteDeps, req: Req, reply: Reply): Promise<Reply> {
  const { logins, sessions } = deps;
  if (!logins || !sessions) throw new RegistryError('UNSUPPORTED', 'this registry has no users to log in as (auth.htpasswd)', { status: 404 });
  if (!/^application\/json\b/i.test(header(req, 'content-type') ?? '')) throw new RegistryError('UNSUPPORTED', 'send the login as application/json', { status: 415 });
  const body = await readBounded(req.raw, contentLength(req), MAX_LOGIN_BYTES, 'login');
  let form: unknown;
  try {
    form = JSON.parse(body.toString('utf8'));
  } catch {
    form = undefined;
  }
  const { username, password } = (form ?? {}) as { username?: unknown; password?: unknown };
  if (typeof username !== 'string' || typeof password !== 'string' || username === '') {
    throw new RegistryError('UNSUPPORTED', 'expected {"username": "...", "password": "..."}', { status: 400 });
  }
  await logins.check({ user: username, password }, req.ip, {});
  const { cookie, session } = await sessions.open(username);
  reply.header('Set-Cookie', cookieHeader(deps, cookie, Math.floor(sessions.limits.lifetimeMs / 1000)));
  return describe(deps, reply, session);
}

async function logout(deps: SessionRouteDeps, req: Req, reply: Reply): Promise<Reply> {
  await deps.auth.authorize(req, { type: 'base' });
  const cookie = cookieValue(header(req, 'cookie'), SESSION_COOKIE);
  if (cookie) await deps.sessions?.close(cookie);
  reply.header('Set-Cookie', cookieHeader(deps, '', 0));
  return describe(deps, reply, undefined);
}

async function describe(deps: SessionRouteDeps, reply: Reply, session: Session | undefined): Promise<Reply> {
  const body = {
    user: session?.subject ?? null,
    csrf: session?.csrf ?? null,
    canLogin: deps.logins !== undefined && deps.sessions !== undefined,
    operator: await deps.auth.audits({ subject: session?.subject ?? null }),
  };
  return reply.code(200).header('Cache-Control', 'no-store').type('application/json').send(JSON.stringify(body));
}

function cookieHeader(deps: SessionRouteDeps, value: string, maxAgeS: number): string {
  return `${SESSION_COOKIE}=${value}; Path=${COOKIE_PATH}; Max-Age=${maxAgeS}; HttpOnly; SameSite=Strict${deps.secure ? '; Secure' : ''}`;
}
