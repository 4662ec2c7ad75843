import type { Digest } from '../oci/digest.js';
import { RegistryError } from '../oci/errors.js';
import type { RepoName } from '../oci/name.js';
import { UsageQueries, type ManifestUsageRow } from '../meta/usage-queries.js';
import type { RegistryContext } from './context.js';
import type { RepoId } from '../meta/metadata.js';
import { parseManifestRef, resolveTag, type ManifestRef } from './manifests.js';

export interface ImageUsage {
  digest: Digest;
  mediaType: string;
  tags: string[];
  /** Whether a signature is attached (it may still not verify: the signatures endpoint says by which key). */
  signed: boolean;
  /** The manifest plus everything it names (for an index: its children and theirs). */
  logicalBytes: number;
  /**
   * Freed by deleting this manifest (and running GC): its own bytes and the blobs only it names.
   * Shown only to callers with `usage` on the repository: it reveals whether other repositories hold the same content.
   */
  uniqueBytes?: number;
  /** logicalBytes - uniqueBytes: content other images still need. */
  sharedBytes?: number;
  lastPushed: string;
  lastPulled: string | null;
}

export interface RepositoryUsage {
  name: string;
  /** Sum over its manifests of the manifest and the blobs it names, as if nothing were shared. */
  logicalBytes: number;
  /** Distinct bytes it holds: what it costs to store. */
  storedBytes: number;
  /** Of storedBytes, held by no other repository: freed if it is deleted. Only with `usage` (see ImageUsage). */
  uniqueBytes?: number;
  sharedBytes?: number;
  manifests: number;
  tags: number;
  lastPushed: string | null;
  lastPulled: string | null;
  images?: ImageUsage[];
}

/** Registry-wide figures, for callers who may audit the whole registry. */
export interface UsageTotals {
  /** Bytes in the store, once each, including content GC has not collected yet. */
  storedBytes: number;
  storedObjects: number;
  /** Sum of every repository's logical bytes: what a registry without sharing would store. */
  logicalBytes: number;
}

export interface UsageReport extends Partial<UsageTotals> {
  repositories: RepositoryUsage[];
}

export interface UsagePageInput {
  /** One page of repositories, in order, each with whether the caller may see its shared/unique split. */
  repos: { name: string; figures: boolean }[];
  totals: boolean;
}

export interface WhatIfDelete {
  repository: string;
  reference: string;
  digest: Digest;
  /** Every tag of the manifest: deleting it by digest removes them all. */
  tagsRemoved: string[];
  freedBytes: number;
  note: string;
}

/**
 * Storage accounting for a page of repositories (chosen and authorised by the
 * caller) and, when asked, the registry-wide totals. Its cost grows with the
 * registry: it runs in a worker thread (src/workers/tasks.ts).
 */
export async function usagePage(ctx: RegistryContext, input: UsagePageInput): Promise<UsageReport> {
  const q = new UsageQueries(ctx.meta.db);
  const report: UsageReport = input.totals ? { ...(await q.totals()), repositories: [] } : { repositories: [] };
  for (const r of input.repos) {
    const id = await ctx.meta.repositoryId(r.name as RepoName);
    if (id !== undefined) report.repositories.push(await repositoryUsage(q, id, r.name, await q.manifests(id), r.figures));
  }
  return report;
}

/** One repository with its images. */
export async function repositoryReport(ctx: RegistryContext, repo: string, figures: boolean): Promise<UsageReport> {
  const id = await ctx.meta.repositoryId(repo as RepoName);
  if (id === undefined) throw unknownRepository(repo);
  const q = new UsageQueries(ctx.meta.db);
  const manifests = await q.manifests(id);
  const summary = await repositoryUsage(q, id, repo, manifests, figures);
  summary.images = imageUsage(manifests, figures);
  return { repositories: [summary] };
}

export function whatIfDeleteRef(ctx: RegistryContext, repo: string, reference: string): Promise<WhatIfDelete> {
  return whatIfDelete(ctx, repo as RepoName, parseManifestRef(reference, false));
}

/** What deleting a manifest (by tag or digest) would free once GC has run. */
export async function whatIfDelete(ctx: RegistryContext, repo: RepoName, ref: ManifestRef): Promise<WhatIfDelete> {
  const repoId = await ctx.repoId(repo);
  if (repoId === undefined) throw unknownRepository(repo);
  const digest = 'digest' in ref ? ref.digest : await resolveTag(ctx, repoId, ref.tag);
  const image = imageUsage(await new UsageQueries(ctx.meta.db).manifests(repoId), true).find((i) => i.digest === digest);
  if (!image) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${digest} is not in repository "${repo}"`);
  const otherTags = 'tag' in ref ? image.tags.filter((t) => t !== ref.tag) : [];
  const note = otherTags.length
    ? `deleting only the tag frees nothing while tags ${otherTags.join(', ')} point at the same manifest; deleting ${digest} removes all of them`
    : `frees ${image.uniqueBytes!} of its ${image.logicalBytes} bytes; the other ${image.sharedBytes!} are still used by other images`;
  return { repository: repo, reference: 'tag' in ref ? ref.tag : digest, digest, tagsRemoved: image.tags, freedBytes: image.uniqueBytes!, note };
}

async function repositoryUsage(q: UsageQueries, id: RepoId, name: string, manifests: ManifestUsageRow[], figures: boolean): Promise<RepositoryUsage> {
  const { storedBytes, uniqueBytes } = await q.repository(id);
  const pushed = manifests.map((m) => m.pushedAt);
  const pulled = manifests.flatMap((m) => (m.pulledAt === null ? [] : [m.pulledAt]));
  return {
    name,
    logicalBytes: manifests.reduce((n, m) => n + m.size + m.blobBytes, 0),
    storedBytes,
    ...(figures ? { uniqueBytes, sharedBytes: storedBytes - uniqueBytes } : {}),
    manifests: manifests.length,
    tags: manifests.reduce((n, m) => n + m.tags.length, 0),
    lastPushed: pushed.length ? iso(Math.max(...pushed)) : null,
    lastPulled: pulled.length ? iso(Math.max(...pulled)) : null,
  };
}

function imageUsage(manifests: ManifestUsageRow[], figures: boolean): ImageUsage[] {
  const byDigest = new Map(manifests.map((m) => [m.digest as string, m]));
  const logical = (m: ManifestUsageRow, depth = 0): number =>
    m.size + m.blobBytes + (depth > 8 ? 0 : m.children.reduce((n, c) => n + (byDigest.has(c) ? logical(byDigest.get(c)!, depth + 1) : 0), 0));
  return manifests.map((m) => {
    const logicalBytes = logical(m);
    const uniqueBytes = (m.ownBytesUnique ? m.size : 0) + m.uniqueBlobBytes;
    return {
      digest: m.digest,
      mediaType: m.mediaType,
      tags: m.tags,
      signed: m.signed,
      logicalBytes,
      ...(figures ? { uniqueBytes, sharedBytes: logicalBytes - uniqueBytes } : {}),
      lastPushed: iso(m.pushedAt),
      lastPulled: m.pulledAt === null ? null : iso(m.pulledAt),
    };
  });
}

const iso = (ms: number): string => new Date(ms).toISOString();

const unknownRepository = (repo: string) => new RegistryError('NAME_UNKNOWN', `repository "${repo}" is not known to this registry`);
