import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Digest } from '../oci/digest.js';
import { MediaType } from '../oci/mediatypes.js';
import type { Database } from './schema.js';

/** How big a registry to seed. */
export interface SeedShape {
  /** Repositories of one image each (tag `latest`), besides the tags repository. */
  repositories: number;
  /** Tags in one repository (`seed/tags`), each on an image of its own. */
  tags: number;
  /** About how many blobs (layers, configs, manifests) in all; a tenth of them garbage. */
  blobs: number;
}

/** Content to store under its digest before the registry serves it. */
export interface SeedContent {
  digest: Digest;
  bytes: Buffer;
}

export interface SeedOptions {
  /** When every row was pushed: older than GC's grace period, so what is garbage is collectable now. */
  at: number;
  /** Stores the bytes of each blob and manifest (the bench: a store without fsync). Called with at most `BATCH` items at once. */
  store: (items: SeedContent[]) => Promise<void>;
}

export interface SeedReport {
  repositories: number;
  tags: number;
  blobs: number;
  manifests: number;
  /** Blobs only a stale link holds: what a GC run removes. */
  garbage: number;
}

export const SEED_TAGS_REPOSITORY = 'seed/tags';
export const seedRepositoryName = (i: number): string => `seed/r${String(i).padStart(7, '0')}`;

/** Rows per INSERT and repositories per transaction: well under SQLite's 32766 bound variables and PostgreSQL's 65535. */
const BATCH = 500;
const GARBAGE_SHARE = 0.1;

/**
 * Seeds the metadata index (and, through `store`, the bytes) with what many
 * pushes would have left, in bulk: multi-row INSERTs through Kysely, one
 * transaction per batch of repositories, so a million blobs take a minute
 * rather than the hours a million uploads would. For benchmarks of how cost
 * grows with the registry (bench/scale/); the shape is a push's:
 *
 * - each repository `seed/rNNNNNNN` holds one image (config and layers,
 *   linked, referenced by a manifest tagged `latest`, one tag history row);
 *   every image's first layer is a base shared by a hundred repositories;
 * - `seed/tags` holds `tags` images, one per tag, sharing one config;
 * - a tenth of the blobs are garbage: linked by a stale upload into some
 *   repository, named by no manifest, so GC sweeps the link and the blob.
 *
 * Digests are the SHA-256 of the stored bytes, so fsck finds nothing wrong.
 * The database must be migrated and hold no `seed/` repository yet.
 */
export async function seedRegistry(db: Kysely<Database>, shape: SeedShape, opts: SeedOptions): Promise<SeedReport> {
  const report: SeedReport = { repositories: 0, tags: 0, blobs: 0, manifests: 0, garbage: 0 };
  for (const batch of seedPlan(shape)) await writeImages(db, batch, opts, report);
  return report;
}

/**
 * What `seedRegistry` writes, in batches of repositories (the tags repository
 * comes last, a batch of tags at a time): the same registry for any backend,
 * so the scale bench can lay out Distribution's storage with the very images
 * Berth's index holds.
 */
export function* seedPlan(shape: SeedShape): Iterable<SeedImages[]> {
  const garbage = Math.floor(shape.blobs * GARBAGE_SHARE);
  // An image's own blobs are its manifest, config and layers but the shared base; the bases and the tags repository are few beside them.
  const layers = Math.max(1, Math.round((shape.blobs - garbage - 2 * shape.tags) / Math.max(1, shape.repositories)) - 1);
  let images: SeedImages[] = [];
  for (let i = 0; i < shape.repositories; i++) {
    const base = blob(`base ${Math.floor(i / 100)}`);
    const own = Array.from({ length: layers - 1 }, (_, k) => blob(`layer ${i}.${k}`));
    // Garbage goes into the same repositories, spread evenly.
    const stale = Array.from({ length: Math.floor(((i + 1) * garbage) / shape.repositories) - Math.floor((i * garbage) / shape.repositories) }, (_, k) => blob(`garbage ${i}.${k}`));
    images.push({ repository: seedRepositoryName(i), tags: [{ tag: 'latest', image: image(blob(`config ${i}`), [base, ...own]) }], stale });
    if (images.length === BATCH) {
      yield images;
      images = [];
    }
  }
  if (images.length) yield images;
  const config = blob('config tags');
  for (let t = 0; t < shape.tags; t += BATCH) {
    const tagged = Array.from({ length: Math.min(BATCH, shape.tags - t) }, (_, k) => ({ tag: `v${String(t + k).padStart(6, '0')}`, image: image(config, [blob(`tag layer ${t + k}`)]) }));
    yield [{ repository: SEED_TAGS_REPOSITORY, tags: tagged, stale: [] }];
  }
}

export interface SeedImage {
  config: SeedContent;
  layers: SeedContent[];
  manifest: SeedContent;
}

/** One repository's share of a batch: its tagged images, and the garbage (blobs linked by a stale upload, named by no manifest). */
export interface SeedImages {
  repository: string;
  tags: { tag: string; image: SeedImage }[];
  stale: SeedContent[];
}

function blob(seed: string): SeedContent {
  const bytes = Buffer.from(`berth seed ${seed}\n`);
  return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest, bytes };
}

function image(config: SeedContent, layers: SeedContent[]): SeedImage {
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.bytes.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.bytes.length })),
    }),
  );
  return { config, layers, manifest: { digest: `sha256:${createHash('sha256').update(manifest).digest('hex')}` as Digest, bytes: manifest } };
}

/** One transaction for a batch of images: their bytes first (nothing serves them before the commit), then every row. */
async function writeImages(db: Kysely<Database>, specs: SeedImages[], opts: SeedOptions, report: SeedReport): Promise<void> {
  if (specs.length === 0) return;
  const content = new Map<Digest, SeedContent>();
  for (const s of specs) {
    for (const c of [...s.tags.flatMap(({ image: i }) => [i.config, ...i.layers, i.manifest]), ...s.stale]) content.set(c.digest, c);
  }
  const all = [...content.values()];
  for (let i = 0; i < all.length; i += BATCH) await opts.store(all.slice(i, i + BATCH));
  const at = opts.at;
  await db.transaction().execute(async (trx) => {
    const names = [...new Set(specs.map((s) => s.repository))];
    const created = await trx.insertInto('repositories').values(names.map((name) => ({ name, created_at: at }))).onConflict((oc) => oc.column('name').doNothing()).executeTakeFirst();
    report.repositories += Number(created.numInsertedOrUpdatedRows ?? 0);
    const ids = new Map((await trx.selectFrom('repositories').select(['id', 'name']).where('name', 'in', names).execute()).map((r) => [r.name, Number(r.id)]));
    /** Resolves to the rows inserted: a blob shared with an earlier batch is there already. */
    const insert = async <T extends keyof Database>(table: T, rows: object[]) => {
      let inserted = 0;
      for (let i = 0; i < rows.length; i += BATCH) {
        const r = await trx.insertInto(table).values(rows.slice(i, i + BATCH) as never).onConflict((oc) => oc.doNothing()).executeTakeFirst();
        inserted += Number(r.numInsertedOrUpdatedRows ?? 0);
      }
      return inserted;
    };
    report.blobs += await insert('blobs', all.map((c) => ({ digest: c.digest, size: c.bytes.length, created_at: at, linked_at: at })));
    const links: object[] = [];
    const manifests: object[] = [];
    const refs: object[] = [];
    const tags: object[] = [];
    const history: object[] = [];
    for (const s of specs) {
      const repository_id = ids.get(s.repository)!;
      const linked = new Set<Digest>();
      for (const { tag, image: i } of s.tags) {
        for (const b of [i.config, ...i.layers]) {
          if (!linked.has(b.digest)) links.push({ repository_id, digest: b.digest, created_at: at, last_access_at: at });
          linked.add(b.digest);
          refs.push({ repository_id, manifest_digest: i.manifest.digest, ref_digest: b.digest, kind: 'blob' });
        }
        manifests.push({ repository_id, digest: i.manifest.digest, media_type: MediaType.ociManifest, size: i.manifest.bytes.length, artifact_type: null, subject: null, created_at: at, pushed_at: at });
        tags.push({ repository_id, name: tag, digest: i.manifest.digest, updated_at: at });
        history.push({ repository_id, tag, old_digest: null, new_digest: i.manifest.digest, at, actor: 'seed' });
      }
      for (const g of s.stale) links.push({ repository_id, digest: g.digest, created_at: at, last_access_at: at });
      report.garbage += s.stale.length;
      report.tags += s.tags.length;
    }
    await insert('repository_blobs', links);
    await insert('manifests', manifests);
    await insert('manifest_refs', refs);
    await insert('tags', tags);
    await insert('tag_history', history);
    report.manifests += manifests.length;
  });
}
