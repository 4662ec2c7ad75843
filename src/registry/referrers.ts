import { algorithmOf, hexOf, isDigest, type Digest } from '../oci/digest.js';
import { isObject, type Descriptor } from '../oci/descriptor.js';
import { RegistryError } from '../oci/errors.js';
import { MediaType } from '../oci/mediatypes.js';
import type { RepoName } from '../oci/name.js';
import type { ReferrerCursor, ReferrerRow, RepoId } from '../meta/metadata.js';
import type { RegistryContext } from './context.js';
import { loadManifest } from './manifests.js';

export interface ReferrersIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: Partial<Descriptor>[];
}

export interface ReferrersPage {
  index: ReferrersIndex;
  filtered: boolean;
  /** Opaque: pass as `last` for the next page. */
  next?: string;
}

/** What a descriptor costs in the answer beside its annotations (digest, media types, JSON punctuation). */
const DESCRIPTOR_BYTES = 300;

/**
 * One page of the referrers of `subject`: manifests pushed with that
 * `subject`, plus (first page only) those older clients listed in the
 * referrers tag (`<alg>-<hex>`) index. A page holds at most
 * `maxListEntries` descriptors and about `maxManifestBytes` of JSON (each
 * referrer's annotations can be megabytes; at least one is always given), so
 * no subject, however many referrers it has, makes one answer unbounded.
 */
export async function listReferrers(
  ctx: RegistryContext,
  repo: RepoName,
  subject: Digest,
  artifactType: string | undefined,
  last: string | undefined,
): Promise<ReferrersPage> {
  const filtered = artifactType !== undefined;
  const after = last === undefined ? undefined : parseCursor(last);
  const repoId = await ctx.repoId(repo);
  if (repoId === undefined) return { index: emptyIndex(), filtered };
  const { maxListEntries, maxManifestBytes } = ctx.limits;
  const rows = await ctx.meta.referrers(repoId, subject, { ...(filtered ? { artifactType } : {}), ...(after ? { after } : {}), limit: maxListEntries + 1 });
  const page = fitPage(rows, maxListEntries, maxManifestBytes);
  const annotations = await ctx.meta.annotations(repoId, page.filter((r) => r.annotationChars > 0).map((r) => r.digest));
  const manifests: Partial<Descriptor>[] = page.map((r) => {
    const d: Partial<Descriptor> = { mediaType: r.mediaType, digest: r.digest, size: r.size };
    if (r.artifactType) d.artifactType = r.artifactType;
    const a = annotations.get(r.digest);
    if (a) d.annotations = a;
    return d;
  });
  if (after === undefined) manifests.push(...(await fallbackTagEntries(ctx, repoId, subject, artifactType)));
  const index = { schemaVersion: 2 as const, mediaType: MediaType.ociIndex, manifests };
  const end = page[page.length - 1];
  return page.length < rows.length && end ? { index, filtered, next: cursorOf(end) } : { index, filtered };
}

/** The longest prefix of `rows` within the entry and byte budgets, never empty when there are rows. */
function fitPage(rows: ReferrerRow[], maxEntries: number, maxBytes: number): ReferrerRow[] {
  let bytes = 0;
  let n = 0;
  while (n < rows.length && n < maxEntries) {
    const cost = DESCRIPTOR_BYTES + rows[n]!.annotationChars;
    if (n > 0 && bytes + cost > maxBytes) break;
    bytes += cost;
    n++;
  }
  return rows.slice(0, n);
}

/**
 * Entries of the referrers tag index that are not referrers Berth indexed
 * itself (every manifest pushed here with a `subject` is, and comes in the
 * pages above): so nothing appears twice across pages.
 */
async function fallbackTagEntries(ctx: RegistryContext, repoId: RepoId, subject: Digest, artifactType: string | undefined): Promise<Partial<Descriptor>[]> {
  const tag = `${algorithmOf(subject)}-${hexOf(subject)}`.slice(0, 128);
  const digest = await ctx.meta.resolveTag(repoId, tag);
  if (!digest) return [];
  const m = await loadManifest(ctx, repoId, digest);
  if (!m) return [];
  const json: unknown = JSON.parse(m.bytes.toString('utf8'));
  if (!isObject(json) || !Array.isArray(json.manifests)) return [];
  const out: Partial<Descriptor>[] = [];
  for (const d of json.manifests.slice(0, ctx.limits.maxListEntries)) {
    if (!isObject(d) || typeof d.digest !== 'string' || !isDigest(d.digest)) continue;
    if (artifactType !== undefined && d.artifactType !== artifactType) continue;
    if ((await ctx.meta.manifest(repoId, d.digest))?.subject === subject) continue;
    out.push(d as Partial<Descriptor>);
  }
  return out;
}

const emptyIndex = (): ReferrersIndex => ({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] });

const cursorOf = (r: ReferrerRow): string => Buffer.from(`${r.createdAt}.${r.digest}`).toString('base64url');

function parseCursor(value: string): ReferrerCursor {
  const text = Buffer.from(value, 'base64url').toString('utf8');
  const dot = text.indexOf('.');
  const createdAt = Number(text.slice(0, dot));
  const digest = text.slice(dot + 1);
  if (dot <= 0 || !Number.isSafeInteger(createdAt) || !isDigest(digest)) {
    throw new RegistryError('UNSUPPORTED', 'invalid "last": pass the value from the Link header of the previous page', { status: 400 });
  }
  return { createdAt, digest };
}
