import { LRUCache } from 'lru-cache';
import type { Digest } from '../oci/digest.js';
import type { ManifestRow, RepoId } from '../meta/metadata.js';

/** Pages of a repository's tag list kept at once; more distinct (n, last) pairs start the set over. */
const PAGES_PER_REPO = 32;

/** What the caches may hold, in bytes (estimated for metadata: key and value sizes plus a fixed overhead per entry). */
export interface CacheBudget {
  /** Manifest bodies (immutable, keyed by digest). */
  manifestBytes: number;
  /** Repository ids, tags, manifest rows, tag list pages and pull times, together. */
  metadataBytes: number;
}

export const DEFAULT_CACHE_BUDGET: CacheBudget = { manifestBytes: 48 << 20, metadataBytes: 16 << 20 };

/** What a Map or LRU entry costs beyond its key and value (V8 object headers, list links). */
const ENTRY_OVERHEAD = 96;
const strBytes = (s: string): number => 2 * s.length;

/** Between request arrivals, lookups check for other processes' writes at most this often. */
const RECHECK_MS = 1;

/** Manifests bigger than this are read from the store each time: a few attacker-made giants must not flush the cache. */
const MAX_CACHED_MANIFEST = 1 << 20;

/** Hits and misses of one cache's lookups, for the metrics (two additions per lookup, nothing more). */
export interface LookupCounts {
  hits: number;
  misses: number;
}

/** An LRU cache that counts what `get` found; `has` and `peek` do not count. */
class CountingCache<K extends {}, V extends {}> extends LRUCache<K, V> {
  readonly lookups: LookupCounts = { hits: 0, misses: 0 };

  override get(key: K, opts?: LRUCache.GetOptions<K, V, unknown>): V | undefined {
    const v = super.get(key, opts);
    if (v === undefined) this.lookups.misses++;
    else this.lookups.hits++;
    return v;
  }
}

function cache<K extends string | number, V extends {}>(maxSize: number, size: (v: V, k: K) => number, maxEntry = maxSize / 8): CountingCache<K, V> {
  return new CountingCache<K, V>({
    maxSize: Math.max(1, maxSize),
    // One entry never takes more than an eighth: a single huge value must not flush everything else.
    maxEntrySize: Math.max(1, Math.floor(Math.min(maxEntry, maxSize / 8))),
    sizeCalculation: (v, k) => Math.max(1, size(v, k) + ENTRY_OVERHEAD),
  });
}

const keyBytes = (k: string | number): number => (typeof k === 'string' ? strBytes(k) : 8);
const rowBytes = (r: ManifestRow): number => strBytes(r.digest) + strBytes(r.mediaType) + strBytes(r.artifactType ?? '') + strBytes(r.subject ?? '') + 32;

/**
 * In-memory read caches, every one bounded in bytes whatever the content
 * (a manifest row of 4 MiB of annotations does not cost 4 MiB here: rows
 * carry no annotations). Manifest bytes are keyed by digest and immutable,
 * so they never go stale; tags, tag lists and manifest rows change and are
 * dropped on every write this process makes (and, with several processes,
 * on the change feed's signal).
 *
 * A read that missed awaits the database and then fills the cache. A write
 * can commit and forget in between, and the fill would then store the answer
 * from before the write for good. So every forget bumps a generation, and a
 * fill stores only when no forget happened since its read began (`epoch()`).
 */
export class RegistryCaches {
  readonly repoIds: CountingCache<string, RepoId>;
  readonly tags: CountingCache<string, Digest>;
  readonly manifests: CountingCache<string, ManifestRow>;
  readonly manifestBytes: CountingCache<Digest, Buffer>;
  /** When this process last recorded a pull of a manifest, so pulls cost a write only now and then. */
  readonly pulls: LRUCache<string, number>;
  /** Tag list pages per repository, keyed by `n` and `last`. */
  private readonly tagPages: LRUCache<RepoId, Map<string, string[]>>;
  /** Caches of facts other processes write, owned by the policies that judge by them (scan results). */
  private readonly derived: { clear(): void }[] = [];
  private generation = 0;
  private changedElsewhere: (() => boolean) | undefined;
  /** When the last check was made (performance.now()), or -Infinity once a request arrived since. */
  private checkedAt = -Infinity;

  constructor(budget: CacheBudget = DEFAULT_CACHE_BUDGET) {
    const meta = budget.metadataBytes;
    this.manifestBytes = cache(budget.manifestBytes, (b) => b.length, MAX_CACHED_MANIFEST);
    this.repoIds = cache(meta / 8, (_v, k) => keyBytes(k) + 8);
    this.tags = cache(meta / 4, (v, k) => keyBytes(k) + strBytes(v));
    this.manifests = cache(meta / 4, (v, k) => keyBytes(k) + rowBytes(v));
    this.pulls = cache(meta / 8, (_v, k) => keyBytes(k) + 8);
    this.tagPages = cache(meta / 4, (pages) => {
      let n = 0;
      for (const [k, names] of pages) n += strBytes(k) + names.reduce((a, t) => a + strBytes(t) + 16, 0);
      return n;
    });
  }

  /**
   * A cache of facts derived from metadata that other processes write (a
   * scan result, written by a worker thread or another replica), bounded in
   * bytes, dropped with the mutable caches; fill it with `fill`.
   */
  derivedCache<K extends string | number, V extends {}>(maxBytes: number, size: (v: V, k: K) => number): LRUCache<K, V> {
    const c = cache(maxBytes, size);
    this.derived.push(c);
    return c;
  }

  /** Lookups per cache, by name (the metrics' `cache` label). */
  lookups(): Record<'repositories' | 'tags' | 'manifests' | 'manifest_bodies', LookupCounts> {
    return { repositories: this.repoIds.lookups, tags: this.tags.lookups, manifests: this.manifests.lookups, manifest_bodies: this.manifestBytes.lookups };
  }

  static key(repo: RepoId, name: string): string {
    return `${repo}\u0000${name}`;
  }

  /**
   * `changed` says, cheaply and synchronously, whether another process wrote
   * to the metadata since it was last asked (SQLite's `data_version`: a
   * `berth gc` cron beside `berth serve`, another `--workers` process). The
   * first lookup after each request arrives asks, so a tag moved or deleted
   * by that process before the request was sent is never served from memory.
   */
  checkWith(changed: () => boolean): void {
    this.changedElsewhere = changed;
  }

  /**
   * A request arrived: its lookups must see every write committed before it.
   * Between arrivals the check is made at most once a millisecond: it takes a
   * read lock on the database (two fcntl calls), and a manifest GET looks up
   * three caches, so checking at every lookup was 11 % of its CPU.
   */
  requestArrived(): void {
    this.checkedAt = -Infinity;
  }

  /** Call before a lookup: drops whatever another process may have changed. */
  revalidate(): void {
    if (!this.changedElsewhere) return;
    const now = performance.now();
    if (now - this.checkedAt < RECHECK_MS) return;
    this.checkedAt = now;
    if (this.changedElsewhere()) this.clearMutable();
  }

  /** Take before reading the database for a fill. */
  epoch(): number {
    return this.generation;
  }

  /** Stores what a read begun at `epoch` found, unless a write was forgotten since. */
  fill<K extends {}, V extends {}>(cache: LRUCache<K, V>, key: K, value: V, epoch: number): void {
    if (epoch === this.generation) cache.set(key, value);
  }

  tagPage(repo: RepoId, limit: number, last: string | undefined): string[] | undefined {
    return this.tagPages.get(repo)?.get(pageKey(limit, last));
  }

  fillTagPage(repo: RepoId, limit: number, last: string | undefined, names: string[], epoch: number): void {
    if (epoch !== this.generation) return;
    const old = this.tagPages.get(repo);
    const pages = old && old.size < PAGES_PER_REPO ? new Map(old) : new Map<string, string[]>();
    pages.set(pageKey(limit, last), names);
    // Set again (not mutated in place), so the entry's size is counted anew.
    this.tagPages.set(repo, pages);
  }

  forgetTag(repo: RepoId, tag: string): void {
    this.generation++;
    this.tags.delete(RegistryCaches.key(repo, tag));
    this.tagPages.delete(repo);
  }

  forgetManifest(repo: RepoId, digest: Digest): void {
    this.generation++;
    this.manifests.delete(RegistryCaches.key(repo, digest));
  }

  /** Another process changed metadata: forget everything that can change. */
  clearMutable(): void {
    this.generation++;
    this.repoIds.clear();
    this.tags.clear();
    this.manifests.clear();
    this.tagPages.clear();
    for (const c of this.derived) c.clear();
  }
}

function pageKey(limit: number, last: string | undefined): string {
  return last === undefined ? `${limit}` : `${limit}\u0000${last}`;
}
