import { RegistryError, isRegistryError } from '../../oci/errors.js';
import type { AuditLog } from './audit.js';
import type { Htpasswd } from './htpasswd.js';
import type { LoginLimiter } from './login-limit.js';

export interface BasicCredentials {
  user: string;
  password: string;
}

/** `Authorization: Basic ...`, or undefined when the header is absent or another scheme. */
export function basicCredentials(authorization: string | undefined): BasicCredentials | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Password checks: rate limited per user and client address, each one audited. */
export class Logins {
  constructor(
    private readonly users: Htpasswd | undefined,
    private readonly limiter: LoginLimiter,
    private readonly audit: AuditLog,
  ) {}

  /**
   * Resolves when the password is right; otherwise throws UNAUTHORIZED (with
   * `challenge` headers) or TOOMANYREQUESTS. `quiet` skips the success line
   * (Basic mode checks every request, and a line per request is noise).
   */
  async check(cred: BasicCredentials, client: string, challenge: Record<string, string>, quiet = false): Promise<void> {
    try {
      await this.limiter.check(cred.user, client);
    } catch (e) {
      if (isRegistryError(e)) this.audit.record({ event: 'login', who: cred.user, client, result: 'limited' });
      throw e;
    }
    const ok = (await this.users?.verify(cred.user, cred.password)) ?? false;
    if (!ok) {
      await this.limiter.failed(cred.user, client);
      this.audit.record({ event: 'login', who: cred.user, client, result: 'failed' });
      throw new RegistryError('UNAUTHORIZED', 'incorrect username or password', { headers: challenge });
    }
    await this.limiter.succeeded(cred.user);
    if (!quiet) this.audit.record({ event: 'login', who: cred.user, client, result: 'ok' });
  }
}
