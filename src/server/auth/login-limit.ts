import { LRUCache } from 'lru-cache';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { RegistryError } from '../../oci/errors.js';

export interface LoginLimits {
  /** Failed logins for one user from one address before that pair is locked for the window. */
  perUserAddress: number;
  /** Failed logins from one address, any user, before the address is locked. */
  perAddress: number;
  /** Failed logins for one user from anywhere before checks from addresses new to that user are slowed down. */
  perUser: number;
  window: number;
}

/** While a user is under attack, one password check per this interval from addresses that never logged in as them. */
const SLOW_INTERVAL_S = 5;
/** How long a successful (user, address) pair is trusted to bypass the slow-down, and how many pairs are remembered. */
const TRUSTED_TTL_MS = 24 * 3600_000;
const TRUSTED_PAIRS = 50_000;

/** One admitted password check: tell the limiter how it went. */
export interface Admission {
  succeeded(): Promise<void>;
}

/**
 * Login rate limits (docs/SECURITY.md, "Failed logins"). Attempts are counted
 * when they start, not when they fail, so a burst of concurrent guesses gets
 * no more checks than a sequence would; a success gives its point back.
 *
 * Locks are per (user, address) and per address, so an attacker elsewhere
 * cannot lock out a client that keeps presenting the right password. Per
 * user (from any address) there is no lock, only a slow-down: once a user
 * has many failures, addresses that never logged in as them get one check
 * per few seconds between them, while addresses that did are not slowed.
 */
export class LoginLimiter {
  private readonly pairs: RateLimiterMemory;
  private readonly addresses: RateLimiterMemory;
  private readonly users: RateLimiterMemory;
  private readonly slow = new RateLimiterMemory({ points: 1, duration: SLOW_INTERVAL_S });
  private readonly trusted = new LRUCache<string, true>({ max: TRUSTED_PAIRS, ttl: TRUSTED_TTL_MS });

  constructor(limits: LoginLimits) {
    const duration = Math.max(1, Math.ceil(limits.window / 1000));
    this.pairs = new RateLimiterMemory({ points: limits.perUserAddress, duration });
    this.addresses = new RateLimiterMemory({ points: limits.perAddress, duration });
    this.users = new RateLimiterMemory({ points: limits.perUser, duration });
  }

  /**
   * Throws 429 when this pair or address is locked: before anything else,
   * even a password verified moments ago, so a lock cannot be probed with guesses.
   */
  async refuseIfLocked(user: string, address: string): Promise<void> {
    for (const [limiter, key] of [
      [this.pairs, pairOf(user, address)],
      [this.addresses, address],
    ] as const) {
      const r = await limiter.get(key);
      if (r && r.remainingPoints <= 0) throw limited(r, 'too many failed logins');
    }
  }

  /** Counts the attempt as failed until told otherwise; throws 429 TOOMANYREQUESTS (with Retry-After) when it may not be checked. */
  async admit(user: string, address: string): Promise<Admission> {
    const pair = pairOf(user, address);
    const byUser = await this.users.get(user);
    if (byUser && byUser.remainingPoints <= 0 && !this.trusted.has(pair)) {
      await this.slow.consume(user).catch((r: unknown) => {
        throw limited(r, `too many failed logins for ${user} from elsewhere; checks from new addresses are slowed down`);
      });
    }
    await this.consumeAll([
      [this.pairs, pair],
      [this.addresses, address],
    ]);
    // The per-user count only decides the slow-down; it never refuses by itself.
    await this.users.penalty(user, 1);
    return {
      succeeded: async () => {
        this.trusted.set(pair, true);
        await Promise.all([this.pairs.delete(pair), this.addresses.reward(address, 1), this.users.reward(user, 1)]);
      },
    };
  }

  private async consumeAll(counters: [RateLimiterMemory, string][]): Promise<void> {
    const taken: [RateLimiterMemory, string][] = [];
    for (const [limiter, key] of counters) {
      try {
        await limiter.consume(key, 1);
        taken.push([limiter, key]);
      } catch (r) {
        // Not checked, so not an attempt: give back what this one took.
        await Promise.all(taken.map(([l, k]) => l.reward(k, 1)));
        await limiter.reward(key, 1);
        throw limited(r, 'too many failed logins');
      }
    }
  }
}

const pairOf = (user: string, address: string): string => `${user}\u0000${address}`;

function limited(r: unknown, why: string): RegistryError {
  if (!(r instanceof RateLimiterRes)) return r as RegistryError;
  const seconds = Math.max(1, Math.ceil(r.msBeforeNext / 1000));
  return new RegistryError('TOOMANYREQUESTS', `${why}; try again in ${seconds}s`, { headers: { 'Retry-After': String(seconds) } });
}
