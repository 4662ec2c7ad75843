import type { FastifyInstance } from 'fastify';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Authorizer } from '../access.js';
import type { Config } from '../config.js';
import { header, type Req } from '../http.js';
import { AuditLog } from './audit.js';
import { PolicyAuthorizer, type Mode } from './authorizer.js';
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
export async function openAuth(config: Config, logger: Logger, opts: { tls: boolean }): Promise<AuthSetup | undefined> {
  const auth = config.auth;
  if (!auth) return undefined;
  const audit = new AuditLog(logger, auth.auditLog && resolve(auth.auditLog));
  const users = auth.htpasswd
    ? new Htpasswd(resolve(auth.htpasswd), (err) => logger.error({ reason: err.message }, 'the htpasswd file changed but cannot be used; keeping the previous users'))
    : undefined;
  const policy = new AccessPolicy(config.access, auth.groups);
  const logins = new Logins(users, new LoginLimiter(auth.loginLimit), audit);

  let mode: Mode = { kind: 'basic', realm: auth.realm, logins };
  let tokenService: TokenServiceDeps | undefined;
  if (auth.token) {
    const t = auth.token;
    const key = await loadSigningKey(resolve(t.key ?? join(config.data, 'auth', 'token-key.pem')), t.algorithm);
    const service = t.service ?? t.issuer;
    const issuer = new TokenIssuer(key, t.issuer, service, seconds(t.expiry), seconds(t.refreshExpiry));
    const verifier = new TokenVerifier();
    verifier.addBuiltin(t.issuer, service, key);
    if (auth.external) verifier.addExternal(auth.external);
    tokenService = { issuer, policy, logins, users };
    const realm = t.realm;
    mode = { kind: 'token', verifier, service, realm: realm ? () => realm : (req) => `${opts.tls ? 'https' : 'http'}://${hostOf(req)}${TOKEN_PATH}` };
  } else if (auth.external) {
    const verifier = new TokenVerifier();
    verifier.addExternal(auth.external);
    const { realm, service } = auth.external;
    mode = { kind: 'token', verifier, service, realm: () => realm };
  }

  const authorizer = new PolicyAuthorizer(mode, policy, audit);
  return {
    authorizer,
    install(app) {
      if (tokenService) registerTokenService(app, tokenService);
      audit.install(app, (req) => authorizer.identities.get(req));
    },
    close: () => audit.close(),
  };
}

const seconds = (ms: number): number => Math.max(1, Math.round(ms / 1000));

/** The Host the client used, so the realm points where it can reach; anything that could break the header is not echoed. */
function hostOf(req: Req): string {
  const host = header(req, 'host');
  if (host && /^[A-Za-z0-9.:[\]-]{1,300}$/.test(host)) return host;
  const { localAddress, localPort } = req.socket;
  return localAddress?.includes(':') ? `[${localAddress}]:${localPort}` : `${localAddress}:${localPort}`;
}
