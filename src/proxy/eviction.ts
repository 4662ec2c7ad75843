import type { Digest } from '../oci/digest.js';
import { GcQueries } from '../meta/gc-queries.js';
import type { RepoId } from '../meta/metadata.js';
import { ProxyQueries, type CachedImage } from '../meta/proxy-queries.js';
import { UsageQueries, type ManifestUsageRow } from '../meta/usage-queries.js';
import type { RegistryContext } from '../registry/context.js';
import { collectGarbage } from '../registry/gc.js';
import { PROXY_ACTOR } from './manifests.js';

/** Images considered per round; each round ends with a GC and a new measurement. */
const BATCH = 100;
const MAX_ROUNDS = 10;

export interface EvictionInput {
  /** The cached namespaces (`proxy.upstreams[].namespace`). */
  namespaces: string[];
  /** `proxy.maxSize`. */
  maxBytes: number;
}

export interface EvictionReport {
  /** What the cached namespaces hold after the run. */
  heldBytes: number;
  evicted: { repository: string; digest: Digest }[];
  freedBytes: number;
}

/**
 * Keeps the cache under its size cap: while the cached namespaces hold more
 * than `maxBytes`, the least recently pulled images are deleted (manifest,
 * tags and index children, as an API delete would), then the ordinary GC
 * frees what nothing else uses, and the size is measured again. Its race
 * argument (src/meta/gc-queries.ts) is untouched: eviction only deletes
 * manifests, and only ones not pulled within GC's grace period, so content a
 * pull is using right now stays; an image evicted as someone starts pulling
 * it is fetched from its upstream again. Runs in a worker thread.
 */
export async function evictCache(ctx: RegistryContext, input: EvictionInput): Promise<EvictionReport> {
  const usage = new UsageQueries(ctx.meta.db);
  const q = new ProxyQueries(ctx.meta.db);
  const held = async () => (await Promise.all(input.namespaces.map((ns) => usage.namespaceBytes(ns)))).reduce((a, b) => a + b, 0);
  const report: EvictionReport = { heldBytes: await held(), evicted: [], freedBytes: 0 };
  for (let round = 0; round < MAX_ROUNDS && report.heldBytes > input.maxBytes; round++) {
    const images = await q.leastRecentlyPulled(input.namespaces, ctx.now() - ctx.policy.settings.gc.graceMs, BATCH);
    if (images.length === 0) break;
    // An image's logical bytes overstate what deleting it frees (layers are shared), so a round under-evicts rather than over-evicts.
    const sizes = new ImageSizes(usage);
    let planned = 0;
    for (const image of images) {
      if (planned >= report.heldBytes - input.maxBytes) break;
      planned += await sizes.of(image);
      await evict(ctx, image);
      report.evicted.push({ repository: image.repository, digest: image.digest });
    }
    report.freedBytes += (await collectGarbage(ctx, { dryRun: false })).freedBytes;
    report.heldBytes = await held();
  }
  return report;
}

/** The manifest and its tags, then the children of an index that no other index or tag holds. */
async function evict(ctx: RegistryContext, image: CachedImage): Promise<void> {
  const children = await ctx.meta.db
    .selectFrom('manifest_refs')
    .select('ref_digest')
    .where('repository_id', '=', image.repositoryId)
    .where('manifest_digest', '=', image.digest)
    .where('kind', '=', 'manifest')
    .execute();
  await ctx.meta.deleteManifest(image.repositoryId, image.digest, ctx.now(), PROXY_ACTOR);
  const gc = new GcQueries(ctx.meta.db);
  for (const c of children) await gc.deleteUntagged(image.repositoryId, c.ref_digest as Digest, ctx.now() + 1);
}

/** Logical bytes of cached images: the manifest, what it names, and for an index its children's. */
class ImageSizes {
  private readonly repos = new Map<RepoId, Map<string, ManifestUsageRow>>();

  constructor(private readonly usage: UsageQueries) {}

  async of(image: CachedImage): Promise<number> {
    let rows = this.repos.get(image.repositoryId);
    if (!rows) this.repos.set(image.repositoryId, (rows = new Map((await this.usage.manifests(image.repositoryId)).map((m) => [m.digest, m]))));
    const own = (d: string) => (rows.get(d)?.size ?? 0) + (rows.get(d)?.blobBytes ?? 0);
    return own(image.digest) + (rows.get(image.digest)?.children ?? []).reduce((n, c) => n + own(c), 0);
  }
}
