import { RegistryError } from '../oci/errors.js';
import type { Action, Authorizer, Identity, Need } from '../server/access.js';
import { header, type Req } from '../server/http.js';
import { changesState } from '../server/same-origin.js';
import { cookieValue, sameToken, SESSION_COOKIE, type Session, type Sessions } from './sessions.js';

/** The web UI marks its requests with this header, so a refusal to them carries no challenge (no browser password prompt). */
export const UI_HEADER = 'x-berth-ui';
export const CSRF_HEADER = 'x-csrf-token';

/**
 * The `/berth/v1/` API's authorizer: requests with credentials (Basic, a
 * token) and requests a script sends without any go to the registry's own
 * authorizer, exactly as on `/v2/`. A request with a UI session cookie is
 * that user's, and one the UI marks without a session is anonymous; both are
 * judged by the same access rules (`allows`), and a state-changing one must
 * carry its session's CSRF token. `/v2/` never looks at the cookie.
 */
export class SessionAuthorizer implements Authorizer {
  /** Who each request judged here was, for the request log and the audit. */
  private readonly identities = new WeakMap<object, Identity>();

  constructor(
    private readonly inner: Authorizer,
    private readonly sessions: Sessions | undefined,
  ) {}

  async authorize(req: Req, need: Need): Promise<Identity> {
    if (header(req, 'authorization') !== undefined) return this.inner.authorize(req, need);
    const session = await this.session(req);
    if (!session && header(req, UI_HEADER) === undefined) return this.inner.authorize(req, need);
    if (changesState(req)) checkCsrf(req, session);
    const who: Identity = { subject: session?.subject ?? null };
    if (need.type === 'repository') {
      for (const action of need.actions) if (!(await this.inner.allows(who, need.name, action))) throw refusal(who, need.name, need.actions);
    }
    this.identities.set(req, who);
    return who;
  }

  allows(identity: Identity, repo: string, action: Action): Promise<boolean> {
    return this.inner.allows(identity, repo, action);
  }

  audits(identity: Identity): Promise<boolean> {
    return this.inner.audits(identity);
  }

  identityOf(req: object): Identity | undefined {
    return this.identities.get(req) ?? this.inner.identityOf(req);
  }

  /** The live session of the request's cookie, if any. */
  async session(req: Req): Promise<Session | undefined> {
    const cookie = cookieValue(header(req, 'cookie'), SESSION_COOKIE);
    return cookie && this.sessions ? this.sessions.find(cookie) : undefined;
  }
}

function checkCsrf(req: Req, session: Session | undefined): void {
  const token = header(req, CSRF_HEADER);
  // Without a session the custom header alone is the proof: no other site can send it without a preflight this server never answers.
  if (token === undefined || (session && !sameToken(token, session.csrf))) {
    throw new RegistryError('DENIED', 'missing or wrong CSRF token: reload the page and try again', { status: 403 });
  }
}

/** The same words whether or not the repository exists: a refusal reveals nothing. */
function refusal(who: Identity, repo: string, actions: Action[]): RegistryError {
  const what = `${actions.join('+')} ${repo}`;
  if (who.subject === null) return new RegistryError('UNAUTHORIZED', `log in to ${what}`, { status: 401 });
  return new RegistryError('DENIED', `${who.subject} may not ${what}`);
}
