import type { Digest } from '../oci/digest.js';
import type { ManifestRow, RepoId } from '../meta/metadata.js';
import { Lru } from '../util/lru.js';

/** Pages of a repository's tag list kept at once; more distinct (n, last) pairs start the set over. */
const PAGES_PER_REPO = 32;

/**
 * In-memory read caches. Manifest bytes are keyed by digest and immutable,
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
  readonly repoIds = new Lru<string, RepoId>(10_000);
  readonly tags = new Lru<string, Digest>(50_000);
  readonly manifests = new Lru<string, ManifestRow>(50_000);
  readonly manifestBytes = new Lru<Digest, Buffer>(64 << 20, (b) => b.length + 64);
  /** When this process last recorded a pull of a manifest, so pulls cost a write only now and then. */
  readonly pulls = new Lru<string, number>(50_000);
  /** Tag list pages per repository, keyed by `n` and `last`. */
  private readonly tagPages = new Lru<RepoId, Map<string, string[]>>(1_000);
  private generation = 0;
  private changedElsewhere: () => boolean = () => false;

  static key(repo: RepoId, name: string): string {
    return `${repo}\u0000${name}`;
  }

  /**
   * `changed` says, cheaply and synchronously, whether another process wrote
   * to the metadata since it was last asked (SQLite's `data_version`: a
   * `berth gc` cron beside `berth serve`). Every lookup asks first, so a tag
   * moved or deleted by that process is never served from memory.
   */
  checkWith(changed: () => boolean): void {
    this.changedElsewhere = changed;
  }

  /** Call before a lookup: drops whatever another process may have changed. */
  revalidate(): void {
    if (this.changedElsewhere()) this.clearMutable();
  }

  /** Take before reading the database for a fill. */
  epoch(): number {
    return this.generation;
  }

  /** Stores what a read begun at `epoch` found, unless a write was forgotten since. */
  fill<K, V>(cache: Lru<K, V>, key: K, value: V, epoch: number): void {
    if (epoch === this.generation) cache.set(key, value);
  }

  tagPage(repo: RepoId, limit: number, last: string | undefined): string[] | undefined {
    return this.tagPages.get(repo)?.get(pageKey(limit, last));
  }

  fillTagPage(repo: RepoId, limit: number, last: string | undefined, names: string[], epoch: number): void {
    if (epoch !== this.generation) return;
    let pages = this.tagPages.get(repo);
    if (!pages || pages.size >= PAGES_PER_REPO) this.tagPages.set(repo, (pages = new Map()));
    pages.set(pageKey(limit, last), names);
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
  }
}

function pageKey(limit: number, last: string | undefined): string {
  return last === undefined ? `${limit}` : `${limit}\u0000${last}`;
}
