import { RegistryError } from '../../oci/errors.js';
import type { Action, Authorizer, Identity, Need } from '../access.js';
import { header, type Req } from '../http.js';
import type { AuditLog } from './audit.js';
import { basicCredentials, type Logins } from './login.js';
import type { AccessPolicy } from './policy.js';
import { CATALOG_SCOPE, grants, METRICS_SCOPE, type Grant } from './scope.js';
import { InvalidTokenError, type TokenVerifier } from './verify.js';

/** An identity with the token grants it came with (none in Basic mode). */
interface AuthIdentity extends Identity {
  access: Grant[];
  /** Whether a valid bearer token came with the request. */
  token: boolean;
}

/**
 * What both modes share: `policy` decides what a user may pull from (mount
 * sources, catalog filtering), refusals are audited, and each request's
 * identity is kept for the audit lines written after the response.
 */
abstract class PolicyAuthorizer implements Authorizer {
  readonly identities = new WeakMap<object, Identity>();

  constructor(
    protected readonly policy: AccessPolicy,
    protected readonly audit: AuditLog,
  ) {}

  protected abstract identify(req: Req, need: Need): Promise<AuthIdentity>;
  protected abstract refusal(req: Req, who: AuthIdentity, need: Need): RegistryError | undefined;

  async authorize(req: Req, need: Need): Promise<Identity> {
    const who = await this.identify(req, need);
    const refusal = this.refusal(req, who, need);
    if (refusal) {
      // The anonymous first request every client makes before it logs in is not worth a line; anything else is.
      if (who.subject !== null || header(req, 'authorization') || (need.type === 'repository' && need.actions.some((a) => a !== 'pull'))) {
        this.audit.record({ event: 'denied', who: who.subject, client: req.ip, result: 'denied', ...describe(need), status: refusal.status });
      }
      throw refusal;
    }
    this.identities.set(req, who);
    return who;
  }

  async allows(identity: Identity, repo: string, action: Action): Promise<boolean> {
    const access = (identity as Partial<AuthIdentity>).access ?? [];
    return grants(access, 'repository', repo, [action]) || this.policy.allows(identity.subject, repo, [action]);
  }

  async audits(identity: Identity): Promise<boolean> {
    const access = (identity as Partial<AuthIdentity>).access ?? [];
    return grants(access, 'registry', 'usage', ['*']) || this.policy.allowsEverywhere(identity.subject, 'usage');
  }

  identityOf(req: object): Identity | undefined {
    return this.identities.get(req);
  }
}

/** Basic mode: the password on every request; a known user without a rule gets 403. */
export class BasicAuthorizer extends PolicyAuthorizer {
  private readonly challenge: Record<string, string>;

  constructor(policy: AccessPolicy, audit: AuditLog, realm: string, private readonly logins: Logins) {
    super(policy, audit);
    this.challenge = { 'WWW-Authenticate': `Basic realm="${realm}",charset="UTF-8"` };
  }

  protected async identify(req: Req, need: Need): Promise<AuthIdentity> {
    const cred = basicCredentials(header(req, 'authorization'));
    if (!cred) return { subject: null, access: [], token: false };
    // Only the `/v2/` ping (what `docker login` sends) counts as a login for the audit log.
    await this.logins.check(cred, req.ip, this.challenge, need.type !== 'base');
    return { subject: cred.user, access: [], token: false };
  }

  protected refusal(_req: Req, who: AuthIdentity, need: Need): RegistryError | undefined {
    const allowed =
      need.type === 'repository'
        ? this.policy.allows(who.subject, need.name, need.actions)
        : need.type === 'metrics'
          ? this.policy.allowsEverywhere(who.subject, 'metrics')
          : who.subject !== null;
    if (allowed) return undefined;
    if (who.subject === null) return new RegistryError('UNAUTHORIZED', 'authentication required', { headers: this.challenge, detail: detail(need) });
    return new RegistryError('DENIED', `${who.subject} may not ${what(need)}`, { detail: detail(need) });
  }
}

/** Token mode: a bearer token's grants decide; without one the client is sent to the token service. */
export class TokenAuthorizer extends PolicyAuthorizer {
  constructor(
    policy: AccessPolicy,
    audit: AuditLog,
    private readonly verifier: TokenVerifier,
    private readonly realm: (req: Req) => string,
    private readonly service: string,
  ) {
    super(policy, audit);
  }

  protected async identify(req: Req, need: Need): Promise<AuthIdentity> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header(req, 'authorization') ?? '');
    if (!m) return { subject: null, access: [], token: false };
    try {
      return { ...(await this.verifier.verify(m[1]!)), token: true };
    } catch (e) {
      if (!(e instanceof InvalidTokenError)) throw e;
      this.audit.record({ event: 'denied', who: null, client: req.ip, result: 'denied', ...describe(need), status: 401, reason: `token ${e.message}` });
      throw new RegistryError('UNAUTHORIZED', `invalid token: ${e.message}`, { headers: this.challenge(req, need, 'invalid_token') });
    }
  }

  protected refusal(req: Req, who: AuthIdentity, need: Need): RegistryError | undefined {
    const ok =
      need.type === 'base'
        ? who.token
        : need.type === 'catalog'
          ? grants(who.access, 'registry', 'catalog', ['*'])
          : need.type === 'metrics'
            ? grants(who.access, 'registry', 'metrics', ['*'])
            : grants(who.access, 'repository', need.name, need.actions);
    if (ok) return undefined;
    return new RegistryError('UNAUTHORIZED', who.token ? `the token does not allow to ${what(need)}` : 'authentication required', {
      headers: this.challenge(req, need, who.token ? 'insufficient_scope' : undefined),
      detail: detail(need),
    });
  }

  private challenge(req: Req, need: Need, error?: string): Record<string, string> {
    const scope = need.type === 'repository' ? `repository:${need.name}:${need.actions.join(',')}` : need.type === 'catalog' ? CATALOG_SCOPE : need.type === 'metrics' ? METRICS_SCOPE : undefined;
    const params = [`realm="${this.realm(req)}"`, `service="${this.service}"`];
    if (scope) params.push(`scope="${scope}"`);
    if (error) params.push(`error="${error}"`);
    return { 'WWW-Authenticate': `Bearer ${params.join(',')}` };
  }
}

function what(need: Need): string {
  if (need.type === 'repository') return `${need.actions.join('+')} ${need.name}`;
  return need.type === 'catalog' ? 'list the catalog' : need.type === 'metrics' ? 'see the metrics (needs metrics on "**")' : 'use this registry';
}

function describe(need: Need): { repository?: string; actions?: Action[] | string[] } {
  if (need.type === 'repository') return { repository: need.name, actions: need.actions };
  return need.type === 'catalog' ? { actions: ['catalog'] } : need.type === 'metrics' ? { actions: ['metrics'] } : {};
}

/** The access records Distribution puts in the error detail. */
function detail(need: Need): unknown {
  if (need.type === 'repository') return need.actions.map((a) => ({ Type: 'repository', Name: need.name, Action: a }));
  if (need.type === 'catalog' || need.type === 'metrics') return [{ Type: 'registry', Name: need.type, Action: '*' }];
  return undefined;
}
