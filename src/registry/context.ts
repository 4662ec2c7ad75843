import type { BlobStore } from '../store/blob-store.js';
import type { Metadata, RepoId } from '../meta/metadata.js';
import type { RepoName } from '../oci/name.js';
import { RegistryError } from '../oci/errors.js';
import { RegistryCaches, type CacheBudget } from './caches.js';
import { Gates } from './gates.js';
import { RegistryEvents } from './events.js';
import { HashStates } from './hash-states.js';
import { StoragePolicy } from './policy.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import { ByteBudget } from '../util/byte-budget.js';

export interface RegistryLimits {
  maxManifestBytes: number;
  /** Upper bound for `n` in tag and catalog listings (a huge `n` must not mean a huge allocation). */
  maxListEntries: number;
  /** An upload untouched this long is abandoned and its bytes removed. */
  uploadExpiryMs: number;
  /** Open upload sessions per user, or per address for anonymous clients. */
  maxUploadSessions: number;
  /** Bytes the in-memory caches may hold (default: DEFAULT_CACHE_BUDGET). */
  cache?: CacheBudget;
  /** Manifest bytes requests may hold in memory at once (bodies being read, manifests loaded from the store). */
  manifestBytesInFlight?: number;
}

/** A request waits this long for its manifest to fit in memory before it is refused. */
const MANIFEST_WAIT_MS = 30_000;

/** What every registry use case works over. One per process; all state that matters is in store + meta. */
export class RegistryContext {
  readonly caches: RegistryCaches;
  /**
   * Each manifest is at most maxManifestBytes, but forty of them at once are
   * forty times that, and again for their parsed JSON: big ones take turns.
   */
  readonly manifestMemory: ByteBudget;
  readonly hashStates = new HashStates();
  readonly uploadLocks = new KeyedMutex<string>();
  /** Immutable tags, quotas, retention and GC settings; replaced once at startup from the config. */
  policy = new StoragePolicy();
  /** Signature and scan policies consulted on every manifest read and tag move (empty: nothing enforced). */
  readonly gates = new Gates();
  /** Manifest pushes and deletes, told inside their transactions (scan on push, replication, webhooks enqueue there). */
  readonly events = new RegistryEvents();

  constructor(
    readonly store: BlobStore,
    readonly meta: Metadata,
    readonly limits: RegistryLimits,
    readonly now: () => number = Date.now,
  ) {
    this.caches = new RegistryCaches(limits.cache);
    this.manifestMemory = new ByteBudget(
      limits.manifestBytesInFlight ?? 8 * limits.maxManifestBytes,
      MANIFEST_WAIT_MS,
      () => new RegistryError('TOOMANYREQUESTS', 'too many large manifests are being handled at once; try again shortly', { headers: { 'Retry-After': '2' } }),
    );
  }

  async repoId(name: RepoName): Promise<RepoId | undefined> {
    this.caches.revalidate();
    const cached = this.caches.repoIds.get(name);
    if (cached !== undefined) return cached;
    const id = await this.meta.repositoryId(name);
    if (id !== undefined) this.caches.repoIds.set(name, id);
    return id;
  }

  async requireRepo(name: RepoName): Promise<RepoId> {
    const id = await this.repoId(name);
    if (id === undefined) throw new RegistryError('NAME_UNKNOWN', `repository "${name}" is not known to this registry`);
    return id;
  }

  async ensureRepo(name: RepoName): Promise<RepoId> {
    const id = await this.repoId(name);
    if (id !== undefined) return id;
    const created = await this.meta.ensureRepository(name, this.now());
    this.caches.repoIds.set(name, created);
    return created;
  }

  /**
   * Runs a write that needs the repository's row. GC removes rows of empty
   * repositories (src/meta/gc-queries.ts, sweepRepositories); a write that
   * lost that race fails its foreign key, and is tried once more on a new row.
   */
  async withRepo<T>(name: RepoName, write: (id: RepoId) => Promise<T>): Promise<T> {
    try {
      return await write(await this.ensureRepo(name));
    } catch (e) {
      if (!isForeignKeyViolation(e)) throw e;
      this.caches.repoIds.delete(name);
      return write(await this.ensureRepo(name));
    }
  }
}

/** SQLite's and PostgreSQL's words for a row referring to one that is gone. */
function isForeignKeyViolation(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503';
}
