import { hash, hashSync, verify } from '@node-rs/bcrypt';
import { LRUCache } from 'lru-cache';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

/** Bcrypt only: Apache's `htpasswd -B` writes `$2y$`, other tools `$2a$`/`$2b$`. MD5, SHA1 and crypt are too weak to accept. */
const BCRYPT = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;
const USER = /^[^:\s]+$/;

export class HtpasswdError extends Error {}

/** Parses an htpasswd file into user -> bcrypt hash; every bad line is named (never its hash). */
export function parseHtpasswd(text: string, path: string): Map<string, string> {
  const users = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const at = `${path} line ${i + 1}`;
    const colon = line.indexOf(':');
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (colon <= 0 || !USER.test(user)) throw new HtpasswdError(`${at}: expected USER:HASH`);
    if (!BCRYPT.test(hash)) {
      throw new HtpasswdError(
        `${at}: user "${user}" has a ${hashKind(hash)} password hash; only bcrypt ($2y$, $2a$, $2b$) is accepted. ` +
          `Set it again with \`htpasswd -B ${path} ${user}\` or \`berth user add ${user} --file ${path}\``,
      );
    }
    users.set(user, hash);
  });
  return users;
}

function hashKind(hash: string): string {
  if (hash.startsWith('$apr1$')) return 'MD5 ($apr1$)';
  if (hash.startsWith('{SHA}')) return 'SHA1 ({SHA})';
  if (hash.startsWith('$1$')) return 'MD5-crypt ($1$)';
  if (hash.startsWith('$5$') || hash.startsWith('$6$')) return 'SHA-crypt';
  if (hash.startsWith('$2')) return 'malformed bcrypt';
  return 'crypt or plain-text';
}

export const isValidUsername = (name: string): boolean => USER.test(name);

/** What one successful bcrypt check is remembered for: Basic mode sends the password on every request. */
const VERIFIED_TTL_MS = 60_000;
const VERIFIED_ENTRIES = 10_000;
/** Cost of the decoy before the file says otherwise (`htpasswd -B`'s default is 5, `berth user add`'s 10). */
const DEFAULT_COST = 10;

/**
 * The users of an htpasswd file, re-read when the file changes (so `berth user
 * del` takes effect on a running server). A broken edit keeps the last good
 * content and is reported through `onReloadError`.
 *
 * bcrypt runs in libuv's thread pool (@node-rs/bcrypt), never on the event
 * loop; callers bound how many run at once (src/server/auth/login.ts).
 */
export class Htpasswd {
  private users: Map<string, string>;
  private mtimeMs: number;
  private readonly cacheKey = randomBytes(32);
  private readonly verified = new LRUCache<string, { hash: string }>({ max: VERIFIED_ENTRIES, ttl: VERIFIED_TTL_MS });
  /**
   * A hash to check against when the user does not exist, at the median cost
   * of the file's hashes: an unknown user then takes as long as a known one.
   */
  private decoy: string;
  private decoyCost: number;

  constructor(
    readonly path: string,
    private readonly onReloadError: (err: Error) => void,
  ) {
    this.mtimeMs = this.stat();
    this.users = this.read();
    this.decoyCost = medianCost(this.users) ?? DEFAULT_COST;
    this.decoy = hashSync(randomBytes(16).toString('hex'), this.decoyCost);
  }

  /** True when this password was verified for this user within the last minute (and the user's hash is unchanged). */
  verifiedRecently(user: string, password: string): boolean {
    const hash = this.current().get(user);
    return hash !== undefined && this.verified.get(this.keyOf(user, password))?.hash === hash;
  }

  /** True when `password` is the user's; takes as long whether or not the user exists. */
  async verify(user: string, password: string): Promise<boolean> {
    const hash = this.current().get(user);
    const ok = await verify(password, hash ?? this.decoy);
    if (ok && hash) this.verified.set(this.keyOf(user, password), { hash });
    return ok && hash !== undefined;
  }

  /** For the startup log line: an operator can see that unknown users cost what known ones do. */
  summary(): { users: number; decoyCost: number } {
    return { users: this.current().size, decoyCost: this.decoyCost };
  }

  /** A short fingerprint of the user's hash: refresh tokens carry it, so a password change or removal revokes them. */
  fingerprint(user: string): string | undefined {
    const hash = this.current().get(user);
    return hash && createHash('sha256').update(hash).digest('base64url').slice(0, 16);
  }

  private keyOf(user: string, password: string): string {
    return createHmac('sha256', this.cacheKey).update(user).update('\0').update(password).digest('base64');
  }

  private current(): Map<string, string> {
    try {
      const mtimeMs = this.stat();
      if (mtimeMs !== this.mtimeMs) {
        this.mtimeMs = mtimeMs;
        this.users = this.read();
        this.renewDecoy();
      }
    } catch (e) {
      this.onReloadError(e as Error);
    }
    return this.users;
  }

  /** A new median cost gets a new decoy, made off the event loop; until then the old one serves. */
  private renewDecoy(): void {
    const cost = medianCost(this.users) ?? DEFAULT_COST;
    if (cost === this.decoyCost) return;
    this.decoyCost = cost;
    hash(randomBytes(16).toString('hex'), cost).then(
      (h) => void (this.decoyCost === cost && (this.decoy = h)),
      (e: unknown) => this.onReloadError(e as Error),
    );
  }

  private stat(): number {
    try {
      return statSync(this.path).mtimeMs;
    } catch (e) {
      throw new HtpasswdError(`auth.htpasswd: cannot read ${this.path}: ${(e as Error).message}`);
    }
  }

  private read(): Map<string, string> {
    return parseHtpasswd(readFileSync(this.path, 'utf8'), this.path);
  }
}

/** The median bcrypt cost (`$2y$NN$...`) of the users' hashes; undefined for an empty file. */
export function medianCost(users: Map<string, string>): number | undefined {
  const costs = [...users.values()].map((h) => Number(h.slice(4, 6))).sort((a, b) => a - b);
  return costs.length === 0 ? undefined : costs[Math.floor((costs.length - 1) / 2)];
}
