import bcrypt from 'bcryptjs';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { Lru } from '../../util/lru.js';

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

/**
 * The users of an htpasswd file, re-read when the file changes (so `berth user
 * del` takes effect on a running server). A broken edit keeps the last good
 * content and is reported through `onReloadError`.
 */
export class Htpasswd {
  private users: Map<string, string>;
  private mtimeMs: number;
  private readonly cacheKey = randomBytes(32);
  private readonly verified = new Lru<string, { hash: string; until: number }>(10_000);
  // A hash to compare against when the user does not exist, so both cases take as long.
  private readonly decoy = bcrypt.hashSync(randomBytes(16).toString('hex'), 10);

  constructor(
    readonly path: string,
    private readonly onReloadError: (err: Error) => void,
  ) {
    this.mtimeMs = this.stat();
    this.users = this.read();
  }

  /** True when `password` is the user's; constant-time whether or not the user exists. */
  async verify(user: string, password: string): Promise<boolean> {
    const hash = this.current().get(user);
    const key = createHmac('sha256', this.cacheKey).update(user).update('\0').update(password).digest('base64');
    const hit = this.verified.get(key);
    if (hash && hit && hit.hash === hash && hit.until > Date.now()) return true;
    const ok = await bcrypt.compare(password, hash ?? this.decoy);
    if (ok && hash) this.verified.set(key, { hash, until: Date.now() + VERIFIED_TTL_MS });
    return ok && hash !== undefined;
  }

  /** A short fingerprint of the user's hash: refresh tokens carry it, so a password change or removal revokes them. */
  fingerprint(user: string): string | undefined {
    const hash = this.current().get(user);
    return hash && createHash('sha256').update(hash).digest('base64url').slice(0, 16);
  }

  private current(): Map<string, string> {
    try {
      const mtimeMs = this.stat();
      if (mtimeMs !== this.mtimeMs) {
        this.mtimeMs = mtimeMs;
        this.users = this.read();
      }
    } catch (e) {
      this.onReloadError(e as Error);
    }
    return this.users;
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
