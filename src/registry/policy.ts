import picomatch from 'picomatch';
import type { RepoName } from '../oci/name.js';

export interface RetentionRule {
  /** Glob over repository names, e.g. `team/*`. */
  repositories: string;
  /** Keep this many most recently updated tags. */
  keepLast?: number;
  /** Only tags not updated for this long may go. */
  olderThanMs?: number;
  /** Tags matching any of these globs are always kept. */
  keepTags: string[];
}

export interface ImmutableRule {
  repositories: string;
  tags: string[];
}

export interface StoragePolicySettings {
  immutable: ImmutableRule[];
  retention: RetentionRule[];
  /** Namespace (first path component) to a limit in bytes of unique storage. */
  quotas: Record<string, number>;
  gc: { graceMs: number; deleteUntagged: boolean };
}

export const DEFAULT_POLICY_SETTINGS: StoragePolicySettings = {
  immutable: [],
  retention: [],
  quotas: {},
  gc: { graceMs: 3600_000, deleteUntagged: false },
};

const MAX_TOUCH_INTERVAL_MS = 5 * 60_000;
const globOptions = { dot: true };

/** Storage rules from the configuration, compiled once. */
export class StoragePolicy {
  private readonly immutable: { repo: picomatch.Matcher; tag: picomatch.Matcher }[];

  constructor(readonly settings: StoragePolicySettings = DEFAULT_POLICY_SETTINGS) {
    this.immutable = settings.immutable.map((r) => ({ repo: picomatch(r.repositories, globOptions), tag: picomatch(r.tags, globOptions) }));
  }

  isImmutable(repo: RepoName, tag: string): boolean {
    return this.immutable.some((r) => r.repo(repo) && r.tag(tag));
  }

  /**
   * How often a blob HEAD/GET refreshes its link's access time. A quarter of
   * the GC grace period: a client that HEADs a blob has at least 3/4 of the
   * grace to PUT the manifest naming it (see src/meta/gc-queries.ts).
   */
  get blobTouchIntervalMs(): number {
    return Math.min(MAX_TOUCH_INTERVAL_MS, Math.floor(this.settings.gc.graceMs / 4));
  }

  quotaFor(repo: RepoName): { namespace: string; limit: number } | undefined {
    const namespace = namespaceOf(repo);
    const limit = this.settings.quotas[namespace];
    return limit === undefined ? undefined : { namespace, limit };
  }

  retentionFor(repo: string): RetentionRule[] {
    return this.settings.retention.filter((r) => picomatch.isMatch(repo, r.repositories, globOptions));
  }
}

export const namespaceOf = (repo: string): string => repo.split('/', 1)[0]!;

export const matchesAny = (name: string, globs: string[]): boolean => globs.length > 0 && picomatch.isMatch(name, globs, globOptions);
