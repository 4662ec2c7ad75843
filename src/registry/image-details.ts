import type { Descriptor, Platform } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { RegistryError } from '../oci/errors.js';
import { parseManifest } from '../oci/manifest.js';
import type { RepoName } from '../oci/name.js';
import { BrowseQueries, type Holder } from '../meta/browse-queries.js';
import type { RepoId } from '../meta/metadata.js';
import { isScannableImage } from '../scan/scannable.js';
import { COSIGN_TAG_SUFFIXES } from '../sign/media-types.js';
import { digestTag } from '../sign/tags.js';
import type { RegistryContext } from './context.js';
import { configSummary, type ConfigSummary } from './image-config.js';
import { loadManifest } from './manifests.js';
import { listReferrers } from './referrers.js';
import { scanStates, type ScanState } from './scan-states.js';

/** Manifests sharing a layer looked at, per layer: the caller shows those it may see. */
const HOLDERS_PER_LAYER = 100;
const MAX_CHILDREN = 500;
const MAX_REFERRERS = 200;
const REFERRER_DEPTH = 3;
/** Annotation values longer than this are cut (the raw manifest has them whole). */
const ANNOTATION_CHARS = 2000;
const MAX_ANNOTATIONS = 200;

export interface LayerDetail {
  digest: Digest;
  mediaType: string;
  size: number;
  /** Non-distributable layers live elsewhere. */
  urls?: string[];
  annotations?: Record<string, string>;
  /** Other manifests (here or in other repositories) naming this layer, unfiltered: the API shows only those the caller may pull. */
  holders: Holder[];
}

export interface ReferrerNode {
  digest: Digest;
  mediaType: string;
  artifactType?: string;
  size: number;
  /** How it is attached: by `subject` (the referrers API) or by a cosign tag such as `sha256-<hex>.sig`. */
  via: 'subject' | 'tag';
  tag?: string;
  referrers: ReferrerNode[];
}

export interface ImageDetails {
  repository: string;
  digest: Digest;
  mediaType: string;
  artifactType: string | null;
  size: number;
  subject: Digest | null;
  tags: string[];
  pushedAt: string;
  annotations?: Record<string, string>;
  config?: ConfigSummary;
  layers: { total: number; offset: number; items: LayerDetail[] };
  /** An index's children. */
  manifests?: { digest: Digest; mediaType: string; size: number; platform?: Platform; artifactType?: string }[];
  manifestsTotal?: number;
  referrers: ReferrerNode[];
  /** When the registry scans: the stored summary (counts, the worst findings, secrets redacted), or how far the scan got. */
  scan?: ScanState;
}

export interface ImageDetailsInput {
  repo: string;
  digest: Digest;
  layerOffset: number;
  layerLimit: number;
  scans: boolean;
}

/** Everything the image page shows of one manifest. Parses up to a 4 MiB manifest and reads its config: it runs in a worker thread. */
export async function imageDetails(ctx: RegistryContext, input: ImageDetailsInput): Promise<ImageDetails> {
  const repo = input.repo as RepoName;
  const repoId = await ctx.requireRepo(repo);
  const m = await loadManifest(ctx, repoId, input.digest);
  if (!m) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${input.digest} is not in repository "${repo}"`, { detail: { digest: input.digest } });
  const facts = parseManifest(m.bytes, m.row.mediaType);
  const q = new BrowseQueries(ctx.meta.db);
  const row = (await ctx.meta.db.selectFrom('manifests').select('pushed_at').where('repository_id', '=', repoId).where('digest', '=', input.digest).executeTakeFirst())!;
  const page = facts.layers.slice(input.layerOffset, input.layerOffset + input.layerLimit);
  const sizes = await q.blobSizes([...page.map((l) => l.digest), ...(facts.config ? [facts.config.digest] : [])]);
  const items: LayerDetail[] = [];
  for (const l of page) items.push({ ...layerFacts(l, sizes.get(l.digest)), holders: await q.holders(l.digest, { repositoryId: repoId, digest: input.digest }, HOLDERS_PER_LAYER) });
  const details: ImageDetails = {
    repository: repo,
    digest: input.digest,
    mediaType: m.row.mediaType,
    artifactType: m.row.artifactType,
    size: m.row.size,
    subject: m.row.subject,
    tags: await q.tagsOf(repoId, input.digest),
    pushedAt: new Date(Number(row.pushed_at)).toISOString(),
    layers: { total: facts.layers.length, offset: input.layerOffset, items },
    referrers: await referrerTree(ctx, repo, repoId, input.digest, REFERRER_DEPTH, { left: MAX_REFERRERS }),
  };
  if (input.scans) details.scan = await scanStateOf(ctx, input.digest, isScannableImage(m.bytes, m.row.mediaType));
  if (facts.annotations) details.annotations = trimmed(facts.annotations);
  if (facts.config) details.config = await configSummary(ctx, facts.config, sizes.get(facts.config.digest));
  if (facts.manifests.length) {
    details.manifestsTotal = facts.manifests.length;
    details.manifests = facts.manifests.slice(0, MAX_CHILDREN).map((d) => ({
      digest: d.digest,
      mediaType: d.mediaType,
      size: d.size,
      ...(d.platform ? { platform: d.platform } : {}),
      ...(d.artifactType ? { artifactType: d.artifactType } : {}),
    }));
  }
  return details;
}

function layerFacts(l: Descriptor, indexedSize: number | undefined): Omit<LayerDetail, 'holders'> {
  return {
    digest: l.digest,
    mediaType: l.mediaType,
    size: indexedSize ?? l.size,
    ...(l.urls?.length ? { urls: l.urls } : {}),
    ...(l.annotations ? { annotations: trimmed(l.annotations) } : {}),
  };
}

function trimmed(a: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(a)
      .slice(0, MAX_ANNOTATIONS)
      .map(([k, v]) => [k.slice(0, ANNOTATION_CHARS), v.length > ANNOTATION_CHARS ? `${v.slice(0, ANNOTATION_CHARS)}… (${v.length} characters)` : v]),
  );
}

/** Referrers by subject and cosign's tags, and theirs in turn, at most `budget.left` nodes in all. */
async function referrerTree(ctx: RegistryContext, repo: RepoName, repoId: RepoId, subject: Digest, depth: number, budget: { left: number }): Promise<ReferrerNode[]> {
  if (depth === 0 || budget.left <= 0) return [];
  const nodes: ReferrerNode[] = [];
  for (const suffix of COSIGN_TAG_SUFFIXES) {
    const tag = `${digestTag(subject)}${suffix}`;
    const digest = await ctx.meta.resolveTag(repoId, tag);
    const row = digest && (await ctx.meta.manifest(repoId, digest));
    if (!row || budget.left <= 0) continue;
    budget.left--;
    nodes.push({ digest: row.digest, mediaType: row.mediaType, ...(row.artifactType ? { artifactType: row.artifactType } : {}), size: row.size, via: 'tag', tag, referrers: [] });
  }
  const { index } = await listReferrers(ctx, repo, subject, undefined, undefined);
  for (const d of index.manifests) {
    if (budget.left <= 0 || !d.digest) break;
    budget.left--;
    nodes.push({
      digest: d.digest,
      mediaType: d.mediaType ?? '',
      ...(d.artifactType ? { artifactType: d.artifactType } : {}),
      size: d.size ?? 0,
      via: 'subject',
      referrers: await referrerTree(ctx, repo, repoId, d.digest, depth - 1, budget),
    });
  }
  return nodes;
}

async function scanStateOf(ctx: RegistryContext, digest: Digest, image: boolean): Promise<ScanState> {
  return (await scanStates(ctx.meta.db, image ? [digest] : [], image ? [] : [digest])).get(digest)!;
}
