import { RegistryError } from '../../oci/errors.js';
import type { Action, Authorizer, Identity, Need } from '../access.js';
import { header, type Req } from '../http.js';
import type { AuditLog } from './audit.js';
import { basicCredentials, type Logins } from './login.js';
import type { AccessPolicy } from './policy.js';
import { CATALOG_SCOPE, grants, type Grant } from './scope.js';
import { InvalidTokenError, type TokenVerifier } from './verify.js';

/** An identity with the token grants it came with (none in Basic mode). */
interface AuthIdentity extends Identity {
  access: Grant[];
  /** Whether a valid bearer token came with the request. */
  token: boolean;
}

export type Mode =
  | { kind: 'basic'; realm: string; logins: Logins }
  | { kind: 'token'; verifier: TokenVerifier; realm: (req: Req) => string; service: string };

/**
 * Basic mode checks the password on every request; token mode checks a bearer
 * token's grants. Either way `policy` decides what a user may pull from (mount
 * sources, catalog filtering), and refusals are audited.
 */
export class PolicyAuthorizer implements Authorizer {
  /** Who made each request, for the audit lines written after the response. */
  readonly identities = new WeakMap<object, Identity>();

  constructor(
    private readonly mode: Mode,
    private readonly policy: AccessPolicy,
    private readonly audit: AuditLog,
  ) {}

  async authorize(req: Req, need: Need): Promise<Identity> {
    const who = this.mode.kind === 'basic' ? await this.basicIdentity(req, need) : await this.tokenIdentity(req, need);
    const refusal = this.mode.kind === 'basic' ? this.basicRefusal(who, need) : this.tokenRefusal(req, who, need);
    if (refusal) {
      if (who.subject !== null || header(req, 'authorization') || (need.type === 'repository' && need.actions.some((a) => a !== 'pull'))) {
        this.audit.record({ event: 'denied', who: who.subject, client: req.ip, result: 'denied', ...describe(need), status: refusal.status });
      }
      throw refusal;
    }
    this.identities.set(req, who);
    return who;
  }

  async canPull(identity: Identity, repo: string): Promise<boolean> {
    const access = (identity as Partial<AuthIdentity>).access ?? [];
    return grants(access, 'repository', repo, ['pull']) || this.policy.allows(identity.subject, repo, ['pull']);
  }

  private async basicIdentity(req: Req, need: Need): Promise<AuthIdentity> {
    const mode = this.mode as Extract<Mode, { kind: 'basic' }>;
    const cred = basicCredentials(header(req, 'authorization'));
    if (!cred) return { subject: null, access: [], token: false };
    await mode.logins.check(cred, req.ip, this.basicChallenge(), need.type !== 'base');
    return { subject: cred.user, access: [], token: false };
  }

  private basicRefusal(who: AuthIdentity, need: Need): RegistryError | undefined {
    const allowed = need.type === 'repository' ? this.policy.allows(who.subject, need.name, need.actions) : who.subject !== null;
    if (allowed) return undefined;
    if (who.subject === null) return new RegistryError('UNAUTHORIZED', 'authentication required', { headers: this.basicChallenge(), detail: detail(need) });
    return new RegistryError('DENIED', `${who.subject} may not ${what(need)}`, { detail: detail(need) });
  }

  private basicChallenge(): Record<string, string> {
    return { 'WWW-Authenticate': `Basic realm="${(this.mode as { realm: string }).realm}",charset="UTF-8"` };
  }

  private async tokenIdentity(req: Req, need: Need): Promise<AuthIdentity> {
    const mode = this.mode as Extract<Mode, { kind: 'token' }>;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header(req, 'authorization') ?? '');
    if (!m) return { subject: null, access: [], token: false };
    try {
      return { ...(await mode.verifier.verify(m[1]!)), token: true };
    } catch (e) {
      if (!(e instanceof InvalidTokenError)) throw e;
      this.audit.record({ event: 'denied', who: null, client: req.ip, result: 'denied', ...describe(need), status: 401, reason: `token ${e.message}` });
      throw new RegistryError('UNAUTHORIZED', `invalid token: ${e.message}`, { headers: this.bearerChallenge(req, need, 'invalid_token') });
    }
  }

  private tokenRefusal(req: Req, who: AuthIdentity, need: Need): RegistryError | undefined {
    const ok =
      need.type === 'base' ? who.token : need.type === 'catalog' ? grants(who.access, 'registry', 'catalog', ['*']) : grants(who.access, 'repository', need.name, need.actions);
    if (ok) return undefined;
    const error = who.token ? 'insufficient_scope' : undefined;
    return new RegistryError('UNAUTHORIZED', who.token ? `the token does not allow to ${what(need)}` : 'authentication required', {
      headers: this.bearerChallenge(req, need, error),
      detail: detail(need),
    });
  }

  private bearerChallenge(req: Req, need: Need, error?: string): Record<string, string> {
    const mode = this.mode as Extract<Mode, { kind: 'token' }>;
    const scope = need.type === 'repository' ? `repository:${need.name}:${need.actions.join(',')}` : need.type === 'catalog' ? CATALOG_SCOPE : undefined;
    const params = [`realm="${mode.realm(req)}"`, `service="${mode.service}"`];
    if (scope) params.push(`scope="${scope}"`);
    if (error) params.push(`error="${error}"`);
    return { 'WWW-Authenticate': `Bearer ${params.join(',')}` };
  }
}

function what(need: Need): string {
  if (need.type === 'repository') return `${need.actions.join('+')} ${need.name}`;
  return need.type === 'catalog' ? 'list the catalog' : 'use this registry';
}

function describe(need: Need): { repository?: string; actions?: Action[] | string[] } {
  if (need.type === 'repository') return { repository: need.name, actions: need.actions };
  return need.type === 'catalog' ? { actions: ['catalog'] } : {};
}

/** The access records Distribution puts in the error detail. */
function detail(need: Need): unknown {
  if (need.type === 'repository') return need.actions.map((a) => ({ Type: 'repository', Name: need.name, Action: a }));
  return need.type === 'catalog' ? [{ Type: 'registry', Name: 'catalog', Action: '*' }] : undefined;
}
