import type { Logger } from 'pino';
import type { ProxyConfig } from '../config/proxy.js';
import type { Digest } from '../oci/digest.js';
import type { RepoName } from '../oci/name.js';
import { ProxyQueries } from '../meta/proxy-queries.js';
import type { RegistryContext } from '../registry/context.js';
import type { ManifestRef } from '../registry/manifests.js';
import { cachedBlob, type BlobRequest, type CachedBlob } from './blobs.js';
import { ProxyCounters } from './counters.js';
import { FetchClaims } from './fetch-claims.js';
import { cachedManifest, type CachedManifest, type ManifestRequest } from './manifests.js';
import { CacheNames, type CachedRepo } from './routing.js';
import { Upstream, viaIncludes } from './upstream.js';

/** How often this process adds what it counted to `proxy_stats`. */
const FLUSH_MS = 10_000;

/**
 * The pull-through cache of one process: the configured upstreams, the
 * names that lead to them, and the fetches in progress. Everything it
 * caches goes through the registry's store and metadata.
 */
export class PullThroughCache {
  readonly names: CacheNames;
  readonly upstreams: Upstream[];
  private readonly counters: ProxyCounters;
  private readonly deps;
  private readonly flush: NodeJS.Timeout;

  /**
   * `hop` is this registry's name in `Via` headers (ProxyQueries.hop): the
   * same in every process and replica, so a request that an upstream url
   * leads back to any of them is recognised wherever it lands.
   */
  static async open(ctx: RegistryContext, config: ProxyConfig, logger: Logger): Promise<PullThroughCache> {
    const q = new ProxyQueries(ctx.meta.db, ctx.meta.reader);
    return new PullThroughCache(ctx, q, await q.hop(), config, logger);
  }

  private constructor(
    private readonly ctx: RegistryContext,
    q: ProxyQueries,
    private readonly hop: string,
    config: ProxyConfig,
    logger: Logger,
  ) {
    this.counters = new ProxyCounters(q);
    this.upstreams = config.upstreams.map((u) => new Upstream(u, hop, this.counters));
    this.names = new CacheNames(this.upstreams, this.upstreams.find((u) => u.namespace === config.mirror));
    this.deps = { ctx, q, claims: new FetchClaims(q, config.waitTimeout), counters: this.counters, logger };
    this.flush = setInterval(() => void this.counters.flush().catch((err: unknown) => logger.warn({ err }, 'proxy counters not saved; they are added next time')), FLUSH_MS);
    this.flush.unref();
  }

  manifest(target: CachedRepo, ref: ManifestRef, r: ManifestRequest): Promise<CachedManifest> {
    return cachedManifest(this.deps, target, ref, r);
  }

  blob(target: CachedRepo, digest: Digest, r: BlobRequest): Promise<CachedBlob> {
    return cachedBlob(this.deps, target, digest, r);
  }

  /** Whether a request's `Via` shows this registry sent it: an upstream url that leads back here. */
  cameBack(via: string | undefined): boolean {
    return viaIncludes(via, this.hop);
  }

  /** Whether a repository name is one the registry holds itself (Docker's mirror requests do not say). */
  async isLocal(name: RepoName): Promise<boolean> {
    return (await this.ctx.repoId(name)) !== undefined;
  }

  /** Adds what this process counted so far to the shared counters (before they are reported). */
  flushCounts(): Promise<void> {
    return this.counters.flush();
  }

  async close(): Promise<void> {
    clearInterval(this.flush);
    await this.counters.flush().catch(() => {});
    await Promise.all(this.upstreams.map((u) => u.close()));
  }
}
