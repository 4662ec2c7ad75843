import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ScanQueries, type ScanHead } from '../meta/scan-queries.js';
import { isObject, type Platform } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { RegistryError } from '../oci/errors.js';
import { parseManifest } from '../oci/manifest.js';
import { isIndexType } from '../oci/mediatypes.js';
import type { RepoName } from '../oci/name.js';
import { isScannableImage } from '../scan/scannable.js';
import type { RegistryContext } from './context.js';
import { loadManifest } from './manifests.js';
import { scanJobsOf } from './scan-on-push.js';
import { scanProgress } from './scan-progress.js';

/** An index's children as the scan API lists them: each with its summary once scanned. */
export interface IndexScans {
  repository: RepoName;
  digest: Digest;
  mediaType: string;
  manifests: { digest: Digest; mediaType: string; platform?: Platform; scannedAt?: string; summary?: unknown }[];
  /** More children than a page lists (limits.maxListEntries). */
  truncated: boolean;
}

/**
 * `GET /berth/v1/repositories/NAME/manifests/DIGEST/scan`: for an image, its
 * last scan as one JSON document streamed from what is kept (summary,
 * report with vulnerabilities and redacted secrets, CycloneDX SBOM, the
 * database's times), never parsed or re-serialised here; for an index, its
 * children and their summaries. 404 while there is no result, saying why
 * (queued, running, failed, not an image). The digest must be in the
 * repository: a result is kept per digest, and must not be reachable through
 * a repository that does not hold it.
 */
export async function scanReport(ctx: RegistryContext, repo: RepoName, digest: Digest): Promise<Readable | IndexScans> {
  const jobs = scanJobsOf(ctx);
  if (!jobs) throw new RegistryError('UNSUPPORTED', 'this registry does not scan images (scan: in berth.yaml turns it on)', { status: 404 });
  const repoId = await ctx.requireRepo(repo);
  const manifest = await loadManifest(ctx, repoId, digest);
  if (!manifest) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${digest} is not in repository "${repo}"`, { detail: { digest } });
  const q = new ScanQueries(ctx.meta.db);
  if (isIndexType(manifest.row.mediaType)) return indexScans(ctx, q, repo, digest, manifest.row.mediaType, manifest.bytes);
  const result = await q.full(digest);
  if (!result) {
    if (!isScannableImage(manifest.bytes, manifest.row.mediaType)) {
      throw new RegistryError('MANIFEST_UNKNOWN', `${repo}@${digest} is not an image (a signature, an SBOM or another artifact): only images are scanned`, { detail: { digest, scan: { state: 'not-an-image' } } });
    }
    const progress = await scanProgress(jobs, digest);
    throw new RegistryError('MANIFEST_UNKNOWN', `${repo}@${digest} has not been scanned yet: ${progress.text}`, { detail: { digest, scan: progress } });
  }
  const progress = await scanProgress(jobs, digest);
  const head = {
    repository: repo,
    digest,
    mediaType: manifest.row.mediaType,
    ...times(result),
    // A rescan waiting or running (a newer database, or a push of the digest elsewhere).
    ...(progress.state === 'none' ? {} : { rescan: progress }),
  };
  const prefix = `${JSON.stringify(head).slice(0, -1)},"summary":${result.summary},"report":`;
  const { report, sbom } = result;
  return Readable.from(
    (async function* () {
      yield Buffer.from(prefix);
      yield* gunzipped(report);
      yield Buffer.from(',"sbom":');
      if (sbom) yield* gunzipped(sbom);
      else yield Buffer.from('null');
      yield Buffer.from('}');
    })(),
  );
}

async function indexScans(ctx: RegistryContext, q: ScanQueries, repo: RepoName, digest: Digest, mediaType: string, bytes: Buffer): Promise<IndexScans> {
  const children = parseManifest(bytes, mediaType).manifests;
  const page = children.slice(0, ctx.limits.maxListEntries);
  const heads = await q.heads(page.map((c) => c.digest));
  return {
    repository: repo,
    digest,
    mediaType,
    manifests: page.map((c) => {
      const head = heads.get(c.digest);
      return {
        digest: c.digest,
        mediaType: c.mediaType,
        ...(c.platform && isObject(c.platform) ? { platform: c.platform } : {}),
        ...(head ? { scannedAt: new Date(head.scannedAt).toISOString(), summary: JSON.parse(head.summary) as unknown } : {}),
      };
    }),
    truncated: children.length > page.length,
  };
}

function times(h: ScanHead): { scannedAt: string; database: { updatedAt: string | null; changedAt: string | null } } {
  const iso = (t: number | null) => (t ? new Date(t).toISOString() : null);
  return { scannedAt: new Date(h.scannedAt).toISOString(), database: { updatedAt: iso(h.dbUpdatedAt), changedAt: iso(h.dbVersion) } };
}

async function* gunzipped(bytes: Buffer): AsyncGenerator<Buffer> {
  for await (const chunk of Readable.from([bytes]).pipe(createGunzip())) yield chunk as Buffer;
}
