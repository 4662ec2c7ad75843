import type { Digest } from '../oci/digest.js';
import { RegistryError } from '../oci/errors.js';
import type { RepoName } from '../oci/name.js';
import { UsageQueries, type ManifestUsageRow } from '../meta/usage-queries.js';
import type { RegistryContext } from './context.js';
import { resolveTag, type ManifestRef } from './manifests.js';

export interface ImageUsage {
  digest: Digest;
  mediaType: string;
  tags: string[];
  /** The manifest plus everything it names (for an index: its children and theirs). */
  logicalBytes: number;
  /** Freed by deleting this manifest (and running GC): its own bytes and the blobs only it names. */
  uniqueBytes: number;
  /** logicalBytes - uniqueBytes: content other images still need. */
  sharedBytes: number;
  lastPushed: string;
  lastPulled: string | null;
}

export interface RepositoryUsage {
  name: string;
  /** Sum over its manifests of the manifest and the blobs it names, as if nothing were shared. */
  logicalBytes: number;
  /** Distinct bytes it holds: what it costs to store. */
  storedBytes: number;
  /** Of storedBytes, held by no other repository: freed if it is deleted. */
  uniqueBytes: number;
  sharedBytes: number;
  manifests: number;
  tags: number;
  lastPushed: string | null;
  lastPulled: string | null;
  images?: ImageUsage[];
}

export interface UsageReport {
  /** Bytes in the store, once each, including content GC has not collected yet. */
  storedBytes: number;
  storedObjects: number;
  /** Sum of every repository's logical bytes: what a registry without sharing would store. */
  logicalBytes: number;
  repositories: RepositoryUsage[];
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

/** Storage accounting for the whole registry, or one repository with its images. */
export async function usageReport(ctx: RegistryContext, repo?: RepoName): Promise<UsageReport> {
  const q = new UsageQueries(ctx.meta.db);
  const stored = await q.storedBytes();
  const all = await q.repositories();
  const report: UsageReport = { storedBytes: stored.bytes, storedObjects: stored.count, logicalBytes: 0, repositories: [] };
  for (const r of all) {
    const manifests = await q.manifests(r.id);
    const summary = await repositoryUsage(q, r.id, r.name, manifests);
    report.logicalBytes += summary.logicalBytes;
    if (repo !== undefined && r.name !== repo) continue;
    if (repo !== undefined) summary.images = imageUsage(manifests);
    report.repositories.push(summary);
  }
  if (repo !== undefined && report.repositories.length === 0) throw unknownRepository(repo);
  return report;
}

/** What deleting a manifest (by tag or digest) would free once GC has run. */
export async function whatIfDelete(ctx: RegistryContext, repo: RepoName, ref: ManifestRef): Promise<WhatIfDelete> {
  const repoId = await ctx.repoId(repo);
  if (repoId === undefined) throw unknownRepository(repo);
  const digest = 'digest' in ref ? ref.digest : await resolveTag(ctx, repoId, ref.tag);
  const image = imageUsage(await new UsageQueries(ctx.meta.db).manifests(repoId)).find((i) => i.digest === digest);
  if (!image) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${digest} is not in repository "${repo}"`);
  const otherTags = 'tag' in ref ? image.tags.filter((t) => t !== ref.tag) : [];
  const note = otherTags.length
    ? `deleting only the tag frees nothing while tags ${otherTags.join(', ')} point at the same manifest; deleting ${digest} removes all of them`
    : `frees ${image.uniqueBytes} of its ${image.logicalBytes} bytes; the other ${image.sharedBytes} are still used by other images`;
  return { repository: repo, reference: 'tag' in ref ? ref.tag : digest, digest, tagsRemoved: image.tags, freedBytes: image.uniqueBytes, note };
}

async function repositoryUsage(q: UsageQueries, id: Parameters<UsageQueries['repository']>[0], name: string, manifests: ManifestUsageRow[]): Promise<RepositoryUsage> {
  const { storedBytes, uniqueBytes } = await q.repository(id);
  const pushed = manifests.map((m) => m.pushedAt);
  const pulled = manifests.flatMap((m) => (m.pulledAt === null ? [] : [m.pulledAt]));
  return {
    name,
    logicalBytes: manifests.reduce((n, m) => n + m.size + m.blobBytes, 0),
    storedBytes,
    uniqueBytes,
    sharedBytes: storedBytes - uniqueBytes,
    manifests: manifests.length,
    tags: manifests.reduce((n, m) => n + m.tags.length, 0),
    lastPushed: pushed.length ? iso(Math.max(...pushed)) : null,
    lastPulled: pulled.length ? iso(Math.max(...pulled)) : null,
  };
}

function imageUsage(manifests: ManifestUsageRow[]): ImageUsage[] {
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
      logicalBytes,
      uniqueBytes,
      sharedBytes: logicalBytes - uniqueBytes,
      lastPushed: iso(m.pushedAt),
      lastPulled: m.pulledAt === null ? null : iso(m.pulledAt),
    };
  });
}

const iso = (ms: number): string => new Date(ms).toISOString();

const unknownRepository = (repo: string) => new RegistryError('NAME_UNKNOWN', `repository "${repo}" is not known to this registry`);
