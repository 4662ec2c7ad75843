import { RateLimiterMemory } from 'rate-limiter-flexible';
import { RegistryError } from '../../oci/errors.js';

export interface LoginLimits {
  perUser: number;
  perAddress: number;
  window: number;
}

/**
 * Failed logins counted per user and per client address. Once either count
 * reaches its limit every attempt (even with the right password, which would
 * otherwise confirm a guess) is refused until the window has passed.
 */
export class LoginLimiter {
  private readonly byUser: RateLimiterMemory;
  private readonly byAddress: RateLimiterMemory;

  constructor(private readonly limits: LoginLimits) {
    const duration = Math.max(1, Math.ceil(limits.window / 1000));
    this.byUser = new RateLimiterMemory({ points: limits.perUser, duration });
    this.byAddress = new RateLimiterMemory({ points: limits.perAddress, duration });
  }

  /** Throws 429 TOOMANYREQUESTS (with Retry-After) when this user or address is locked out. */
  async check(user: string, address: string): Promise<void> {
    const [u, a] = await Promise.all([this.byUser.get(user), this.byAddress.get(address)]);
    const waits = [
      u && u.consumedPoints >= this.limits.perUser ? u.msBeforeNext : 0,
      a && a.consumedPoints >= this.limits.perAddress ? a.msBeforeNext : 0,
    ];
    const wait = Math.max(...waits);
    if (wait > 0) {
      const seconds = Math.max(1, Math.ceil(wait / 1000));
      throw new RegistryError('TOOMANYREQUESTS', `too many failed logins; try again in ${seconds}s`, { headers: { 'Retry-After': String(seconds) } });
    }
  }

  async failed(user: string, address: string): Promise<void> {
    await Promise.all([this.byUser.penalty(user, 1), this.byAddress.penalty(address, 1)]);
  }

  async succeeded(user: string): Promise<void> {
    await this.byUser.delete(user);
  }
}
