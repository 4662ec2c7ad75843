import type { Platform } from '../oci/descriptor.js';
import { isObject } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { parseManifest } from '../oci/manifest.js';
import type { RepoName } from '../oci/name.js';
import { BrowseQueries } from '../meta/browse-queries.js';
import { mayBeImage } from '../scan/scannable.js';
import type { ScanSummary } from '../scan/summary.js';
import { SignatureMediaType } from '../sign/media-types.js';
import { isAttachmentTag, signatureTag } from '../sign/tags.js';
import type { RegistryContext } from './context.js';
import { readAll } from './image-config.js';
import { readBlob } from './blobs.js';
import { loadManifest } from './manifests.js';
import { scanStates, type ScanState } from './scan-states.js';

/** A config bigger than this is not read just to learn an image's platform for a tag list. */
const PLATFORM_CONFIG_BYTES = 256 << 10;
const SIGNATURE_TYPES: ReadonlySet<string | null> = new Set([SignatureMediaType.bundleV03, SignatureMediaType.simpleSigning]);

export interface TagDetail {
  tag: string;
  digest: Digest;
  mediaType: string;
  artifactType: string | null;
  logicalBytes: number;
  pushedAt: string;
  pulledAt: string | null;
  /** An index's platforms, or an image's own (from its config); empty when unknown. */
  platforms: Platform[];
  /** Signatures attached (cosign's tag, Sigstore bundles, simple signatures); not verified here. */
  signatures: number;
  /** Other artifacts that name it as their subject (SBOMs, attestations). */
  referrers: number;
  /** A tag that names what is attached to a digest (`sha256-<hex>.sig`) rather than an image. */
  attachment: boolean;
  /** When the registry scans: the image's counts by severity (its findings are on the image page), or how far its scan got. */
  scan?: TagScan;
}

/** A scan state as a tag list shows it: counts, not the findings. */
export type TagScan = Exclude<ScanState, { state: 'scanned' }> | (Omit<Extract<ScanState, { state: 'scanned' }>, 'summary'> & { summary: Omit<ScanSummary, 'worst'> });

export interface TagDetailsInput {
  repo: string;
  tags: string[];
  /** Whether the registry scans (`scan:` in berth.yaml): only then do tags carry a scan state. */
  scans: boolean;
}

/**
 * A page of tags (named by the caller, already paginated) with what a tag
 * list shows of each. Reads each manifest, and small configs, from the
 * store: it runs in a worker thread.
 */
export async function tagDetails(ctx: RegistryContext, { repo, tags, scans }: TagDetailsInput): Promise<TagDetail[]> {
  const repoId = await ctx.requireRepo(repo as RepoName);
  const q = new BrowseQueries(ctx.meta.db);
  const rows = await q.tags(repoId, tags);
  const digests = [...new Set(rows.map((r) => r.digest))];
  const extension = await q.signatureCounts(repoId, digests);
  const referrers = await q.referrerTypes(repoId, digests);
  const cosignTags = new Set(await ctx.meta.db.selectFrom('tags').select('name').where('repository_id', '=', repoId).where('name', 'in', digests.map(signatureTag)).execute().then((r) => r.map((t) => t.name)));
  const platforms = new Map<string, Platform[]>();
  for (const d of digests) platforms.set(d, await platformsOf(ctx, repoId, d as Digest));
  const states = scans ? await scanStatesOf(ctx, rows) : undefined;
  return rows.map((r) => {
    const attached = referrers.get(r.digest) ?? [];
    const bundles = attached.filter((t) => SIGNATURE_TYPES.has(t)).length;
    return {
      tag: r.tag,
      digest: r.digest,
      mediaType: r.mediaType,
      artifactType: r.artifactType,
      logicalBytes: r.logicalBytes,
      pushedAt: new Date(r.pushedAt).toISOString(),
      pulledAt: r.pulledAt === null ? null : new Date(r.pulledAt).toISOString(),
      platforms: platforms.get(r.digest) ?? [],
      signatures: (extension.get(r.digest) ?? 0) + bundles + (cosignTags.has(signatureTag(r.digest)) ? 1 : 0),
      referrers: attached.length - bundles,
      attachment: isAttachmentTag(r.tag),
      ...(states ? { scan: states.get(r.digest as Digest)! } : {}),
    };
  });
}

async function platformsOf(ctx: RegistryContext, repoId: Parameters<typeof loadManifest>[1], digest: Digest): Promise<Platform[]> {
  const m = await loadManifest(ctx, repoId, digest);
  if (!m) return [];
  const facts = parseManifest(m.bytes, m.row.mediaType);
  if (facts.manifests.length) return facts.manifests.flatMap((d) => (d.platform && d.platform.os !== 'unknown' ? [d.platform] : []));
  const config = facts.config;
  if (!config) return [];
  const size = (await new BrowseQueries(ctx.meta.db).blobSizes([config.digest])).get(config.digest);
  if (size === undefined || size > PLATFORM_CONFIG_BYTES) return [];
  try {
    const json: unknown = JSON.parse((await readAll(await readBlob(ctx, { digest: config.digest, size }))).toString('utf8'));
    if (isObject(json) && typeof json.os === 'string' && typeof json.architecture === 'string') {
      return [{ os: json.os, architecture: json.architecture, ...(typeof json.variant === 'string' ? { variant: json.variant } : {}) }];
    }
  } catch {
    // Not JSON: an artifact's config. It has no platform.
  }
  return [];
}

/** One lookup for the page's images (attachment tags and artifacts are not scanned), without the findings. */
async function scanStatesOf(ctx: RegistryContext, rows: { tag: string; digest: string; mediaType: string; artifactType: string | null }[]): Promise<Map<Digest, TagScan>> {
  const image = (r: (typeof rows)[number]) => !isAttachmentTag(r.tag) && mayBeImage({ ...r, subject: null });
  const digests = (keep: boolean) => [...new Set(rows.filter((r) => image(r) === keep).map((r) => r.digest as Digest))];
  const states = await scanStates(ctx.meta.db, digests(true), digests(false));
  return new Map([...states].map(([d, s]) => [d, countsOnly(s)]));
}

function countsOnly(s: ScanState): TagScan {
  if (s.state !== 'scanned') return s;
  const { worst: _findings, ...counts } = s.summary;
  return { ...s, summary: counts };
}
