import { createHash } from 'node:crypto';
import { migrate, openSqlite } from '../../src/meta/database.js';

const digestOf = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/**
 * Fills a registry's SQLite index in bulk, as if `repos` repositories each
 * held one image of `blobsPerRepo` layers: blobs, links, a manifest and its
 * references, a tag. Only the index is written (no bytes), which is all that
 * accounting, listings and GC marking read; half of each image's layers are
 * shared with the next repository's.
 */
export async function seedIndex(dbPath: string, repos: number, blobsPerRepo: number): Promise<void> {
  const meta = openSqlite(dbPath);
  await migrate(meta);
  const now = Date.now();
  await meta.db.transaction().execute(async (trx) => {
    for (let r = 0; r < repos; r++) {
      const name = `seed/repo-${String(r).padStart(5, '0')}`;
      const { id } = await trx.insertInto('repositories').values({ name, created_at: now }).returning('id').executeTakeFirstOrThrow();
      const layers = Array.from({ length: blobsPerRepo }, (_, i) => digestOf(`layer ${i < blobsPerRepo / 2 ? r : r + 1}-${i}`));
      const manifest = digestOf(`manifest ${r}`);
      const blobs = [...layers.map((d) => ({ digest: d, size: 1000 + (r % 7) })), { digest: manifest, size: 500 }];
      for (let i = 0; i < blobs.length; i += 400) {
        await trx.insertInto('blobs').values(blobs.slice(i, i + 400).map((b) => ({ ...b, created_at: now, linked_at: now }))).onConflict((oc) => oc.column('digest').doNothing()).execute();
        await trx.insertInto('repository_blobs').values(blobs.slice(i, i + 400).map((b) => ({ repository_id: id, digest: b.digest, created_at: now, last_access_at: now }))).execute();
      }
      await trx.insertInto('manifests').values({ repository_id: id, digest: manifest, media_type: 'application/vnd.oci.image.manifest.v1+json', size: 500, artifact_type: null, subject: null, created_at: now, pushed_at: now }).execute();
      for (let i = 0; i < layers.length; i += 400) {
        await trx.insertInto('manifest_refs').values(layers.slice(i, i + 400).map((d) => ({ repository_id: id, manifest_digest: manifest, ref_digest: d, kind: 'blob' as const }))).execute();
      }
      await trx.insertInto('tags').values({ repository_id: id, name: 'latest', digest: manifest, updated_at: now }).execute();
    }
  });
  await meta.close();
}
