import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SessionLimits, SessionQueries } from '../meta/session-queries.js';

export const SESSION_COOKIE = 'berth_session';
/** A session's last use is written at most this often: a page load makes several requests. */
const TOUCH_INTERVAL_MS = 60_000;
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

export interface Session {
  subject: string;
  csrf: string;
}

/**
 * Login sessions of the web UI. The cookie carries 256 random bits; the
 * database holds only their SHA-256, the user and the session's CSRF token.
 * Sessions end when unused for `idleMs`, `lifetimeMs` after login, at logout,
 * or when the user opens more than `perUser`.
 */
export class Sessions {
  constructor(
    private readonly q: SessionQueries,
    readonly limits: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  async open(subject: string): Promise<{ cookie: string; session: Session }> {
    const cookie = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    await this.q.create(hashOf(cookie), subject, csrf, this.now());
    return { cookie, session: { subject, csrf } };
  }

  /** The session a cookie value opens, if it is live. */
  async find(cookie: string): Promise<Session | undefined> {
    if (!COOKIE_VALUE.test(cookie)) return undefined;
    const now = this.now();
    const row = await this.q.find(hashOf(cookie), now);
    if (!row) return undefined;
    if (now - row.lastSeenAt >= TOUCH_INTERVAL_MS) await this.q.touch(hashOf(cookie), now);
    return { subject: row.subject, csrf: row.csrf };
  }

  async close(cookie: string): Promise<void> {
    if (COOKIE_VALUE.test(cookie)) await this.q.remove(hashOf(cookie));
  }
}

export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const hashOf = (cookie: string): string => createHash('sha256').update(cookie).digest('hex');

/** The value of one cookie in a `Cookie` header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
