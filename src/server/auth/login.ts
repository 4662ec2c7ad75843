import pLimit, { type LimitFunction } from 'p-limit';
import { RegistryError, isRegistryError } from '../../oci/errors.js';
import type { AuditLog } from './audit.js';
import type { Htpasswd } from './htpasswd.js';
import type { Admission, LoginLimiter } from './login-limit.js';

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

export interface CheckLimits {
  /** bcrypt checks running at once: each holds one of libuv's threads, which file I/O needs too. */
  concurrent: number;
  /** Checks waiting for one of those; beyond it a login is refused at once (429) instead of queued. */
  queue: number;
}

/** Password checks: bounded, rate limited per user and client address, each one audited. */
export class Logins {
  private readonly checks: LimitFunction;
  /** Password checks running or waiting to run. */
  private inFlight = 0;

  constructor(
    private readonly users: Htpasswd | undefined,
    private readonly limiter: LoginLimiter,
    private readonly audit: AuditLog,
    private readonly limits: CheckLimits,
  ) {
    this.checks = pLimit(limits.concurrent);
  }

  /**
   * Resolves when the password is right; otherwise throws UNAUTHORIZED (with
   * `challenge` headers) or TOOMANYREQUESTS. `quiet` skips the success line
   * (Basic mode checks every request, and a line per request is noise).
   */
  async check(cred: BasicCredentials, client: string, challenge: Record<string, string>, quiet = false): Promise<void> {
    const admission = await this.admit(cred, client);
    if (!admission) return;
    let ok: boolean;
    try {
      ok = await this.checks(async () => (await this.users?.verify(cred.user, cred.password)) ?? false);
    } finally {
      this.inFlight--;
    }
    if (!ok) {
      this.audit.record({ event: 'login', who: cred.user, client, result: 'failed' });
      throw new RegistryError('UNAUTHORIZED', 'incorrect username or password', { headers: challenge });
    }
    await admission.succeeded();
    if (!quiet) this.audit.record({ event: 'login', who: cred.user, client, result: 'ok' });
  }

  /**
   * The limiter's say, in order; undefined when the password was verified
   * moments ago and needs no check. An admitted check holds one of the
   * running-or-waiting places until `check` gives it back.
   */
  private async admit(cred: BasicCredentials, client: string): Promise<Admission | undefined> {
    try {
      await this.limiter.refuseIfLocked(cred.user, client);
      if (this.users?.verifiedRecently(cred.user, cred.password)) return undefined;
      // Counted before anything else is awaited, so a burst cannot all pass the check at once.
      if (this.inFlight >= this.limits.concurrent + this.limits.queue) {
        throw new RegistryError('TOOMANYREQUESTS', 'too many logins in progress; try again shortly', { headers: { 'Retry-After': '1' } });
      }
      this.inFlight++;
      try {
        return await this.limiter.admit(cred.user, client);
      } catch (e) {
        this.inFlight--;
        throw e;
      }
    } catch (e) {
      if (isRegistryError(e)) this.audit.record({ event: 'login', who: cred.user, client, result: 'limited', reason: e.message });
      throw e;
    }
  }
}
