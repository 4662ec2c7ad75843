import type { FastifyInstance } from 'fastify';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Authorizer } from '../access.js';
import type { Config } from '../../config/config.js';
import type { AuthConfig } from '../../config/auth.js';
import { header, type Req } from '../http.js';
import { AuditLog, type AuditEntry } from './audit.js';
import { BasicAuthorizer, TokenAuthorizer } from './authorizer.js';
import { Htpasswd } from './htpasswd.js';
import { TokenIssuer } from './issuer.js';
import { loadSigningKey } from './keys.js';
import { LoginLimiter } from './login-limit.js';
import { Logins } from './login.js';
import { AccessPolicy } from './policy.js';
import { registerTokenService, TOKEN_PATH, type TokenServiceDeps } from './token-service.js';
import { TokenVerifier } from './verify.js';

export interface AuthSetup {
  authorizer: Authorizer;
  /** Adds the token service routes (if any) and the audit hook. */
  install(app: FastifyInstance): void;
  close(): void;
}

/** Builds the authorizer the `auth:` and `access:` sections describe, or undefined when there is no `auth:`. */
export async function openAuth(config: Config, logger: Logger, opts: { tls: boolean; onAudit?: (entry: AuditEntry) => void }): Promise<AuthSetup | undefined> {
  const auth = config.auth;
  if (!auth) return undefined;
  const audit = new AuditLog(logger, auth.auditLog && resolve(auth.auditLog), opts.onAudit);
  const users = auth.htpasswd
    ? new Htpasswd(resolve(auth.htpasswd), (err) => logger.error({ reason: err.message }, 'the htpasswd file changed but cannot be used; keeping the previous users'))
    : undefined;
  if (users) logger.info({ htpasswd: users.path, ...users.summary() }, 'users loaded');
  const policy = new AccessPolicy(config.access, auth.groups);
  const logins = new Logins(users, new LoginLimiter(auth.loginLimit), audit, auth.loginLimit);

  const { authorizer, tokenService } = await chooseMode(config, auth, { policy, audit, logins, users, tls: opts.tls });
  return {
    authorizer,
    install(app) {
      if (tokenService) registerTokenService(app, tokenService);
      audit.install(app, (req) => authorizer.identities.get(req));
    },
    close: () => audit.close(),
  };
}

interface Parts {
  policy: AccessPolicy;
  audit: AuditLog;
  logins: Logins;
  users: Htpasswd | undefined;
  tls: boolean;
}

/** Token mode when a built-in or external issuer is configured (the built-in one also serves /auth/token), else Basic. */
async function chooseMode(config: Config, auth: AuthConfig, p: Parts): Promise<{ authorizer: BasicAuthorizer | TokenAuthorizer; tokenService?: TokenServiceDeps }> {
  const verifier = new TokenVerifier();
  if (auth.external) verifier.addExternal(auth.external);
  if (auth.token) {
    const t = auth.token;
    const key = await loadSigningKey(resolve(t.key ?? join(config.data, 'auth', 'token-key.pem')), t.algorithm);
    const service = t.service ?? t.issuer;
    verifier.addBuiltin(t.issuer, service, key);
    const fixed = t.realm;
    const realm = fixed ? () => fixed : (req: Req) => `${p.tls ? 'https' : 'http'}://${hostOf(req)}${TOKEN_PATH}`;
    return {
      authorizer: new TokenAuthorizer(p.policy, p.audit, verifier, realm, service),
      tokenService: { issuer: new TokenIssuer(key, t.issuer, service, seconds(t.expiry), seconds(t.refreshExpiry)), policy: p.policy, logins: p.logins, users: p.users },
    };
  }
  if (auth.external) {
    const { realm, service } = auth.external;
    return { authorizer: new TokenAuthorizer(p.policy, p.audit, verifier, () => realm, service) };
  }
  return { authorizer: new BasicAuthorizer(p.policy, p.audit, auth.realm, p.logins) };
}

const seconds = (ms: number): number => Math.max(1, Math.round(ms / 1000));

/** The Host the client used, so the realm points where it can reach; anything that could break the header is not echoed. */
function hostOf(req: Req): string {
  const host = header(req, 'host');
  if (host && /^[A-Za-z0-9.:[\]-]{1,300}$/.test(host)) return host;
  const { localAddress, localPort } = req.socket;
  return localAddress?.includes(':') ? `[${localAddress}]:${localPort}` : `${localAddress}:${localPort}`;
}
