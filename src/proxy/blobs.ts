import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/descriptor.js';
import { isRegistryError, RegistryError } from '../oci/errors.js';
import { parseManifest } from '../oci/manifest.js';
import type { RepoName } from '../oci/name.js';
import { ProxyQueries } from '../meta/proxy-queries.js';
import { mountFromAnywhere, statBlob } from '../registry/blobs.js';
import type { RegistryContext } from '../registry/context.js';
import { NO_ORIGIN } from '../registry/events.js';
import { loadManifest } from '../registry/manifests.js';
import { fillBlob } from './blob-fill.js';
import type { ProxyCounters } from './counters.js';
import type { FetchClaims } from './fetch-claims.js';
import type { CachedRepo } from './routing.js';

export interface BlobRequest {
  /** A HEAD: the size is enough, nothing is fetched. */
  head: boolean;
  /** A Range request: served from the store, so the whole blob is fetched first. */
  ranged: boolean;
  /** Whether the caller may read a repository, for taking the bytes from one that holds them already. */
  canRead: (repo: RepoName) => Promise<boolean>;
  /** The request's `Via`, passed on upstream (loop detection). */
  via: string | undefined;
}

/** 'stored': serve it from the store like any blob. Otherwise its size, and the bytes streaming in from the upstream (none for a HEAD). */
export type CachedBlob = 'stored' | { size: number; body?: Readable };

export interface BlobDeps {
  ctx: RegistryContext;
  claims: FetchClaims;
  counters: ProxyCounters;
  logger: Logger;
}

/**
 * A blob of a cached repository: from the store when this repository holds
 * it, or another one the caller may read does (no upstream request); else
 * fetched once from the upstream while it streams to the first caller, the
 * others waiting for it. Only blobs that a cached manifest of the repository
 * names are fetched, with the size that manifest gives.
 */
export async function cachedBlob(deps: BlobDeps, target: CachedRepo, digest: Digest, r: BlobRequest): Promise<CachedBlob> {
  const { ctx, counters } = deps;
  const ns = target.upstream.namespace;
  if (await heldHere(ctx, target.repo, digest, r)) {
    counters.hit(ns);
    return 'stored';
  }
  const desc = await namedBlob(ctx, target.repo, digest);
  if (r.head) {
    counters.hit(ns);
    return { size: desc.size };
  }
  const claim = await deps.claims.acquire(`blob:${digest}`, () => heldHere(ctx, target.repo, digest, r));
  if (claim === 'ready') {
    counters.hit(ns);
    return 'stored';
  }
  const fill = fillBlob(ctx, target.repo, desc, target.upstream.blob(target.remote, desc, r.via));
  fill.stored
    .catch((err: unknown) => deps.logger.warn({ upstream: ns, repository: target.repo, digest, reason: (err as Error).message }, 'blob not cached'))
    .finally(() => void claim.release());
  if (!r.ranged) return { size: desc.size, body: fill.body };
  fill.body.destroy();
  await fill.stored;
  return 'stored';
}

/** Linked in the repository, or mounted from one holding it that the caller may read. */
async function heldHere(ctx: RegistryContext, repo: RepoName, digest: Digest, r: BlobRequest): Promise<boolean> {
  try {
    await statBlob(ctx, repo, digest);
    return true;
  } catch (e) {
    if (!isRegistryError(e) || e.code !== 'BLOB_UNKNOWN') throw e;
  }
  return (await mountFromAnywhere(ctx, repo, digest, r.canRead, NO_ORIGIN)) !== undefined;
}

/** The descriptor a cached manifest of the repository gives the blob; a blob no cached manifest names is not fetched. */
async function namedBlob(ctx: RegistryContext, repo: RepoName, digest: Digest): Promise<Descriptor> {
  const repoId = await ctx.repoId(repo);
  const manifest = repoId === undefined ? undefined : await new ProxyQueries(ctx.meta.db, ctx.meta.reader).manifestNaming(repoId, digest);
  const stored = manifest === undefined ? undefined : await loadManifest(ctx, repoId!, manifest);
  const desc = stored && parseManifest(stored.bytes, stored.row.mediaType).blobs.find((b) => b.digest === digest);
  if (!desc) {
    throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is named by no manifest of "${repo}" this cache holds: pull the image's manifest first`, { detail: { digest } });
  }
  return desc;
}
