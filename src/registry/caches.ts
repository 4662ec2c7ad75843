import type { Digest } from '../oci/digest.js';
import type { ManifestRow, RepoId } from '../meta/metadata.js';
import { Lru } from '../util/lru.js';

/**
 * In-memory read caches. Manifest bytes are keyed by digest and immutable,
 * so they never go stale; tags and manifest rows change and are dropped on
 * every write this process makes (and, with several processes, on the
 * change feed's signal).
 */
export class RegistryCaches {
  readonly repoIds = new Lru<string, RepoId>(10_000);
  readonly tags = new Lru<string, Digest>(50_000);
  readonly manifests = new Lru<string, ManifestRow>(50_000);
  readonly manifestBytes = new Lru<Digest, Buffer>(64 << 20, (b) => b.length + 64);
  /** When this process last recorded a pull of a manifest, so pulls cost a write only now and then. */
  readonly pulls = new Lru<string, number>(50_000);

  static key(repo: RepoId, name: string): string {
    return `${repo}\u0000${name}`;
  }

  forgetTag(repo: RepoId, tag: string): void {
    this.tags.delete(RegistryCaches.key(repo, tag));
  }

  forgetManifest(repo: RepoId, digest: Digest): void {
    this.manifests.delete(RegistryCaches.key(repo, digest));
  }

  /** Another process changed metadata: forget everything that can change. */
  clearMutable(): void {
    this.repoIds.clear();
    this.tags.clear();
    this.manifests.clear();
  }
}
