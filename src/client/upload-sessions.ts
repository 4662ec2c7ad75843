import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Registries keep an unfinished upload for a day by default (Berth: uploads.expiry); older ones are not worth asking about. */
const MAX_AGE_MS = 24 * 3600_000;

interface Saved {
  location: string;
  savedAt: number;
}

/**
 * Where unfinished uploads stand, one small file per registry, repository
 * and digest, so a push that failed (retries exhausted, Ctrl-C) is resumed by
 * the next push of that blob instead of starting over while the registry
 * still holds the partial session.
 */
export class UploadSessions {
  constructor(private readonly dir: string) {}

  async get(registry: string, repo: string, digest: string): Promise<string | undefined> {
    const path = this.path(registry, repo, digest);
    try {
      const saved = JSON.parse(await readFile(path, 'utf8')) as Saved;
      if (typeof saved.location === 'string' && Date.now() - saved.savedAt < MAX_AGE_MS) return saved.location;
    } catch {
      return undefined;
    }
    await this.forget(registry, repo, digest);
    return undefined;
  }

  async save(registry: string, repo: string, digest: string, location: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const saved: Saved = { location, savedAt: Date.now() };
    await writeFile(this.path(registry, repo, digest), JSON.stringify(saved), { mode: 0o600 });
  }

  async forget(registry: string, repo: string, digest: string): Promise<void> {
    await rm(this.path(registry, repo, digest), { force: true });
  }

  private path(registry: string, repo: string, digest: string): string {
    return join(this.dir, `${createHash('sha256').update(`${registry}/${repo}@${digest}`).digest('hex')}.json`);
  }
}
