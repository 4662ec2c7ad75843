import type { Logger } from 'pino';
import type { Digest } from '../oci/digest.js';
import { RegistryError } from '../oci/errors.js';
import type { Tag } from '../oci/name.js';
import type { ProxyQueries } from '../meta/proxy-queries.js';
import type { RepoId } from '../meta/metadata.js';
import type { RegistryContext } from '../registry/context.js';
import type { Origin } from '../registry/events.js';
import { getManifest, storeFetchedManifest, type ManifestRef, type ServedManifest } from '../registry/manifests.js';
import type { ProxyCounters } from './counters.js';
import type { Claim, FetchClaims } from './fetch-claims.js';
import type { CachedRepo } from './routing.js';

/** Tag history's `actor` for tags the cache moves to follow its upstream. */
export const PROXY_ACTOR = 'berth-proxy';

export interface ManifestRequest {
  accept: string[];
  head: boolean;
  /** The request's `Via`, passed on upstream (loop detection). */
  via: string | undefined;
  /** Who pulled, for pull events; undefined when nothing listens. */
  origin?: Origin | undefined;
}

export interface CachedManifest {
  served: ServedManifest;
  /** Set when a tag is served without its upstream's confirmation: why, for a `Warning` header. */
  stale?: string;
}

export interface ManifestDeps {
  ctx: RegistryContext;
  q: ProxyQueries;
  claims: FetchClaims;
  counters: ProxyCounters;
  logger: Logger;
}

/**
 * A manifest of a cached repository. By digest it is immutable: served
 * from the store once fetched. A tag is served from the store for its
 * upstream's `tagTtl` after the upstream last confirmed it; then one HEAD
 * asks whether it moved, and only a moved tag's manifest is fetched. When
 * the upstream cannot answer, a tag the cache holds is served anyway,
 * marked stale.
 */
export async function cachedManifest(deps: ManifestDeps, target: CachedRepo, ref: ManifestRef, r: ManifestRequest): Promise<CachedManifest> {
  const serve = async (): Promise<CachedManifest> => ({ served: await getManifest(deps.ctx, target.repo, ref, r.accept, r.head, r.origin) });
  if ('digest' in ref) {
    const fetched = await once(deps, target, `manifest:${target.repo}@${ref.digest}`, () => holds(deps.ctx, target, ref.digest), () =>
      fetchManifest(deps, target, ref.digest, [], r),
    );
    if (!fetched) deps.counters.hit(target.upstream.namespace);
    return serve();
  }
  const tag = ref.tag as Tag;
  const local = await localTag(deps, target, tag);
  if (local && fresh(deps, target, local.checkedAt)) {
    deps.counters.hit(target.upstream.namespace);
    return serve();
  }
  try {
    const fetched = await once(deps, target, `tag:${target.repo}:${tag}`, async () => fresh(deps, target, (await localTag(deps, target, tag))?.checkedAt), () =>
      revalidate(deps, target, tag, local?.digest, r),
    );
    if (!fetched) deps.counters.hit(target.upstream.namespace);
  } catch (e) {
    if (!local || (e instanceof RegistryError && e.status === 404)) throw e;
    const reason = (e as Error).message;
    deps.logger.warn({ upstream: target.upstream.namespace, repository: target.repo, tag, reason }, 'serving a cached tag its upstream could not confirm');
    return { ...(await serve()), stale: `upstream ${target.upstream.who} could not confirm tag ${tag}, last confirmed ${new Date(local.checkedAt ?? 0).toISOString()}: ${reason}` };
  }
  return serve();
}

/**
 * Runs `fetch` unless `ready` (or another request's fetch of the same
 * thing) makes it unnecessary; resolves to whether this request fetched.
 */
async function once(deps: ManifestDeps, target: CachedRepo, key: string, ready: () => Promise<boolean>, fetch: () => Promise<void>): Promise<boolean> {
  const claim: Claim | 'ready' = await deps.claims.acquire(key, ready);
  if (claim === 'ready') return false;
  try {
    await fetch();
    return true;
  } finally {
    await claim.release();
  }
}

/** One HEAD upstream; the manifest is fetched only when the tag is new here or moved there. */
async function revalidate(deps: ManifestDeps, target: CachedRepo, tag: Tag, current: Digest | undefined, r: ManifestRequest): Promise<void> {
  const { upstream, remote } = target;
  // A tag not cached yet: its manifest is needed anyway, and one GET is one request.
  const upstreamDigest = current === undefined ? undefined : (await upstream.resolveTag(remote, tag, r.via)).digest;
  if (current === undefined || upstreamDigest !== current) await fetchManifest(deps, target, upstreamDigest ?? tag, [tag], r);
  const repoId = await deps.ctx.requireRepo(target.repo);
  await deps.q.markTagChecked(repoId, tag, deps.ctx.now());
}

async function fetchManifest(deps: ManifestDeps, target: CachedRepo, reference: string, tags: Tag[], r: ManifestRequest): Promise<void> {
  const { ctx } = deps;
  const m = await target.upstream.manifest(target.remote, reference, { maxBytes: ctx.limits.maxManifestBytes, memory: ctx.manifestMemory }, r.via);
  await storeFetchedManifest(ctx, target.repo, m.digest, m.bytes, m.mediaType, tags, PROXY_ACTOR);
}

async function holds(ctx: RegistryContext, target: CachedRepo, digest: Digest): Promise<boolean> {
  const repoId = await ctx.repoId(target.repo);
  return repoId !== undefined && (await ctx.meta.manifest(repoId, digest)) !== undefined;
}

async function localTag(deps: ManifestDeps, target: CachedRepo, tag: Tag): Promise<{ repoId: RepoId; digest: Digest; checkedAt: number | undefined } | undefined> {
  const repoId = await deps.ctx.repoId(target.repo);
  const digest = repoId === undefined ? undefined : await deps.ctx.meta.resolveTag(repoId, tag);
  return digest === undefined ? undefined : { repoId: repoId!, digest, checkedAt: await deps.q.tagCheckedAt(repoId!, tag) };
}

const fresh = (deps: ManifestDeps, target: CachedRepo, checkedAt: number | undefined): boolean =>
  checkedAt !== undefined && deps.ctx.now() - checkedAt < target.upstream.tagTtlMs;
